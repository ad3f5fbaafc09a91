/// Comparisons whose running time does not depend on where two secrets differ, so an attacker
/// timing responses cannot learn a code or token byte by byte (OWASP MFA cheat sheet; SPEC §2).
public enum ConstantTime {
    /// Compares two byte sequences. Only the lengths, which are not secret, may end it early.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) {
            difference |= left ^ right
        }
        return difference == 0
    }

    /// Compares two strings by their UTF-8 bytes.
    public static func equals(_ lhs: String, _ rhs: String) -> Bool {
        equals(lhs.utf8, rhs.utf8)
    }

    /// Compares two code values without a data-dependent branch.
    @inline(__always)
    public static func equals(_ lhs: UInt32, _ rhs: UInt32) -> Bool {
        (lhs ^ rhs) == 0
    }
}
