import Foundation
import HTTPTypes
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// A gateway that is down.
struct FailingGateway: SMSGateway {
    func send(_ message: SMSMessage) async throws(SMSGatewayError) {
        throw SMSGatewayError(.unavailable, "the provider is down")
    }
}

extension TestServer {
    /// The text messages written to the outbox, oldest first.
    func outbox() throws -> [SMSMessage] {
        guard let data = FileManager.default.contents(atPath: configuration.outboxPath) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(OutboxEntry.self, from: Data($0)).message }
    }

    /// The code in the newest text message.
    func lastCode(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let body = try #require(try outbox().last?.body, "no text message in the outbox", sourceLocation: sourceLocation)
        return String(body.prefix(6))
    }
}

extension Browser {
    /// Enables the SMS method for `phone`, reading the code from the outbox.
    func enableSMS(_ phone: String, server: TestServer, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await reauthenticate(sourceLocation: sourceLocation)
        let sent = try await post("/profile/two-factor/sms", ["phone": phone])
        #expect(sent.status == .ok, "\(sent.text.prefix(400))", sourceLocation: sourceLocation)
        #expect(sent.text.contains("We sent a code to"), "\(sent.text.prefix(400))", sourceLocation: sourceLocation)
        let done = try await post("/profile/two-factor/sms/activate", ["code": try server.lastCode(sourceLocation: sourceLocation)])
        #expect(done.location == "/profile/two-factor?done=enabled", "\(done.status)", sourceLocation: sourceLocation)
    }
}

@Suite("SMS method and recovery phone")
struct SMSTests {
    @Test func enableSMSAndSignInWithATextedCode() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("alice@example.com")
            try await browser.reauthenticate()
            #expect(try await browser.get("/profile/two-factor/enable").text.contains("href=\"/profile/two-factor/sms\""))
            let bad = try await browser.post("/profile/two-factor/sms", ["phone": "06 1234 5612"])
            #expect(bad.status == .unprocessableContent && bad.text.contains("international form"))

            let sent = try await browser.post("/profile/two-factor/sms", ["phone": "+31 6 1234 5612"])
            #expect(sent.text.contains("+31 •••• •••12"))
            let message = try #require(try server.outbox().last)
            #expect(message.to == "+31612345612" && message.purpose == .enrolment)
            #expect(message.body.range(of: #"^\d{6} is your TwoStep security code"#, options: .regularExpression) != nil)
            #expect(try await browser.post("/profile/two-factor/sms/activate", ["code": "000000"]).status == .unprocessableContent)
            #expect(
                try await browser.post("/profile/two-factor/sms/activate", ["code": try server.lastCode()]).location
                    == "/profile/two-factor?done=enabled"
            )
            let page = try await browser.get("/profile/two-factor")
            #expect(page.text.contains("Enabled") && page.text.contains("SMS to +31 •••• •••12"))

            try await browser.signOut()
            #expect(try await browser.signIn("alice@example.com").location == "/signin/code")
            #expect(try await browser.get("/signin/code").text.contains(">Send code</button>"))
            server.clock.advance(61)
            let texted = try await browser.post("/signin/sms")
            #expect(texted.text.contains("We sent a code to +31 •••• •••12") && texted.text.contains(">Resend code</button>"))
            #expect(try server.outbox().last?.purpose == .signIn)
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile")
        }
    }

    /// SPEC §2: 6 digits, 5 minutes, single use, 5 guesses per code.
    @Test func codesExpireAreSingleUseAndTakeFiveGuesses() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            try await browser.enableSMS("+31612345612", server: server)
            try await browser.signOut()

            // Expired after 5 minutes.
            _ = try await browser.signIn("bob@example.com")
            server.clock.advance(61)
            _ = try await browser.post("/signin/sms")
            let late = try server.lastCode()
            server.clock.advance(301)
            _ = try await browser.signIn("bob@example.com")
            #expect(try await browser.post("/signin/code", ["code": late]).status == .unauthorized)

            // Single use.
            _ = try await browser.post("/signin/sms")
            let once = try server.lastCode()
            #expect(try await browser.post("/signin/code", ["code": once]).location == "/profile")
            try await browser.signOut()
            _ = try await browser.signIn("bob@example.com")
            #expect(try await browser.post("/signin/code", ["code": once]).status == .unauthorized)

            // Five guesses, then even the right code is dead.
            server.clock.advance(61)
            _ = try await browser.post("/signin/sms")
            let right = try server.lastCode()
            let wrong = right == "000000" ? "111111" : "000000"
            for _ in 1...3 { _ = try await browser.post("/signin/code", ["code": wrong]) }
            let user = try #require(try await server.store.user(email: "bob@example.com"))
            try await server.services.lockout.unlock(user)  // keep the account lockout out of the way
            for _ in 1...2 { _ = try await browser.post("/signin/code", ["code": wrong]) }
            try await server.services.lockout.unlock(user)
            #expect(try await browser.post("/signin/code", ["code": right]).status == .unauthorized, "the sixth guess is refused")
        }
    }

    /// SPEC §2: resend after 60 s; 5 per account per hour; 10 per number per day.
    @Test func sendingIsRateLimited() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("carol@example.com")
            try await browser.enableSMS("+31612345612", server: server)
            try await browser.signOut()
            _ = try await browser.signIn("carol@example.com")

            let tooSoon = try await browser.post("/signin/sms")
            #expect(tooSoon.status == .tooManyRequests && tooSoon.text.contains("less than a minute ago"), "the enrolment text was just sent")
            for _ in 1...4 {
                server.clock.advance(61)
                #expect(try await browser.post("/signin/sms").status == .ok)
            }
            server.clock.advance(61)
            let hourly = try await browser.post("/signin/sms")
            #expect(hourly.status == .tooManyRequests && hourly.text.contains("5 codes in the last hour"))
            #expect(try server.outbox().count == 5)

            // Another account sharing the number: the number's daily cap counts both.
            let other = Browser(client)
            try await other.signUp("dave@example.com")
            try await other.enableSMS("+31612345612", server: server)
            try await other.signOut()
            for _ in 1...4 {
                server.clock.advance(61)
                _ = try await other.signIn("dave@example.com")
                #expect(try await other.post("/signin/sms").status == .ok)
            }
            server.clock.advance(3_600)
            _ = try await other.signIn("dave@example.com")
            let daily = try await other.post("/signin/sms")
            #expect(daily.status == .tooManyRequests && daily.text.contains("10 codes today"))
            #expect(try server.outbox().count == 10)
        }
    }

    @Test func limitMessagesNameTheConfiguredLimits() async throws {
        let server = try await TestServer.make { configuration in
            configuration.smsLimits.perAccountPerHour = 2
            configuration.smsLimits.cooldown = 120
        }
        let key = try await server.apiKey()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("gil@example.com")
            try await browser.enableSMS("+31612345613", server: server)
            try await browser.signOut()
            _ = try await browser.signIn("gil@example.com")

            let tooSoon = try await browser.post("/signin/sms")
            #expect(tooSoon.status == .tooManyRequests)
            #expect(tooSoon.text.contains("less than 2 minutes ago"), "\(tooSoon.text)")
            server.clock.advance(121)
            #expect(try await browser.post("/signin/sms").status == .ok)
            server.clock.advance(121)
            let hourly = try await browser.post("/signin/sms")
            #expect(hourly.status == .tooManyRequests)
            #expect(hourly.text.contains("You asked for 2 codes in the last hour"), "\(hourly.text)")

            let service = APIClient(client: client, token: key)
            let limited = try await service.call(.post, "/api/v1/users/gil@example.com/sms", [:])
            #expect(limited.errorCode == "sms_limited")
            #expect((limited.json["error"] as? [String: Any])?["message"] as? String == "This account had 2 codes in the last hour.")
        }
    }

    @Test func smsFailuresCountTowardTheLockout() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("erin@example.com")
            try await browser.enableSMS("+31612345612", server: server)
            try await browser.signOut()
            _ = try await browser.signIn("erin@example.com")
            server.clock.advance(61)
            _ = try await browser.post("/signin/sms")
            for _ in 1...4 { _ = try await browser.post("/signin/code", ["code": "123 000"]) }
            #expect(try await browser.post("/signin/code", ["code": "123000"]).text.contains("try again in 30 seconds"))
        }
    }

    /// A provider outage tells the person to try again and leaves nothing to guess; the message
    /// still counts toward the limits (a provider that timed out may have delivered it, and the
    /// send log only ever shortens by age).
    @Test func gatewayFailuresLeaveNothingToGuessButCount() async throws {
        let server = try await TestServer.make { $0.smsGateway = FailingGateway() }
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("frank@example.com")
            try await browser.reauthenticate()
            let failed = try await browser.post("/profile/two-factor/sms", ["phone": "+31612345612"])
            #expect(failed.text.contains("could not send the text message just now"))
            let again = try await browser.post("/profile/two-factor/sms", ["phone": "+31612345612"])
            #expect(again.text.contains("less than a minute ago"), "the cooldown counts the failed attempt")
            server.clock.advance(61)
            #expect(try await browser.post("/profile/two-factor/sms", ["phone": "+31612345612"]).text.contains("could not send"))
            let user = try #require(try await server.store.user(email: "frank@example.com"))
            #expect(try await server.store.factors(userID: user.id).isEmpty, "nothing pending")
            #expect(server.logs.text.contains("SMS not sent") && server.logs.text.contains("the provider is down"), "the operator learns why")
            // Logged by a service's own logger, deep in the request: the line still names it and the account.
            let requestID = try #require(failed.headers[RequestIDTests.requestID])
            let line = try #require(server.logs.allLines.first { $0.contains("SMS not sent") })
            #expect(line.contains(" request_id=\(requestID) ") && line.contains(" user_id=\(user.id) "), "\(line)")
            #expect(try await server.store.smsSendCount(phone: "+31612345612", since: 0) == 2)
        }
    }

    @Test func recoveryPhoneAddSignInChangeRemove() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("grace@example.com")
            _ = try await browser.enableApp(at: server.clock)
            #expect(try await browser.get("/profile/two-factor").text.contains("Add recovery phone number"))
            let sent = try await browser.post("/profile/two-factor/recovery-phone", ["phone": "+44 20 7946 0958"])
            #expect(sent.text.contains("We sent a code to +44 •••• •••• 58"))
            #expect(try server.outbox().last?.purpose == .recoveryPhone)
            #expect(
                try await browser.post("/profile/two-factor/recovery-phone/activate", ["code": try server.lastCode()]).location
                    == "/profile/two-factor?done=recovery-phone"
            )
            let page = try await browser.get("/profile/two-factor")
            #expect(page.text.contains("id=\"recovery-phone\"") && page.text.contains("App (authenticator app)"))

            // At sign-in: "Send a code to my recovery phone".
            try await browser.signOut()
            _ = try await browser.signIn("grace@example.com")
            let codePage = try await browser.get("/signin/code")
            #expect(codePage.text.contains("Send a code to my recovery phone"))
            server.clock.advance(61)
            #expect(try await browser.post("/signin/recovery-phone").text.contains("We sent a code"))
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile")

            // Changing or removing it needs the password again after 10 minutes.
            server.clock.advance(11 * 60)
            #expect(try await browser.get("/profile/two-factor/recovery-phone").location?.hasPrefix("/profile/confirm") == true)
            #expect(try await browser.post("/profile/two-factor/recovery-phone/remove").location?.hasPrefix("/profile/confirm") == true)
            _ = try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": "/profile/two-factor"])
            server.clock.advance(61)
            _ = try await browser.post("/profile/two-factor/recovery-phone", ["phone": "+31612345699"])
            #expect(try await browser.post("/profile/two-factor/recovery-phone/activate", ["code": try server.lastCode()]).location != nil)
            #expect(try await browser.post("/profile/two-factor/recovery-phone/remove").location == "/profile/two-factor?done=recovery-phone-removed")
            let user = try #require(try await server.store.user(email: "grace@example.com"))
            let kinds = try await server.store.events(userID: user.id, limit: 50).map(\.kind)
            #expect(kinds.contains(.recoveryPhoneAdded) && kinds.contains(.recoveryPhoneChanged) && kinds.contains(.recoveryPhoneRemoved))
            #expect(try await server.store.factors(userID: user.id).map(\.kind) == [.totp])
        }
    }

    @Test func outboxPageOnlyWithDevOutbox() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let page = try await Browser(client).get("/dev/outbox")
            #expect(page.status == .notFound)
        }
        let dev = try await TestServer.make { $0.devOutbox = true }
        try await dev.runLive { client in
            let browser = Browser(client)
            try await browser.signUp("heidi@example.com")
            try await browser.reauthenticate()
            _ = try await browser.post("/profile/two-factor/sms", ["phone": "+31612345612"])
            let page = try await browser.get("/dev/outbox")
            #expect(page.status == .ok && page.text.contains("+31612345612") && page.text.contains("is your TwoStep security code"))
        }
    }
}
