/// Base64url without padding (RFC 4648 §5), as WebAuthn encodes challenges, credential ids and
/// every binary member of its JSON forms, and as sealed values hold their bytes; strict, so one
/// value has exactly one encoding.
public enum Base64URL {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String { bytes.base64URLEncoded() }

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()

    /// The bytes, or `nil` for anything but canonical unpadded base64url.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // A final group of 1 symbol cannot occur, and unused low bits must be zero.
        guard bits < 6, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
