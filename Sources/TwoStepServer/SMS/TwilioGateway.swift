public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOHTTP1

/// Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with a form body
/// (`To`, `From`, `Body`) and HTTP basic authentication (account SID and auth token).
public struct TwilioGateway: SMSGateway {
    public struct Credentials: Sendable {
        public var accountSID: String
        public var authToken: String
        /// A Twilio number (`+1…`) or a messaging service SID (`MG…`).
        public var from: String

        public init(accountSID: String, authToken: String, from: String) {
            self.accountSID = accountSID
            self.authToken = authToken
            self.from = from
        }
    }

    let credentials: Credentials
    let baseURL: String
    let client: HTTPClient
    let timeout: TimeAmount

    /// - Parameter baseURL: Twilio's API by default; tests point it at a local server.
    public init(
        credentials: Credentials,
        baseURL: String = "https://api.twilio.com",
        client: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(10)
    ) {
        self.credentials = credentials
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.client = client
        self.timeout = timeout
    }

    public func send(_ message: SMSMessage) async throws(SMSGatewayError) {
        let sid = credentials.accountSID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        var request = HTTPClientRequest(url: "\(baseURL)/2010-04-01/Accounts/\(sid)/Messages.json")
        request.method = .POST
        request.setBasicAuth(username: credentials.accountSID, password: credentials.authToken)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let fromField = credentials.from.hasPrefix("MG") ? "MessagingServiceSid" : "From"
        let form = [("To", message.to), (fromField, credentials.from), ("Body", message.body)]
            .map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))

        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw SMSGatewayError(.unavailable, "Twilio could not be reached: \(error)")
        }
        switch response.status.code {
        case 200..<300:
            return
        case 400..<500:
            // Twilio's error body: {"code": 21211, "message": "...", "more_info": "...", "status": 400}
            let error = try? JSONDecoder().decode(TwilioError.self, from: Data(body.readableBytesView))
            throw SMSGatewayError(
                .rejected,
                providerCode: error?.code.map(String.init),
                "Twilio refused the message (\(response.status.code)\(error?.code.map { ", error \($0)" } ?? "")): \(error?.message.map { RemoteText.quoted($0, recipient: message.to) } ?? "no details")"
            )
        default:
            throw SMSGatewayError(.unavailable, "Twilio failed with \(response.status.code)")
        }
    }

    private struct TwilioError: Decodable {
        let code: Int?
        let message: String?
    }

    /// application/x-www-form-urlencoded: unreserved characters stay, space is `+`, the rest `%XX`.
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._* ")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(of: " ", with: "+")
    }
}
