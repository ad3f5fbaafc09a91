import Crypto
public import Foundation

/// The HMAC hash an OTP key is used with (RFC 6238 §1.2 allows SHA-1, SHA-256 and SHA-512).
public enum OTPAlgorithm: String, Sendable, CaseIterable, Codable {
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha512 = "SHA512"
}

/// An HMAC-based one-time password generator (RFC 4226) over a binary secret.
///
/// The HMAC is keyed once, when the generator is made, so each code costs one HMAC of the
/// 8-byte counter: this is what keeps the server's check path cheap.
public struct HOTP: Sendable {
    /// The hash used in the HMAC.
    public let algorithm: OTPAlgorithm
    /// How many decimal digits a code has (6 to 8).
    public let digits: Int
    private let mac: KeyedMAC
    private let modulus: UInt32

    /// The code lengths accepted: RFC 4226 §5.3 requires at least 6; more than 8 exceeds what the
    /// 31-bit truncated value can carry evenly and what authenticator apps display.
    public static let supportedDigits = 6...8

    /// Makes a generator.
    /// - Parameters:
    ///   - secret: The shared secret as raw bytes (not base32).
    ///   - algorithm: The HMAC hash; SHA-1 is what authenticator apps honour.
    ///   - digits: The code length, 6 to 8.
    /// - Throws: ``OTPError`` for an empty secret or an unsupported code length.
    public init(secret: some DataProtocol, algorithm: OTPAlgorithm = .sha1, digits: Int = 6) throws(OTPError) {
        guard !secret.isEmpty else { throw .emptySecret }
        guard Self.supportedDigits.contains(digits) else { throw .unsupportedDigits }
        let key = SymmetricKey(data: Array(secret))
        self.algorithm = algorithm
        self.digits = digits
        self.modulus = [1_000_000, 10_000_000, 100_000_000][digits - 6]
        switch algorithm {
        case .sha1: self.mac = .sha1(HMAC(key: key))
        case .sha256: self.mac = .sha256(HMAC(key: key))
        case .sha512: self.mac = .sha512(HMAC(key: key))
        }
    }

    /// The code for a counter value, zero-padded to ``digits``.
    public func code(counter: UInt64) -> String {
        Self.format(value(counter: counter), digits: digits)
    }

    /// The code for a counter value as a number (RFC 4226 §5.3: dynamic truncation, then modulo 10^digits).
    public func value(counter: UInt64) -> UInt32 {
        mac.truncatedValue(counter: counter) % modulus
    }

    /// Parses what a person typed as a code of this length: ASCII digits, spaces ignored ("123 456").
    /// - Returns: The code's value, or `nil` when it is not exactly ``digits`` digits.
    public func parse(_ input: String) -> UInt32? {
        var value: UInt32 = 0
        var count = 0
        for byte in input.utf8 where byte != UInt8(ascii: " ") {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < digits else { return nil }
            value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
            count += 1
        }
        return count == digits ? value : nil
    }

    static func format(_ value: UInt32, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// An HMAC keyed with the OTP secret; copied (not re-keyed) for every code.
private enum KeyedMAC: Sendable {
    case sha1(HMAC<Insecure.SHA1>)
    case sha256(HMAC<SHA256>)
    case sha512(HMAC<SHA512>)

    func truncatedValue(counter: UInt64) -> UInt32 {
        switch self {
        case .sha1(let mac): Self.truncate(mac, counter: counter)
        case .sha256(let mac): Self.truncate(mac, counter: counter)
        case .sha512(let mac): Self.truncate(mac, counter: counter)
        }
    }

    /// RFC 4226 §5.3 dynamic truncation: the low 4 bits of the last byte pick an offset; the 31 bits
    /// from there are the value. RFC 6238's reference code applies the same rule to SHA-256/512.
    private static func truncate<H: HashFunction>(_ keyed: HMAC<H>, counter: UInt64) -> UInt32 {
        var mac = keyed
        withUnsafeBytes(of: counter.bigEndian) { mac.update(data: $0) }
        return mac.finalize().withUnsafeBytes { digest in
            let offset = Int(digest[digest.count - 1] & 0x0F)
            return (UInt32(digest[offset] & 0x7F) << 24) | (UInt32(digest[offset + 1]) << 16)
                | (UInt32(digest[offset + 2]) << 8) | UInt32(digest[offset + 3])
        }
    }
}

/// Why an OTP generator cannot be made.
public struct OTPError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case emptySecret
        case unsupportedDigits
        case unsupportedPeriod
    }

    private let kind: Kind

    /// The secret has no bytes.
    public static let emptySecret = OTPError(kind: .emptySecret)
    /// The code length is outside 6...8.
    public static let unsupportedDigits = OTPError(kind: .unsupportedDigits)
    /// The TOTP period is not a positive number of seconds.
    public static let unsupportedPeriod = OTPError(kind: .unsupportedPeriod)

    public var description: String {
        switch kind {
        case .emptySecret: "the secret is empty"
        case .unsupportedDigits: "codes must have 6, 7 or 8 digits"
        case .unsupportedPeriod: "the period must be a positive number of seconds"
        }
    }
}
