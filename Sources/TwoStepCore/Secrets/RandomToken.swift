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
        SHA256.hash(data: Array(token.utf8)).hexEncoded()
    }
}

extension Sequence<UInt8> {
    /// Lower-case hex, two digits a byte. By table: `String(format: "%02x")` per byte cost 5 % of
    /// the validate path's CPU in request ids (issue 19).
    public func hexEncoded() -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

extension Sequence<UInt8> {
    /// RFC 4648 §5 base64url, no padding.
    func base64URLEncoded() -> String {
        String(decoding: symbols(bitsPerSymbol: 6, alphabet: base64URLAlphabet), as: UTF8.self)
    }
}

private let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
