import Crypto

/// A bearer secret for a cookie or an API: 256 bits from the CSPRNG, base64url without padding.
/// Only its SHA-256 is stored, so a database dump yields nothing to present.
public enum RandomToken {
    /// A new token (43 characters, cookie- and URL-safe).
    public static func generate() -> String {
        SecureRandom.bytes(32).base64URLEncoded()
    }

    /// The stored form of a token: lower-case hex SHA-256. A token this long needs no salt or
    /// slow hash (NIST SP 800-63B §5.1.2.2: ≥ 112 bits of entropy may use a plain one-way function).
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension Sequence<UInt8> {
    /// RFC 4648 §5 base64url, no padding.
    func base64URLEncoded() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in self {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(6 - bits)) & 0x3F)]) }
        return String(decoding: output, as: UTF8.self)
    }
}
