import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import TwoStepServer

/// The outbox and the webhook (the SMTP client has its own suite).
@Suite("Mail transports")
struct MailTransportTests {
    static let message = MailMessage(
        to: MailAddress("ann@example.com")!,
        subject: "Reset your password",
        text: "Open http://127.0.0.1:8080/reset?token=abc to choose a new password.",
        html: "<p>Open the link.</p>",
        purpose: .passwordReset
    )

    @Test func theOutboxAppendsJSONLinesReadableByTheServersUserOnly() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mail-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outbox = MailOutbox(path: path)
        try await outbox.send(Self.message)
        try await outbox.send(Self.message)
        #expect(try await outbox.messages().map(\.message) == [Self.message, Self.message])
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    /// A reader that meets a line still being written gets the messages before it, not an error.
    @Test func aLineStillBeingWrittenIsLeftForTheNextRead() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mail-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outbox = MailOutbox(path: path)
        try await outbox.send(Self.message)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"message":{"to":"#.utf8))
        #expect(try await outbox.messages().map(\.message) == [Self.message])
        try handle.close()
    }

    @Test func theWebhookSignsTheMessageLikeTheSMSWebhook() async throws {
        try await SMSGatewayTests.withProvider([.status(.ok, "{}")]) { base, received in
            try await MailWebhook(url: base + "/mail", secret: "shh", now: { Date(timeIntervalSince1970: 1_764_403_200) }).send(Self.message)
            let request = try #require(received.value.first)
            #expect(request.headers[HTTPField.Name("X-TwoStep-Timestamp")!] == "1764403200")
            let body = Data(request.body.utf8)
            let expected = WebhookGateway.signature(timestamp: 1_764_403_200, body: body, secret: SymmetricKey(data: Array("shh".utf8)))
            #expect(request.headers[HTTPField.Name("X-TwoStep-Signature")!] == expected)
            let json = try JSONSerialization.jsonObject(with: body) as? [String: String]
            #expect(json?["to"] == "ann@example.com")
            #expect(json?["subject"] == "Reset your password")
            #expect(json?["purpose"] == "password_reset")
            #expect(json?["html"] == "<p>Open the link.</p>")
        }
    }

    /// The timeout is long because a timeout is retried too: on a starved host, a 5 s one counted a
    /// slow 400 twice.
    @Test func theWebhookRetries5xxButNot4xx() async throws {
        try await SMSGatewayTests.withProvider([.status(.badGateway, ""), .status(.ok, "")]) { base, received in
            try await MailWebhook(url: base + "/mail", secret: "s", timeout: .seconds(60), backoff: .milliseconds(10)).send(Self.message)
            #expect(received.value.count == 2)
        }
        try await SMSGatewayTests.withProvider([.status(.badRequest, "")]) { base, received in
            let error = await #expect(throws: MailTransportError.self) {
                try await MailWebhook(url: base + "/mail", secret: "s", timeout: .seconds(60)).send(Self.message)
            }
            #expect(error?.kind == .rejected)
            #expect(received.value.count == 1)
        }
    }

    @Test func theMailboxPageIsServedOnlyWhenAskedAndOnlyLocally() async throws {
        let off = try await TestServer.make()
        try await off.runLive { client in
            let page = try await client.execute(uri: "/dev/mailbox", method: .get)
            #expect(page.status == .notFound)
        }
        let on = try await TestServer.make { $0.devOutbox = true }
        try await MailOutbox(path: on.configuration.mailOutboxPath).send(Self.message)
        try await on.runLive { client in
            let page = try await client.execute(uri: "/dev/mailbox", method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("href=\"http://127.0.0.1:8080/reset?token=abc\""))
            let proxied = try await client.execute(uri: "/dev/mailbox", method: .get, headers: [.xForwardedFor: "203.0.113.9"])
            #expect(proxied.status == .notFound, "a client behind a proxy is not on this machine")
        }
    }
}
