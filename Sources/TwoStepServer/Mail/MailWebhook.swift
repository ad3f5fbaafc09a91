public import AsyncHTTPClient
public import Foundation
public import NIOCore

/// Sends each message as JSON to a URL of the operator's (their own mail service, a queue), signed
/// exactly like the SMS webhook (`WebhookGateway`):
///
///     POST <url>
///     Content-Type: application/json
///     X-TwoStep-Timestamp: 1764403200
///     X-TwoStep-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the shared secret>
///
///     {"html": "…", "purpose": "password_reset", "subject": "…", "text": "…", "to": "ann@example.com"}
///
/// Any 2xx is success; 5xx, timeouts and connection errors are retried with a short backoff; 4xx is final.
public struct MailWebhook: MailTransport {
    let gateway: WebhookGateway

    public init(
        url: String,
        secret: String,
        client: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(5),
        retries: Int = 2,
        backoff: Duration = .milliseconds(200),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        gateway = WebhookGateway(url: url, secret: secret, client: client, timeout: timeout, retries: retries, backoff: backoff, now: now)
    }

    public func send(_ message: MailMessage) async throws(MailTransportError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body: Data
        do { body = try encoder.encode(message) } catch { throw MailTransportError(.rejected, "the message cannot be encoded") }
        do {
            try await gateway.post(body)
        } catch {
            throw MailTransportError(
                error.kind == .rejected ? .rejected : .unavailable,
                code: error.providerCode.flatMap { Int($0) },
                error.description
            )
        }
    }
}
