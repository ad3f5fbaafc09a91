/// A single-use recovery code: 10 characters from a 32-letter alphabet (50 bits from the system
/// CSPRNG), shown as `k7dpx-3mq2a`.
///
/// The alphabet leaves out 0, 1, l and o, which people misread on paper, so every printed
/// character is unambiguous; what people type back is normalised (case, spaces, dashes).
public struct RecoveryCode: Hashable, Sendable, CustomStringConvertible {
    private static let alphabet = Array("23456789abcdefghijkmnpqrstuvwxyz".utf8)
    private static let length = 10
    /// How many codes a set has (SPEC F9).
    public static let setSize = 10

    /// The code's 10 characters, lower case, without the dash: what is hashed and compared.
    public let normalized: String

    /// Normalises typed input. Returns `nil` when it cannot be a recovery code (wrong length or a
    /// character outside the alphabet), so no hashing is spent on it.
    public init?(_ input: String) {
        var characters: [UInt8] = []
        for byte in input.lowercased().utf8 where byte != UInt8(ascii: "-") && byte != UInt8(ascii: " ") {
            guard Self.alphabet.contains(byte), characters.count < Self.length else { return nil }
            characters.append(byte)
        }
        guard characters.count == Self.length else { return nil }
        normalized = String(decoding: characters, as: UTF8.self)
    }

    /// A new code drawn from the system CSPRNG; each byte's low 5 bits pick a letter (256 is a
    /// multiple of 32, so there is no modulo bias).
    public static func generate() -> RecoveryCode {
        let letters = SecureRandom.bytes(length).map { alphabet[Int($0 & 0x1F)] }
        return RecoveryCode(String(decoding: letters, as: UTF8.self))!
    }

    /// A new set of ``setSize`` distinct codes.
    public static func generateSet() -> [RecoveryCode] {
        var codes: [RecoveryCode] = []
        while codes.count < setSize {
            let code = generate()
            if !codes.contains(code) { codes.append(code) }
        }
        return codes
    }

    /// `xxxxx-xxxxx`: two groups are easier to copy by hand.
    public var description: String {
        String(normalized.prefix(5)) + "-" + String(normalized.suffix(5))
    }

    /// The salted scrypt hash stored for checking the code later.
    public func hashed(with hasher: SecretHasher = .recoveryCodes) -> String {
        hasher.hash(normalized)
    }

    /// The index of the first stored hash this code matches, if any.
    public func firstMatch(in hashes: [String], hasher: SecretHasher = .recoveryCodes) -> Int? {
        hashes.firstIndex { hasher.verify(normalized, against: $0) }
    }
}
