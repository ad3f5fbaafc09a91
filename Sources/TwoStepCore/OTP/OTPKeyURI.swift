/// An `otpauth://` key URI in the Google Authenticator key-URI format: what an enrolment QR code holds.
///
/// `otpauth://totp/ACME%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co`
public struct OTPKeyURI: Equatable, Sendable, CustomStringConvertible {
    /// Whether codes follow time or a counter.
    public enum Kind: Equatable, Sendable {
        case totp(period: Int)
        case hotp(counter: UInt64)
    }

    public var kind: Kind
    /// The shared secret as raw bytes.
    public var secret: [UInt8]
    /// The account the key belongs to, usually an e-mail address.
    public var account: String
    /// Who issued the key; apps show it above the code and group keys by it.
    public var issuer: String?
    public var algorithm: OTPAlgorithm
    public var digits: Int

    public init(
        kind: Kind = .totp(period: 30),
        secret: [UInt8],
        account: String,
        issuer: String?,
        algorithm: OTPAlgorithm = .sha1,
        digits: Int = 6
    ) {
        self.kind = kind
        self.secret = secret
        self.account = account
        self.issuer = issuer
        self.algorithm = algorithm
        self.digits = digits
    }

    /// The URI text. The label is `Issuer:account` with each part percent-encoded, and `issuer=` is
    /// repeated as a parameter, as the key-URI format recommends; parameters at their default
    /// (SHA1, 6 digits, 30 s) are left out, which keeps the QR code small.
    public var description: String {
        let label = (issuer.map { Self.percentEncode($0) + ":" } ?? "") + Self.percentEncode(account)
        var query = ["secret=" + Base32.encode(secret, padding: false)]
        if let issuer { query.append("issuer=" + Self.percentEncode(issuer)) }
        if algorithm != .sha1 { query.append("algorithm=" + algorithm.rawValue) }
        if digits != 6 { query.append("digits=\(digits)") }
        switch kind {
        case .totp(let period):
            if period != 30 { query.append("period=\(period)") }
            return "otpauth://totp/\(label)?" + query.joined(separator: "&")
        case .hotp(let counter):
            query.append("counter=\(counter)")
            return "otpauth://hotp/\(label)?" + query.joined(separator: "&")
        }
    }

    /// Parses a key URI as authenticator apps do, refusing anything they would misread.
    /// - Throws: ``OTPKeyURIError`` naming what is wrong.
    public init(parsing text: String) throws(OTPKeyURIError) {
        let prefix = "otpauth://"
        guard text.count > prefix.count, text.prefix(prefix.count).lowercased() == prefix else { throw .notOTPAuth }
        let rest = text.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else { throw .notOTPAuth }
        let type = rest[..<slash].lowercased()
        let afterType = rest[rest.index(after: slash)...]
        let rawLabel = afterType.prefix { $0 != "?" }
        let rawQuery = afterType.dropFirst(rawLabel.count + 1)

        var parameters: [String: String] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.percentDecode(parts[0], plusIsSpace: true).lowercased()
            let value = try Self.percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            guard parameters[name] == nil else { throw .invalidParameter(name) }
            parameters[name] = value
        }

        // The label's issuer prefix is separated by a literal colon; one encoded as %3A is accepted
        // too when it agrees with the issuer parameter (the format allows either).
        var labelIssuer: String?
        var account: String
        if let colon = rawLabel.firstIndex(of: ":") {
            labelIssuer = try Self.percentDecode(rawLabel[..<colon], plusIsSpace: false)
            account = try Self.percentDecode(rawLabel[rawLabel.index(after: colon)...], plusIsSpace: false)
        } else {
            account = try Self.percentDecode(rawLabel, plusIsSpace: false)
            if let issuer = parameters["issuer"], account.hasPrefix(issuer + ":") {
                labelIssuer = issuer
                account.removeFirst(issuer.count + 1)
            }
        }
        account = account.trimmingSpaces()
        labelIssuer = labelIssuer?.trimmingSpaces()
        if let labelIssuer, let issuer = parameters["issuer"], labelIssuer != issuer { throw .issuerMismatch }

        guard let encodedSecret = parameters["secret"], !encodedSecret.isEmpty else { throw .missingSecret }
        let secret: [UInt8]
        do { secret = try Base32.decode(encodedSecret) } catch { throw .invalidSecret }
        guard !secret.isEmpty else { throw .missingSecret }

        var algorithm = OTPAlgorithm.sha1
        if let name = parameters["algorithm"] {
            guard let known = OTPAlgorithm(rawValue: name.uppercased()) else { throw .invalidParameter("algorithm") }
            algorithm = known
        }
        var digits = 6
        if let text = parameters["digits"] {
            guard let value = Int(text), HOTP.supportedDigits.contains(value) else { throw .invalidParameter("digits") }
            digits = value
        }

        let kind: Kind
        switch type {
        case "totp":
            var period = 30
            if let text = parameters["period"] {
                guard let value = Int(text), value > 0 else { throw .invalidParameter("period") }
                period = value
            }
            kind = .totp(period: period)
        case "hotp":
            guard let text = parameters["counter"] else { throw .missingCounter }
            guard let counter = UInt64(text) else { throw .invalidParameter("counter") }
            kind = .hotp(counter: counter)
        default:
            throw .unsupportedType
        }
        self.init(
            kind: kind,
            secret: secret,
            account: account,
            issuer: parameters["issuer"] ?? labelIssuer,
            algorithm: algorithm,
            digits: digits
        )
    }

    /// RFC 3986 unreserved characters stay; every other byte (including `@`, space, `:`, `&` and
    /// each byte of non-ASCII UTF-8) becomes `%XX`.
    static func percentEncode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return output
    }

    static func percentDecode(_ text: Substring, plusIsSpace: Bool) throws(OTPKeyURIError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
                else { throw .invalidEncoding }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .invalidEncoding }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a text is not a usable `otpauth://` key URI.
public struct OTPKeyURIError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case notOTPAuth, unsupportedType, missingSecret, invalidSecret, missingCounter, issuerMismatch, invalidEncoding
        case invalidParameter(String)
    }

    private let kind: Kind

    /// Not of the form `otpauth://TYPE/LABEL?…`.
    public static let notOTPAuth = Self(kind: .notOTPAuth)
    /// The type is neither `totp` nor `hotp`.
    public static let unsupportedType = Self(kind: .unsupportedType)
    /// No `secret=` parameter, or an empty one.
    public static let missingSecret = Self(kind: .missingSecret)
    /// The secret is not base32.
    public static let invalidSecret = Self(kind: .invalidSecret)
    /// An `hotp` URI without `counter=`.
    public static let missingCounter = Self(kind: .missingCounter)
    /// The label's issuer prefix and the `issuer=` parameter differ.
    public static let issuerMismatch = Self(kind: .issuerMismatch)
    /// A bad `%` escape or bytes that are not UTF-8.
    public static let invalidEncoding = Self(kind: .invalidEncoding)
    /// A parameter with a value apps cannot use, or given twice.
    public static func invalidParameter(_ name: String) -> Self { Self(kind: .invalidParameter(name)) }

    public var description: String {
        switch kind {
        case .notOTPAuth: "not an otpauth:// key URI"
        case .unsupportedType: "the key type must be totp or hotp"
        case .missingSecret: "the key URI has no secret"
        case .invalidSecret: "the key URI's secret is not base32"
        case .missingCounter: "an hotp key URI needs a counter"
        case .issuerMismatch: "the label's issuer and the issuer parameter differ"
        case .invalidEncoding: "the key URI has a bad percent-encoding or is not UTF-8"
        case .invalidParameter(let name): "the key URI's \(name) parameter is invalid or repeated"
        }
    }
}
