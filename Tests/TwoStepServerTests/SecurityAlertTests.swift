import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Security alerts by e-mail (issue 15): one per event, with time, browser and "wasn't you?", never
/// a code or a link.
@Suite("Security alerts")
struct SecurityAlertTests {
    static func alerts(_ server: TestServer) async throws -> [MailMessage] {
        try await MailOutbox(path: server.configuration.mailOutboxPath).messages().map(\.message).filter { $0.purpose == .securityAlert }
    }

    /// The kinds of event the issue lists, and only those, are mailed.
    @Test func theEventsThatAlertAreTheOnesListed() {
        let alerted = SecurityAlertService.alertingKinds
        #expect(alerted == Set(SecurityEventKind.allCases.filter { SecurityAlertService.alert(for: $0) != nil }))
        let listed: Set<SecurityEventKind> = [
            .twoFactorEnabled, .twoFactorDisabled, .operatorReset, .recoveryPhoneAdded, .recoveryPhoneChanged, .recoveryPhoneRemoved,
            .recoveryCodesGenerated, .recoveryCodeUsed, .deviceTrusted, .lockedOut, .passwordChanged, .passwordReset,
            .securityKeyAdded, .securityKeyRemoved, .securityKeyCloneSuspected,
        ]
        #expect(alerted == listed)
    }

    /// A failed round is logged by its error's type, never its description (SPEC §2), and the
    /// dispatcher goes on to the next round.
    @Test func aFailedRoundIsLoggedByType() async throws {
        let server = try await TestServer.make()
        try await server.parts.database.close()
        let dispatcher = Task { try await SecurityAlertDispatcher(alerts: server.services.alerts, interval: .milliseconds(20)).run() }
        for _ in 0..<200 where server.logs.allLines.filter({ $0.contains("security alerts not dispatched") }).count < 2 {
            try await Task.sleep(for: .milliseconds(20))
        }
        dispatcher.cancel()
        _ = try? await dispatcher.value
        let lines = server.logs.allLines.filter { $0.contains("security alerts not dispatched") }
        #expect(lines.count >= 2, "a round after the failed one: \(server.logs.text)")
        #expect(lines.allSatisfy { $0.contains(" error_type=") && !$0.contains("reason=") }, "\(lines)")
    }

    @Test func eachEventAlertsOnceWithTimeBrowserAndWasntYou() async throws {
        let server = try await TestServer.make()
        let services = server.services
        try await server.run { client in
            let browser = Browser(client)
            try await EmailTests.signUpVerified(browser, server, "ann@example.com")
            _ = try await browser.enableApp(at: server.clock, trust: true)
            let changed = try await browser.post("/profile/password", ["current": EmailTests.password, "new": "another long password"])
            #expect(changed.location == "/profile?done=password")

            #expect(try await services.alerts.dispatch() == 3)
            #expect(try await services.alerts.dispatch() == 0, "each event is mailed once")
            let alerts = try await Self.alerts(server)
            #expect(
                alerts.map(\.subject.text).sorted() == [
                    "TwoStep: A new device is trusted", "TwoStep: Two-factor authentication was turned on", "TwoStep: Your password was changed",
                ]
            )
            for alert in alerts {
                #expect(alert.to.address == "ann@example.com")
                #expect(alert.text.contains("When: 2027-01-15"))
                #expect(alert.text.contains("Browser: Chrome on Linux"))
                #expect(alert.text.contains("Wasn’t you?"))
                #expect(alert.html.contains("Wasn’t you?"))
                // Never a link, let alone one that signs in; never a code.
                #expect(!alert.text.contains("http") && !alert.html.contains("href"))
                #expect(alert.subject.text.rangeOfCharacter(from: .decimalDigits) == nil)
            }
        }
    }

    /// Issue 19: the server's store records an event nobody is mailed about as needing no alert, so
    /// the dispatcher never reads it (a store left with every kind alerting would hand it over).
    @Test func aWrongCodeLeavesTheDispatcherNothingToRead() async throws {
        let server = try await TestServer.make()
        let store = server.parts.store
        try await server.run { _ in
            let user = try await store.createUser(email: "c@example.com", passwordHash: "h", at: 1)
            try await store.recordEvent(userID: user.id, kind: .secondFactorFailed, detail: "wrong code", at: 2)
            try await store.recordEvent(userID: user.id, kind: .passwordChanged, detail: "", at: 3)
            #expect(try await store.claimEventsForAlerts(limit: 50).map(\.kind) == [.passwordChanged])
        }
    }

    @Test func anUnconfirmedAddressGetsNoAlerts() async throws {
        let server = try await TestServer.make()
        let services = server.services
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            _ = try await browser.enableApp(at: server.clock)
            #expect(try await services.alerts.dispatch() == 0)
            #expect(try await Self.alerts(server).isEmpty)
        }
    }

    @Test func aLockoutIsMailedOnceADayNotOncePerWait() async throws {
        let server = try await TestServer.make()
        let services = server.services
        try await server.run { client in
            let browser = Browser(client)
            try await EmailTests.signUpVerified(browser, server, "cat@example.com")
            _ = try await browser.enableApp(at: server.clock)
            try await services.alerts.dispatch()
            let user = try #require(try await server.store.user(email: "cat@example.com"))
            for _ in 0..<3 {
                for _ in 0..<6 {
                    _ = try await services.twoFactor.verify("000000", user: user)
                }
                server.clock.advance(3_700)
            }
            let lockouts = try await server.store.events(userID: user.id, limit: 100).filter { $0.kind == .lockedOut }
            #expect(lockouts.count >= 2)
            try await services.alerts.dispatch()
            #expect(try await Self.alerts(server).filter { $0.subject.text.contains("blocked") }.count == 1)
        }
    }

    /// Several instances dispatching at once (each its own services on one database): each alert once.
    @Test func instancesDispatchingTogetherSendEachAlertOnce() async throws {
        let server = try await TestServer.make()
        let store = server.store
        let user = try await store.createUser(email: "dan@example.com", passwordHash: "!", at: server.clock.now.unixTime)
        _ = try await store.setEmailVerified(userID: user.id, email: "dan@example.com", at: server.clock.now.unixTime)
        for _ in 0..<40 {
            try await store.recordEvent(userID: user.id, kind: .recoveryCodeUsed, detail: "9 left", at: server.clock.now.unixTime)
        }
        let instances = (0..<4).map { _ in server.services.alerts }
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for alerts in instances { group.addTask { try await alerts.dispatch() } }
            return try await group.reduce(0, +)
        }
        #expect(sent == 40)
        #expect(try await Self.alerts(server).count == 40)
        try await server.parts.database.close()
    }

    /// A user agent with CR/LF only ever reaches the base64 body.
    @Test func aUserAgentCannotInjectAHeader() throws {
        let composer = MailComposer(issuer: "TwoStep", publicURL: "https://2fa.example.com")
        let json = #"""
            {"id": 1, "user_id": 1, "kind": "password_changed", "detail": "x\r\nBcc: eve@example.net", "created_at": 1800000000,
             "client_address": "203.0.113.9", "user_agent": "Chrome/1\r\nBcc: eve@example.net\r\n"}
            """#
        let event = try JSONDecoder().decode(SecurityEvent.self, from: Data(json.utf8))
        #expect(event.userAgent.contains("\r\n"))
        let alert = composer.alert(SecurityAlertService.alert(for: .passwordChanged)!, event: event, to: MailAddress("ann@example.com")!)
        let rendered = alert.rendered(from: MailAddress("twostep@example.com")!, fromName: "TwoStep", date: Date(), messageID: "m", boundary: "b")
        let headers = rendered.components(separatedBy: "\r\n\r\n")[0]
        #expect(!headers.contains("Bcc"))
        #expect(!rendered.contains("eve@example.net"))
    }
}
