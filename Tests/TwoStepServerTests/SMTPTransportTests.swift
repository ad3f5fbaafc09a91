import Foundation
import NIOCore
import Testing

@testable import TwoStepServer

/// The SMTP client against a real SMTP server (aiosmtpd) on 127.0.0.1, with and without STARTTLS,
/// implicit TLS and AUTH, and against servers that refuse, stall, hang up or talk nonsense.
@Suite("SMTP transport", .enabled(if: TestSMTPServer.available))
struct SMTPTransportTests {
    static let from = MailAddress("twostep@example.com")!
    static let to = MailAddress("ann@example.com")!

    static func message(subject: String = "Confirm your e-mail address", to: MailAddress = to) -> MailMessage {
        MailMessage(
            to: to,
            subject: HeaderText(subject),
            text: "Hello Ann,\n.\nA line with only a dot, and ünïcödé.",
            html: "<p>Hello Ann,</p><p>ünïcödé</p>",
            purpose: .addressVerification
        )
    }

    static func configuration(
        port: Int,
        host: String = "127.0.0.1",
        security: SMTPConfiguration.Security = .none,
        username: String? = nil,
        password: String? = nil
    ) -> SMTPConfiguration {
        var configuration = SMTPConfiguration(host: host, port: port, security: security, from: from, username: username, password: password)
        configuration.fromName = "Example Portal"
        configuration.backoff = .milliseconds(20)
        // Budgets a starved 2-core host meets (the aiosmtpd server is a Python process sharing the
        // cores with the whole suite): with 0.8 s, a slow answer was retried and counts went wrong.
        // Only the test of a server that never answers waits on a short timeout.
        configuration.replyTimeout = .seconds(15)
        configuration.connectTimeout = .seconds(15)
        return configuration
    }

    static func withServer(
        _ arguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (TestSMTPServer) async throws -> Void
    ) async throws {
        let server = try TestSMTPServer(arguments, sourceLocation: sourceLocation)
        defer { server.stop() }
        try await body(server)
    }

    @Test func deliversBothPartsWithHeaders() async throws {
        try await Self.withServer { server in
            try await SMTPTransport(Self.configuration(port: server.port)).send(Self.message(subject: "Confirm your e-mail address – Ünïcode"))
            let messages = try server.messages()
            #expect(messages.count == 1)
            let received = try #require(messages.first)
            #expect(received["mail_from"] as? String == "twostep@example.com")
            #expect(received["rcpt_tos"] as? [String] == ["ann@example.com"])
            let headers = try #require(received["headers"] as? [String: String])
            #expect(headers["From"] == "Example Portal <twostep@example.com>")
            #expect(headers["To"] == "ann@example.com")
            #expect(headers["Subject"] == "Confirm your e-mail address – Ünïcode")
            #expect(headers["Auto-Submitted"] == "auto-generated")
            #expect(headers["MIME-Version"] == "1.0")
            #expect(headers["Date"] != nil)
            #expect(headers["Message-ID"]?.hasSuffix("@example.com>") == true)
            let parts = try #require(received["parts"] as? [String: String])
            #expect(
                parts["text/plain"] == "Hello Ann,\n.\nA line with only a dot, and ünïcödé.\n"
                    || parts["text/plain"] == "Hello Ann,\n.\nA line with only a dot, and ünïcödé."
            )
            #expect(parts["text/html"]?.contains("<p>ünïcödé</p>") == true)
        }
    }

    @Test func startTLSWithAuthPlainChecksTheCertificate() async throws {
        let directory = try TestSMTPServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cert, key) = try TestSMTPServer.certificate(in: directory)
        try await Self.withServer(["--starttls", cert, key, "--auth", "mailer:s3cret pass"]) { server in
            var configuration = Self.configuration(
                port: server.port,
                host: "localhost",
                security: .startTLS,
                username: "mailer",
                password: "s3cret pass"
            )
            configuration.caFile = cert
            try await SMTPTransport(configuration).send(Self.message())
            let received = try #require(try server.messages().first)
            #expect(received["tls"] as? Bool == true)
            #expect(received["auth"] as? Bool == true)
            #expect(received["login"] as? String == "mailer")

            // The same server, but its certificate is not trusted: nothing is sent, and not retried into success.
            let untrusted = Self.configuration(port: server.port, host: "localhost", security: .startTLS, username: "mailer", password: "s3cret pass")
            let error = await #expect(throws: MailTransportError.self) { try await SMTPTransport(untrusted).send(Self.message()) }
            #expect(error?.kind == .unavailable)
            let delivered = try server.messages()
            #expect(delivered.count == 1)

            // A wrong password: 535 is final, so exactly one try.
            var wrong = configuration
            wrong.password = "guess"
            let refusal = await #expect(throws: MailTransportError.self) { try await SMTPTransport(wrong).send(Self.message()) }
            #expect(refusal?.kind == .rejected, "\(refusal?.description ?? "")")
            #expect(refusal?.code == 535)
            #expect(refusal?.description.contains("guess") == false)
        }
    }

    @Test func implicitTLSWithAuthLogin() async throws {
        let directory = try TestSMTPServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cert, key) = try TestSMTPServer.certificate(in: directory)
        try await Self.withServer(["--tls", cert, key, "--auth", "mailer:pw", "--only-login"]) { server in
            var configuration = Self.configuration(port: server.port, host: "localhost", security: .tls, username: "mailer", password: "pw")
            configuration.caFile = cert
            try await SMTPTransport(configuration).send(Self.message())
            let received = try #require(try server.messages().first)
            #expect(received["tls"] as? Bool == true)
            #expect(received["auth"] as? Bool == true)
        }
    }

    /// A server (or a man in the middle) that does not offer STARTTLS gets nothing in the clear.
    @Test func aMissingSTARTTLSIsRefusedNotSkipped() async throws {
        let directory = try TestSMTPServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cert, _) = try TestSMTPServer.certificate(in: directory)
        try await Self.withServer { server in
            var configuration = Self.configuration(port: server.port, host: "localhost", security: .startTLS)
            configuration.caFile = cert
            let error = await #expect(throws: MailTransportError.self) { try await SMTPTransport(configuration).send(Self.message()) }
            #expect(error?.description.contains("STARTTLS") == true)
            let messages = try server.messages()
            #expect(messages.isEmpty)
        }
    }

    @Test func retriesA4xxWithBackoffThenDelivers() async throws {
        try await Self.withServer(["--tempfail", "2"]) { server in
            try await SMTPTransport(Self.configuration(port: server.port)).send(Self.message())
            let received = try server.received()
            #expect(received.count == 3)
            #expect(received.prefix(2).allSatisfy { $0["refused"] as? Int == 451 })
            let delivered = try server.messages()
            #expect(delivered.count == 1)
        }
    }

    @Test func givesUpAfterTheRetriesWithTheServersReason() async throws {
        try await Self.withServer(["--tempfail", "9"]) { server in
            let error = await #expect(throws: MailTransportError.self) {
                try await SMTPTransport(Self.configuration(port: server.port)).send(Self.message())
            }
            #expect(error?.kind == .unavailable)
            #expect(error?.code == 451)
            #expect(error?.description.contains("Try again later") == true)
            let received = try server.received()
            #expect(received.count == 3)
        }
    }

    @Test func neverRetriesA5xx() async throws {
        try await Self.withServer(["--reject"]) { server in
            let error = await #expect(throws: MailTransportError.self) {
                try await SMTPTransport(Self.configuration(port: server.port)).send(Self.message())
            }
            #expect(error?.kind == .rejected)
            #expect(error?.code == 550)
            #expect(error?.description.contains("550 5.1.1 <<address>>: Recipient address rejected") == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("@") == false, "the server's reply quoted the address")
            let received = try server.received()
            #expect(received.count == 1)
        }
    }

    static let brokenServers = [
        ("hang", "did not answer within 0.8 s"), ("close", "closed the connection early"), ("garbage", "answered garbage"),
        ("inject", "before the TLS handshake"),
    ]

    /// No wall-clock bound here: under the whole suite the cooperative pool is shared with tests that
    /// block it, so elapsed time measures the machine. The message names which guard fired.
    @Test(arguments: Self.brokenServers)
    func aBrokenServerFailsClearly(mode: String, expected: String) async throws {
        try await Self.withServer(["--mode", mode]) { server in
            var configuration = Self.configuration(port: server.port, host: "localhost", security: mode == "inject" ? .startTLS : .none)
            configuration.retries = 1
            if mode == "hang" { configuration.replyTimeout = .milliseconds(800) }
            let error = await #expect(throws: MailTransportError.self) { try await SMTPTransport(configuration).send(Self.message()) }
            #expect(error?.kind == .unavailable)
            #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
        }
    }

    @Test func nothingListeningIsUnavailable() async throws {
        var configuration = Self.configuration(port: 1)
        configuration.retries = 0
        let error = await #expect(throws: MailTransportError.self) { try await SMTPTransport(configuration).send(Self.message()) }
        #expect(error?.kind == .unavailable)
    }

    /// CR/LF in a subject, a display name or an address cannot add a header or a recipient.
    @Test func headerInjectionIsImpossible() async throws {
        #expect(MailAddress("ann@example.com\r\nBcc: eve@example.net") == nil)
        #expect(MailAddress("ann@example.com>\r\nRCPT TO:<eve@example.net") == nil)
        #expect(MailAddress("\"ann\r\n\"@example.com") == nil)
        #expect((try? JSONDecoder().decode(MailAddress.self, from: Data(#""ann@example.com\r\nBcc: eve@example.net""#.utf8))) == nil)
        #expect(HeaderText("Hi\r\nBcc: eve@example.net").text == "Hi  Bcc: eve@example.net")
        #expect(HeaderText("a\u{2028}b\u{85}c").text == "a b c")
        try await Self.withServer { server in
            var configuration = Self.configuration(port: server.port)
            configuration.fromName = "Portal\r\nBcc: eve@example.net"
            let message = Self.message(subject: "Sign-in from Chrome\r\nBcc: eve@example.net\r\n\r\nforged body\n.\nRCPT TO:<eve@example.net>")
            try await SMTPTransport(configuration).send(message)
            let received = try #require(try server.messages().first)
            #expect(received["rcpt_tos"] as? [String] == ["ann@example.com"])
            let headers = try #require(received["headers"] as? [String: String])
            #expect(headers["Bcc"] == nil)
            #expect(headers.keys.sorted() == ["Auto-Submitted", "Content-Type", "Date", "From", "MIME-Version", "Message-ID", "Subject", "To"])
            #expect(headers["Subject"]?.contains("Bcc: eve@example.net") == true)
            let raw = try #require(received["raw"] as? String)
            #expect(!raw.contains("\nBcc:"))
        }
    }

    @Test func unsafeSettingsAreRefusedAtStart() throws {
        #expect(throws: MailTransportError.self) { try SMTPTransport(Self.configuration(port: 25, host: "mail.example.com", security: .none)) }
        #expect(throws: MailTransportError.self) { try SMTPTransport(Self.configuration(port: 25, security: .none, username: "u", password: "p")) }
        #expect(throws: MailTransportError.self) { try SMTPTransport(Self.configuration(port: 587, security: .startTLS, username: "u")) }
    }

    @Test func dotStuffing() {
        #expect(SMTPTransport.dotStuffed("a\r\n.\r\n..b\r\n") == "a\r\n..\r\n...b\r\n.\r\n")
    }
}
