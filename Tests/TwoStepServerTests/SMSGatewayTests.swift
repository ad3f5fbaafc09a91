import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TwoStepCore

@testable import TwoStepServer

/// The gateways against real HTTP servers on 127.0.0.1 that behave like the providers.
@Suite("SMS gateways")
struct SMSGatewayTests {
    struct Received: Sendable {
        var path: String
        var headers: HTTPFields
        var body: String
    }

    /// What the fake provider answers, request by request; the last answer repeats.
    enum Answer: Sendable {
        case status(HTTPResponse.Status, String)
        case hang(Duration)
    }

    /// Runs a fake provider on a free port and gives `body` its base URL and what it received.
    static func withProvider(
        _ answers: [Answer],
        _ body: @Sendable (_ baseURL: String, _ received: Locked<[Received]>) async throws -> Void
    ) async throws {
        let received = Locked<[Received]>([])
        let router = Router()
        router.post("**") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 16)
            let index = received.withValue { list -> Int in
                list.append(Received(path: request.uri.path, headers: request.headers, body: String(buffer: buffer)))
                return list.count - 1
            }
            switch answers[min(index, answers.count - 1)] {
            case .status(let status, let text):
                return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
            case .hang(let duration):
                try await Task.sleep(for: duration)
                return Response(status: .ok)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)", received)
        }
    }

    static let message = SMSMessage(to: PhoneNumber("+31612345612")!, body: "Your TwoStep code is 123456 & more", purpose: .signIn)
    static let credentials = TwilioGateway.Credentials(accountSID: "AC0123456789abcdef", authToken: "s3cret-token", from: "+15005550006")

    @Test func twilioRequestShape() async throws {
        try await Self.withProvider([.status(.created, #"{"sid": "SM1", "status": "queued"}"#)]) { base, received in
            try await TwilioGateway(credentials: Self.credentials, baseURL: base).send(Self.message)
            let request = try #require(received.value.first)
            #expect(request.path == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json")
            let expected = "Basic " + Data("AC0123456789abcdef:s3cret-token".utf8).base64EncodedString()
            #expect(request.headers[.authorization] == expected)
            #expect(request.headers[.contentType] == "application/x-www-form-urlencoded")
            #expect(request.body == "To=%2B31612345612&From=%2B15005550006&Body=Your+TwoStep+code+is+123456+%26+more")
        }
    }

    @Test func twilioMessagingServiceSID() async throws {
        try await Self.withProvider([.status(.created, "{}")]) { base, received in
            var credentials = Self.credentials
            credentials.from = "MG0123"
            try await TwilioGateway(credentials: credentials, baseURL: base + "/").send(Self.message)
            #expect(received.value.first?.body.contains("MessagingServiceSid=MG0123") == true)
        }
    }

    @Test func twilioErrorsAreMapped() async throws {
        let refusal =
            #"{"code": 21211, "message": "The 'To' number +31612345612 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#
        try await Self.withProvider([.status(.badRequest, refusal)]) { base, _ in
            await #expect {
                try await TwilioGateway(credentials: Self.credentials, baseURL: base).send(Self.message)
            } throws: { error in
                let error = error as! SMSGatewayError
                return error.kind == .rejected && error.providerCode == "21211" && !error.description.contains("s3cret")
                    && error.description.hasSuffix("The 'To' number <recipient> is not a valid phone number.")
            }
        }
        try await Self.withProvider([.status(.internalServerError, "oops")]) { base, _ in
            await #expect { try await TwilioGateway(credentials: Self.credentials, baseURL: base).send(Self.message) } throws: {
                ($0 as! SMSGatewayError).kind == .unavailable
            }
        }
        try await Self.withProvider([.hang(.seconds(5))]) { base, _ in
            let gateway = TwilioGateway(credentials: Self.credentials, baseURL: base, timeout: .milliseconds(300))
            await #expect { try await gateway.send(Self.message) } throws: { ($0 as! SMSGatewayError).kind == .unavailable }
        }
        // Nothing listening at all.
        let closed = TwilioGateway(credentials: Self.credentials, baseURL: "http://127.0.0.1:9", timeout: .seconds(2))
        await #expect { try await closed.send(Self.message) } throws: { ($0 as! SMSGatewayError).kind == .unavailable }
    }

    @Test func webhookSignsItsBody() async throws {
        let moment = Date(timeIntervalSince1970: 1_800_000_000)
        try await Self.withProvider([.status(.noContent, "")]) { base, received in
            try await WebhookGateway(url: base + "/sms", secret: "shared secret", now: { moment }).send(Self.message)
            let request = try #require(received.value.first)
            #expect(request.path == "/sms")
            #expect(request.headers[.contentType] == "application/json")
            #expect(request.headers[HTTPField.Name("X-TwoStep-Timestamp")!] == "1800000000")
            let decoded = try JSONDecoder().decode(SMSMessage.self, from: Data(request.body.utf8))
            #expect(decoded == Self.message)
            // The receiver's check, written independently of the gateway.
            let mac = HMAC<SHA256>.authenticationCode(
                for: Data("1800000000.\(request.body)".utf8),
                using: SymmetricKey(data: Data("shared secret".utf8))
            )
            let hex = mac.map { String(format: "%02x", $0) }.joined()
            #expect(request.headers[HTTPField.Name("X-TwoStep-Signature")!] == "v1=" + hex)
        }
    }

    /// Exact counts take a long timeout: a timeout is retried too, so a slow answer on a starved host
    /// would be counted twice.
    @Test func webhookRetriesServerErrorsButNotRefusals() async throws {
        @Sendable func gateway(_ base: String) -> WebhookGateway {
            WebhookGateway(url: base + "/sms", secret: "s", timeout: .seconds(60), retries: 2, backoff: .milliseconds(10))
        }
        try await Self.withProvider([.status(.serviceUnavailable, ""), .status(.badGateway, ""), .status(.ok, "")]) { base, received in
            try await gateway(base).send(Self.message)
            #expect(received.value.count == 3)
        }
        try await Self.withProvider([.status(.serviceUnavailable, "")]) { base, received in
            await #expect { try await gateway(base).send(Self.message) } throws: { ($0 as! SMSGatewayError).kind == .unavailable }
            #expect(received.value.count == 3, "bounded: one try and two retries")
        }
        try await Self.withProvider([.status(.unprocessableContent, "")]) { base, received in
            await #expect { try await gateway(base).send(Self.message) } throws: { ($0 as! SMSGatewayError).kind == .rejected }
            #expect(received.value.count == 1, "a refusal is final")
        }
        try await Self.withProvider([.hang(.seconds(5)), .status(.ok, "")]) { base, received in
            try await WebhookGateway(url: base + "/sms", secret: "s", timeout: .seconds(1), backoff: .milliseconds(10)).send(Self.message)
            #expect(received.value.count >= 2, "a timeout is retried")
        }
    }

    @Test func outboxAppendsJSONLines() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outbox = OutboxGateway(path: path)
        try await outbox.send(Self.message)
        try await outbox.send(SMSMessage(to: PhoneNumber("+14155552671")!, body: "second", purpose: .recoveryPhone))
        let messages = try await outbox.messages()
        #expect(messages.map(\.message) == [Self.message, SMSMessage(to: PhoneNumber("+14155552671")!, body: "second", purpose: .recoveryPhone)])
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 2)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        let broken = OutboxGateway(path: "/nonexistent-dir/outbox.jsonl")
        await #expect { try await broken.send(Self.message) } throws: { ($0 as! SMSGatewayError).kind == .unavailable }
    }
}
