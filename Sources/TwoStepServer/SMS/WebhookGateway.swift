public import AsyncHTTPClient
import Crypto
public import Foundation
public import NIOCore
import NIOHTTP1
import TwoStepCore

/// Sends each message as JSON to a URL of the operator's (their own SMS service, a queue):
///
///     POST <url>
///     Content-Type: application/json
///     X-TwoStep-Timestamp: 1764403200
///     X-TwoStep-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the shared secret>
///
///     {"to": "+31612345612", "body": "Your TwoStep code is 123456", "purpose": "sign_in"}
///
/// The receiver recomputes the signature over the raw body and refuses a mismatch or a timestamp
/// more than five minutes old (replays). Any 2xx is success; 5xx, timeouts and connection errors
/// are retried with a short backoff; 4xx is final.
public struct WebhookGateway: SMSGateway {
    let url: String
    let secret: SymmetricKey
    let client: HTTPClient
    let timeout: TimeAmount
    /// Attempts after the first one, for failures that may pass.
    let retries: Int
    let backoff: Duration
    let now: @Sendable () -> Date

    public init(
        url: String,
        secret: String,
        client: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(5),
        retries: Int = 2,
        backoff: Duration = .milliseconds(200),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.url = url
        self.secret = SymmetricKey(data: Array(secret.utf8))
        self.client = client
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.now = now
    }

    /// `v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"`.
    static func signature(timestamp: Int, body: Data, secret: SymmetricKey) -> String {
        var mac = HMAC<SHA256>(key: secret)
        mac.update(data: Array("\(timestamp).".utf8))
        mac.update(data: body)
        return "v1=" + mac.finalize().hexEncoded()
    }

    public func send(_ message: SMSMessage) async throws(SMSGatewayError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body: Data
        do { body = try encoder.encode(message) } catch { throw SMSGatewayError(.rejected, "the message cannot be encoded") }
        try await post(body)
    }

    /// Posts a signed JSON body, retrying what may pass (the mail webhook shares this).
    func post(_ body: Data) async throws(SMSGatewayError) {
        var lastError = SMSGatewayError(.unavailable, "the webhook was not called")
        for attempt in 0...max(0, retries) {
            if attempt > 0 { try? await Task.sleep(for: backoff * (1 << (attempt - 1))) }
            let timestamp = Int(now().timeIntervalSince1970)
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-TwoStep-Timestamp", value: String(timestamp))
            request.headers.add(name: "X-TwoStep-Signature", value: Self.signature(timestamp: timestamp, body: body, secret: secret))
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await client.execute(request, timeout: timeout)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                switch response.status.code {
                case 200..<300: return
                case 400..<500:
                    throw SMSGatewayError(
                        .rejected,
                        providerCode: String(response.status.code),
                        "the webhook refused the message (\(response.status.code))"
                    )
                default:
                    lastError = SMSGatewayError(
                        .unavailable,
                        providerCode: String(response.status.code),
                        "the webhook failed with \(response.status.code)"
                    )
                }
            } catch let error as SMSGatewayError {
                throw error
            } catch {
                lastError = SMSGatewayError(.unavailable, "the webhook could not be reached: \(error)")
            }
        }
        throw lastError
    }
}
