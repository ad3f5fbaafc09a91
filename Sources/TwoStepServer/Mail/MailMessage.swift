public import Foundation

/// Why a message is sent; transports may route or template by it.
public enum MailPurpose: String, Sendable, Codable {
    case addressVerification = "address_verification"
    case passwordReset = "password_reset"
    case securityAlert = "security_alert"
    /// The old address hears that the account moved to another one.
    case addressChanged = "address_changed"
}

/// An address mail goes to or comes from. Header injection is impossible by construction: only a
/// normalised address (`EmailAddress`) without any character that ends or splits a header line or
/// an SMTP command (CR, LF, controls, spaces, `<`, `>`, `,`, `;`, `:`, quotes, brackets, `\`) can
/// be made, also when decoded from JSON.
public struct MailAddress: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public let address: String

    public init?(_ text: String) {
        guard let normalized = EmailAddress.normalized(text),
            normalized.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && !Self.forbidden.contains($0) })
        else { return nil }
        address = normalized
    }

    private static let forbidden = Set("<>()[],;:\\\"".unicodeScalars)

    /// Whether the server must offer SMTPUTF8 for it (RFC 6531).
    var isASCII: Bool { address.utf8.allSatisfy { $0 < 0x80 } }

    public var description: String { address }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = MailAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a mail address"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(address)
    }
}

/// One line of text for a header (a subject, a display name): every control, format or line
/// separator character becomes a space when it is made, so a name, address or user agent with
/// CR/LF in it can never start a header of its own (header injection). At most 150 characters.
public struct HeaderText: Sendable, Equatable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let text: String

    public init(_ raw: String) {
        let cleaned = String(
            String.UnicodeScalarView(
                raw.unicodeScalars.map { scalar -> Unicode.Scalar in
                    switch scalar.properties.generalCategory {
                    case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: " "
                    default: scalar
                    }
                }
            )
        )
        text = String(cleaned.trimmingCharacters(in: .whitespaces).prefix(150))
    }

    public init(stringLiteral value: String) { self.init(value) }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text }

    /// RFC 2047 encoded words (`=?UTF-8?B?…?=`), folded so no line passes 78 characters (RFC 5322
    /// §2.1.1): the header carries nothing but ASCII letters, digits, `+/=?-` and folding whitespace.
    var encodedWords: String {
        var words: [[UInt8]] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            // 45 bytes become 60 base64 characters: with `=?UTF-8?B?` and `?=` a word stays under 75.
            if chunk.count + bytes.count > 45 {
                words.append(chunk)
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }
}

/// One e-mail: a plain-text part and a simple HTML part with the same words (NIST SP 800-63B §4.6:
/// notifications an account holder can read anywhere). Never a code in the subject: subjects show
/// on lock screens and in mail lists.
public struct MailMessage: Sendable, Equatable, Codable {
    public var to: MailAddress
    public var subject: HeaderText
    public var text: String
    public var html: String
    public var purpose: MailPurpose

    public init(to: MailAddress, subject: HeaderText, text: String, html: String, purpose: MailPurpose) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.purpose = purpose
    }
}

extension MailMessage {
    /// The message as RFC 5322 text with MIME parts (RFC 2045/2046), lines ending in CRLF. Every
    /// header value is either a checked `MailAddress` or RFC 2047 encoded `HeaderText`, and both
    /// bodies are base64, so nothing a user typed reaches the header block or starts an SMTP line.
    /// - Parameters:
    ///   - fromName: The issuer name shown as the sender.
    func rendered(from: MailAddress, fromName: HeaderText, date: Date, messageID: String, boundary: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        func base64(_ text: String) -> String {
            let encoded = Data(text.utf8).base64EncodedString()
            var lines: [Substring] = []
            var rest = Substring(encoded)
            while !rest.isEmpty {
                lines.append(rest.prefix(76))
                rest = rest.dropFirst(76)
            }
            return lines.joined(separator: "\r\n")
        }
        let lines = [
            "From: \(fromName.encodedWords) <\(from.address)>",
            "To: <\(to.address)>",
            "Subject: \(subject.encodedWords)",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(messageID)@\(from.address.split(separator: "@").last ?? "localhost")>",
            // RFC 3834: an automatic message; vacation responders must not answer it.
            "Auto-Submitted: auto-generated",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            base64(text),
            "--\(boundary)",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            base64(html),
            "--\(boundary)--",
        ]
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
