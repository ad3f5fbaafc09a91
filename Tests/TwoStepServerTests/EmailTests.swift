import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Address verification and "Forgot your password?" (issue 15), through the pages, with mail in
/// the outbox file or at a real SMTP server.
@Suite("E-mail links")
struct EmailTests {
    static let password = "correct horse battery"

    /// The mail written to the outbox so far, waiting (background sends) until at least `count` are there.
    static func mail(
        _ server: TestServer,
        atLeast count: Int = 1,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [MailMessage] {
        let outbox = MailOutbox(path: server.configuration.mailOutboxPath)
        for _ in 0..<400 {
            let messages = try await outbox.messages().map(\.message)
            if messages.count >= count { return messages }
            try await Task.sleep(for: .milliseconds(25))
        }
        let messages = try await outbox.messages().map(\.message)
        #expect(messages.count >= count, "expected \(count) messages, found \(messages.count)", sourceLocation: sourceLocation)
        return messages
    }

    /// The token of the link in a message (`…/verify-email?token=…`).
    static func token(in message: MailMessage?, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let text = try #require(message?.text, sourceLocation: sourceLocation)
        let range = try #require(text.range(of: #"token=[A-Za-z0-9_-]+"#, options: .regularExpression), sourceLocation: sourceLocation)
        return String(text[range].dropFirst("token=".count))
    }

    /// Signs up and confirms the address with the link that arrived.
    static func signUpVerified(
        _ browser: Browser,
        _ server: TestServer,
        _ email: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await browser.signUp(email, sourceLocation: sourceLocation)
        let messages = try await mail(server, sourceLocation: sourceLocation)
        let token = try token(in: messages.last { $0.to.address == email && $0.purpose == .addressVerification }, sourceLocation: sourceLocation)
        let page = try await browser.post("/verify-email", ["token": token])
        #expect(page.status == .ok && page.text.contains("is confirmed"), "\(page.status)", sourceLocation: sourceLocation)
    }

    @Test func signUpSendsALinkThatConfirmsTheAddressOnceAndIsStoredHashed() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            #expect(try await browser.get("/profile").text.contains("unverified"))
            let message = try #require(try await Self.mail(server).first)
            #expect(message.to.address == "ann@example.com")
            #expect(message.purpose == .addressVerification)
            let token = try Self.token(in: message)
            #expect(!message.subject.text.contains(token))
            #expect(message.text.contains("http://127.0.0.1:0/verify-email?token=\(token)"))
            #expect(message.html.contains("/verify-email?token=\(token)"))
            // Only the hash is stored.
            let stored = try await server.store.database.sql.raw("SELECT token_hash FROM email_tokens").all(
                decodingColumn: "token_hash",
                as: String.self
            )
            #expect(stored == [RandomToken.hash(token)])

            // Opening the link changes nothing (mail scanners open links); the button does.
            let landing = try await browser.get("/verify-email?token=\(token)")
            #expect(landing.status == .ok && landing.text.contains("Confirm my address"))
            #expect(try await browser.get("/profile").text.contains("unverified"))
            let confirmed = try await browser.post("/verify-email", ["token": token])
            #expect(confirmed.status == .ok)
            let profile = try await browser.get("/profile").text
            #expect(profile.contains(">verified<") && !profile.contains("unverified"))
            // Single use.
            #expect(try await browser.post("/verify-email", ["token": token]).status == .notFound)
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(try await server.store.events(userID: user.id, limit: 10).map(\.kind).contains(.emailVerified))
        }
    }

    @Test func aVerificationLinkEndsAfter24Hours() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            let token = try Self.token(in: try await Self.mail(server).first)
            server.clock.advance(24 * 3_600 + 1)
            #expect(try await browser.post("/verify-email", ["token": token]).status == .notFound)
            #expect(try await server.store.user(email: "bob@example.com")?.emailVerifiedAt == nil)
        }
    }

    @Test func sendAgainIsRateLimitedAndANewLinkReplacesTheOld() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("cat@example.com")
            let first = try Self.token(in: try await Self.mail(server).first)
            let again = try await browser.post("/profile/email/resend")
            #expect(again.status == .ok && again.text.contains("We sent a new link"))
            let second = try Self.token(in: try await Self.mail(server, atLeast: 2).last)
            #expect(first != second)
            #expect(try await browser.post("/profile/email/resend").status == .ok)
            let limited = try await browser.post("/profile/email/resend")
            #expect(limited.status == .tooManyRequests)
            #expect(try await Self.mail(server).count == 3)
            // The newest link works, the replaced one does not.
            #expect(try await browser.post("/verify-email", ["token": first]).status == .notFound)
        }
    }

    @Test func changingTheAddressNeedsReauthenticationAndTakesEffectOnlyWhenTheNewOneIsConfirmed() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await Self.signUpVerified(browser, server, "dan@example.com")
            let unconfirmed = try await browser.post("/profile/email", ["email": "dan@example.org"])
            #expect(unconfirmed.location?.hasPrefix("/profile/confirm") == true, "re-authentication first")
            try await browser.reauthenticate(next: "/profile/email")
            let sent = try await browser.post("/profile/email", ["email": "dan@example.org"])
            #expect(sent.status == .ok && sent.text.contains("We sent a link to dan@example.org"))
            // Not yet: the old address still signs in and receives mail.
            #expect(try await server.store.user(email: "dan@example.com") != nil)
            let link = try #require(try await Self.mail(server, atLeast: 2).last)
            #expect(link.to.address == "dan@example.org")
            let confirmed = try await browser.post("/verify-email", ["token": try Self.token(in: link)])
            #expect(confirmed.status == .ok && confirmed.text.contains("now uses dan@example.org"))
            let user = try #require(try await server.store.user(email: "dan@example.org"))
            #expect(user.emailVerifiedAt != nil)
            #expect(try await server.store.user(email: "dan@example.com") == nil)
            // The old address is told, without a link.
            let notice = try #require(try await Self.mail(server, atLeast: 3).last)
            #expect(notice.to.address == "dan@example.com" && notice.purpose == .addressChanged)
            #expect(notice.text.contains("dan@example.org") && !notice.text.contains("token="))
            #expect(try await server.store.events(userID: user.id, limit: 10).map(\.kind).contains(.emailChanged))
        }
    }

    // MARK: Forgotten password

    /// The page's answer with the typed address taken out.
    static func answer(_ page: Page, _ email: String) -> String {
        page.text.replacingOccurrences(of: email, with: "")
            .replacingOccurrences(of: #"name="csrf_token" value="[^"]*""#, with: "", options: .regularExpression)
    }

    @Test func theAnswerIsTheSameWhetherOrNotTheAddressHasAnAccount() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let ann = Browser(client)
            try await Self.signUpVerified(ann, server, "ann@example.com")
            try await Browser(client).signUp("unverified@example.com")
            let before = try await Self.mail(server, atLeast: 2).count
            let browser = Browser(client)
            var answers: Set<String> = []
            for email in ["ann@example.com", "nobody@example.com", "unverified@example.com", "not an address"] {
                let page = try await browser.post("/forgot-password", ["email": email])
                #expect(page.status == .ok)
                answers.insert(Self.answer(page, email))
            }
            #expect(answers.count == 1)
            let after = try await Self.mail(server, atLeast: before + 1)
            #expect(after.count == before + 1, "only the confirmed account gets a link")
            #expect(after.last?.to.address == "ann@example.com" && after.last?.purpose == .passwordReset)
            #expect(after.last?.subject.text == "Reset your TwoStep password")
        }
    }

    @Test func resetsAreLimitedPerAddressAndPerClient() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await Self.signUpVerified(browser, server, "eve@example.com")
            let before = try await Self.mail(server).count
            for _ in 0..<5 {
                #expect(try await browser.post("/forgot-password", ["email": "eve@example.com"]).status == .ok)
            }
            _ = try await Self.mail(server, atLeast: before + 3)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.mail(server).count == before + 3, "three links per address, then silence")
            // Per client: ten requests, whatever the addresses.
            for index in 5..<10 {
                #expect(try await browser.post("/forgot-password", ["email": "someone\(index)@example.com"]).status == .ok)
            }
            let limited = try await browser.post("/forgot-password", ["email": "another@example.com"])
            #expect(limited.status == .tooManyRequests)
        }
    }

    @Test func aResetLinkWorksOnceAndFor30Minutes() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await Self.signUpVerified(browser, server, "fay@example.com")
            try await browser.post("/forgot-password", ["email": "fay@example.com"])
            let token = try Self.token(in: try await Self.mail(server, atLeast: 2).last)
            server.clock.advance(30 * 60 + 1)
            #expect(try await browser.get("/reset?token=\(token)").status == .notFound)
            #expect(try await browser.post("/reset", ["token": token, "password": "a new long password"]).status == .notFound)

            try await browser.post("/forgot-password", ["email": "fay@example.com"])
            let fresh = try Self.token(in: try await Self.mail(server, atLeast: 3).last)
            let form = try await browser.get("/reset?token=\(fresh)")
            #expect(form.status == .ok && form.text.contains("Choose a new password"))
            #expect(try await browser.post("/reset", ["token": fresh, "password": "short"]).status == .unauthorized)
            let done = try await browser.post("/reset", ["token": fresh, "password": "a new long password"])
            #expect(done.location == "/signin?done=password-reset")
            #expect(try await browser.post("/reset", ["token": fresh, "password": "another long password"]).status == .notFound)
            #expect(try await browser.signIn("fay@example.com", password: "a new long password").location == "/profile")
        }
    }

    @Test func twoConcurrentUsesOfOneLinkSetOnePassword() async throws {
        let server = try await TestServer.make()
        let clock = server.clock
        let store = server.store
        let user = try await store.createUser(email: "gus@example.com", passwordHash: "!", at: clock.now.unixTime)
        let token = RandomToken.generate()
        _ = try await store.createEmailToken(
            userID: user.id,
            purpose: .reset,
            tokenHash: RandomToken.hash(token),
            email: "gus@example.com",
            at: clock.now.unixTime,
            expiresAt: clock.now.unixTime + 1_800
        )
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await store.consumeEmailToken(
                        hash: RandomToken.hash(token),
                        purpose: .reset,
                        at: clock.now.unixTime,
                        requireSecondFactor: false
                    ) != nil
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        try await server.parts.database.close()
    }

    @Test func withTwoFactorOnTheResetAsksForASecondFactorFirst() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await Self.signUpVerified(browser, server, "hal@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            let stranger = Browser(client)
            try await stranger.post("/forgot-password", ["email": "hal@example.com"])
            let token = try Self.token(in: try await Self.mail(server, atLeast: 2).last)

            let landing = try await stranger.get("/reset?token=\(token)")
            #expect(landing.text.contains("Security code or recovery code") && !landing.text.contains("New password"))
            // Skipping the step does not set the password.
            let skipped = try await stranger.post("/reset", ["token": token, "password": "an attacker's password"])
            #expect(skipped.location == nil && skipped.text.contains("Security code or recovery code"))
            let wrong = try await stranger.post("/reset/code", ["token": token, "code": "000000"])
            #expect(wrong.status == .unauthorized)
            server.clock.advance(30)
            let right = try await stranger.post("/reset/code", ["token": token, "code": totp.code(at: server.clock.now)])
            #expect(right.status == .ok && right.text.contains("New password"))
            let done = try await stranger.post("/reset", ["token": token, "password": "a new long password"])
            #expect(done.location == "/signin?done=password-reset")
            // Signing in still asks for the code: the reset did not turn 2FA off.
            #expect(try await Browser(client).signIn("hal@example.com", password: "a new long password").location == "/signin/code")
        }
    }

    @Test func aResetEndsEverySessionAndForgetsTrustedDevices() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await Self.signUpVerified(browser, server, "ida@example.com")
            let totp = try await browser.enableApp(at: server.clock, trust: true)
            _ = totp
            let user = try #require(try await server.store.user(email: "ida@example.com"))
            #expect(try await server.store.trustedDevices(userID: user.id).count == 1)
            #expect(try await browser.get("/profile").status == .ok)

            let other = Browser(client)
            try await other.post("/forgot-password", ["email": "ida@example.com"])
            let token = try Self.token(in: try await Self.mail(server, atLeast: 2).last)
            try await other.post("/reset/code", ["token": token, "code": totp.code(at: server.clock.now.addingTimeInterval(30))])
            server.clock.advance(30)
            let done = try await other.post("/reset", ["token": token, "password": "a new long password"])
            #expect(done.location == "/signin?done=password-reset")
            #expect(try await browser.get("/profile").location == "/signin", "the old session ended")
            #expect(try await server.store.trustedDevices(userID: user.id).isEmpty)
            let kinds = try await server.store.events(userID: user.id, limit: 5).map(\.kind)
            #expect(kinds.contains(.passwordReset))
        }
    }
}

/// The same flows with a real SMTP server that fails: nothing half-done.
@Suite("E-mail links over SMTP", .enabled(if: TestSMTPServer.available))
struct EmailSMTPTests {
    static func server(smtp: TestSMTPServer, timeout: TimeAmount = .seconds(2)) async throws -> TestServer {
        try await TestServer.make { configuration in
            var smtpConfiguration = SMTPConfiguration(host: "127.0.0.1", port: smtp.port, security: .none, from: MailAddress("twostep@example.com")!)
            smtpConfiguration.replyTimeout = timeout
            smtpConfiguration.retries = 1
            smtpConfiguration.backoff = .milliseconds(20)
            configuration.mailTransport = try! SMTPTransport(smtpConfiguration)
        }
    }

    static func token(_ smtp: TestSMTPServer, atLeast count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        for _ in 0..<400 {
            let messages = try smtp.messages()
            if messages.count >= count, let parts = messages.last?["parts"] as? [String: String], let text = parts["text/plain"],
                let range = text.range(of: #"token=[A-Za-z0-9_-]+"#, options: .regularExpression)
            {
                return String(text[range].dropFirst("token=".count))
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestSMTPError(description: "no message \(count) arrived")
    }

    /// A send the server refuses deletes only the new link: the one that already arrived still works.
    @Test func aFailedSendDoesNotBurnTheLinkThatArrived() async throws {
        let smtp = try TestSMTPServer(["--fail-after", "2"])
        defer { smtp.stop() }
        let server = try await Self.server(smtp: smtp)
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("jo@example.com")
            try await browser.post("/verify-email", ["token": try await Self.token(smtp, atLeast: 1)])
            try await browser.post("/forgot-password", ["email": "jo@example.com"])
            let delivered = try await Self.token(smtp, atLeast: 2)
            // The third message is refused (554).
            let again = try await browser.post("/forgot-password", ["email": "jo@example.com"])
            #expect(again.status == .ok)
            for _ in 0..<400 where try smtp.received().count < 3 { try await Task.sleep(for: .milliseconds(25)) }
            #expect(try smtp.received().last?["refused"] as? Int == 554)
            // The send runs in the background: wait for it to settle (the whole suite can be slow).
            var rows: Int?
            for _ in 0..<400 {
                rows = try await server.store.database.sql.raw("SELECT COUNT(*) AS n FROM email_tokens WHERE purpose = 'reset'")
                    .first(decodingColumn: "n", as: Int.self)
                if rows == 1 { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(rows == 1, "the undelivered link is gone")
            let page = try await browser.get("/reset?token=\(delivered)")
            #expect(page.status == .ok && page.text.contains("New password"))
        }
    }

    /// "Send again" to a server that hangs: a clear message within the timeout, and nothing half-done.
    @Test func aHangingServerGivesAClearMessage() async throws {
        let smtp = try TestSMTPServer(["--mode", "hang"])
        defer { smtp.stop() }
        let server = try await Self.server(smtp: smtp, timeout: .milliseconds(500))
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("kim@example.com")
            let page = try await browser.post("/profile/email/resend")
            #expect(page.status == .serviceUnavailable)
            #expect(page.text.contains("could not be sent (the mail server did not answer within 0.5 s)"))
            // The sign-up's own background send gives up too.
            var rows: Int?
            for _ in 0..<400 {
                rows = try await server.store.database.sql.raw("SELECT COUNT(*) AS n FROM email_tokens").first(decodingColumn: "n", as: Int.self)
                if rows == 0 { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(rows == 0, "no link that never went out")
            #expect(!server.logs.text.contains("token="))
        }
    }
}
