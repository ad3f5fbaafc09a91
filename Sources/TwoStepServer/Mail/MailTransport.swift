/// Delivers e-mail: `MailOutbox` (development), `SMTPTransport`, `MailWebhook`.
public protocol MailTransport: Sendable {
    /// Hands the message over for delivery.
    /// - Throws: ``MailTransportError``: `rejected` when the server refuses this message for good
    ///   (a 5xx reply: retrying will not help), `unavailable` when it could not be reached, timed
    ///   out, answered garbage or asked to try later.
    func send(_ message: MailMessage) async throws(MailTransportError)
}

/// A failed delivery. The description says what went wrong and never holds the message body, a
/// token or a credential: it is logged and shown to the person who asked for the message.
public struct MailTransportError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// Refused for good (SMTP 5xx, webhook 4xx): do not retry.
        case rejected
        /// Could not be reached, timed out, broke the protocol or asked to try later: try again later.
        case unavailable
    }

    public let kind: Kind
    /// The SMTP reply code or HTTP status, when there was one.
    public let code: Int?
    public let description: String

    public init(_ kind: Kind, code: Int? = nil, _ description: String) {
        self.kind = kind
        self.code = code
        self.description = description
    }
}
