import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 12, Medium 4 and 5: the password step is throttled per account and per client address,
/// every password check counts and is logged, and one source cannot lock out many accounts.
@Suite struct ThrottleTests {
    static func events(_ server: TestServer, _ email: String, _ kind: SecurityEventKind) async throws -> [SecurityEvent] {
        guard let user = try await server.store.user(email: email) else { return [] }
        return try await server.store.events(userID: user.id, limit: 1_000).filter { $0.kind == kind }
    }

    /// 30 wrong passwords in a row met no resistance. Now 5 are free; then the account waits, and an
    /// address without an account gets exactly the same answers (no account enumeration).
    @Test func wrongPasswordsMakeTheAccountWaitKnownOrNot() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("pat@example.com")
            try await owner.signOut()
            for email in ["pat@example.com", "nobody@example.com"] {
                let browser = Browser(client)
                for attempt in 1...5 {
                    let page = try await browser.signIn(email, password: "wrong password \(attempt)")
                    #expect(page.status == .unauthorized && page.text.contains("Wrong e-mail address or password"), "\(email) \(attempt)")
                }
                let sixth = try await browser.signIn(email, password: "wrong password 6")
                #expect(sixth.status == .tooManyRequests, "\(email)")
                #expect(sixth.text.contains("Too many attempts. For your security, try again in 60 seconds"), "\(email)")
                // During the wait even the right password is not checked.
                #expect(try await browser.signIn(email).status == .tooManyRequests, "\(email)")
            }
            #expect(try await Self.events(server, "pat@example.com", .signInFailed).count == 5)
            #expect(try await Self.events(server, "pat@example.com", .lockedOut).count == 1)
            server.clock.advance(61)
            #expect(try await Browser(client).signIn("pat@example.com").location == "/profile", "a right password after the wait")
            // The success ended the run: five more free failures.
            for _ in 1...5 { #expect(try await Browser(client).signIn("pat@example.com", password: "wrong").status == .unauthorized) }
        }
    }

    /// The same attack as on codes: concurrent wrong passwords are reserved before the hash is
    /// compared, so no more than the policy allows are ever checked.
    @Test func concurrentWrongPasswordsAreCountedBeforeTheyAreChecked() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("quinn@example.com")
            try await owner.signOut()
            let pages = try await withThrowingTaskGroup(of: Page.self) { group in
                for index in 0..<50 {
                    group.addTask { try await Browser(client).signIn("quinn@example.com", password: "wrong password \(index)") }
                }
                return try await group.reduce(into: [Page]()) { $0.append($1) }
            }
            let checked = try await Self.events(server, "quinn@example.com", .signInFailed).count
            #expect(checked <= 5 && checked >= 1, "\(checked) of 50 wrong passwords were checked")
            #expect(pages.filter { $0.status == .tooManyRequests }.count >= 45)
        }
    }

    /// Re-authentication, password change and disabling check the password too: each wrong one is
    /// logged, counted in the same budget, and answered 429 once the budget is spent.
    @Test func everyPasswordCheckIsCountedAndLogged() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            var api = APIClient(client: client)
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "rae@example.com", "password": "correct horse battery"])
            api.token = try #require(signUp["token"] as? String)
            try await api.reauthenticate()  // adding a method needs it (SPEC §2)
            let enrolment = try await api.call(.post, "/api/v1/account/two-factor/app")
            let totp = try TOTP(secret: try Base32.decode(try #require(enrolment["secret"] as? String)))
            #expect(try await api.call(.post, "/api/v1/account/two-factor/app/confirm", ["code": totp.code(at: server.clock.now)]).status == .ok)

            let wrong = ["password": "wrong password"]
            #expect(try await api.call(.post, "/api/v1/account/reauthenticate", wrong).status == .unauthorized)
            #expect(
                try await api.call(.post, "/api/v1/account/password", ["current": "wrong password", "new": "a new password"]).status == .unauthorized
            )
            #expect(try await api.call(.post, "/api/v1/account/two-factor/disable", wrong).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/account/reauthenticate", wrong).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/account/reauthenticate", wrong).status == .unauthorized)
            let details = try await Self.events(server, "rae@example.com", .passwordFailed).map(\.detail)
            #expect(details.filter { $0.contains("re-authentication") }.count == 3)
            #expect(details.filter { $0.contains("password change") }.count == 1)
            #expect(details.filter { $0.contains("two-factor") }.count == 1)

            let refused = try await api.call(.post, "/api/v1/account/two-factor/disable", ["password": "correct horse battery"])
            #expect(refused.status == .tooManyRequests && refused.errorCode == "too_many_attempts" && refused.headers[.retryAfter] == "60")
            #expect(
                try await api.call(.post, "/api/v1/session", ["email": "rae@example.com", "password": "correct horse battery"]).status
                    == .tooManyRequests
            )
            // The operator's unlock clears the password budget too.
            try await server.services.lockout.unlock(try #require(try await server.store.user(email: "rae@example.com")))
            #expect(try await api.call(.post, "/api/v1/account/reauthenticate", ["password": "correct horse battery"]).status == .ok)
        }
    }

    /// NIST SP 800-63B §5.2.2: never more than 100 wrong passwords in a row.
    @Test func aHundredWrongPasswordsInARowLock() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("sam@example.com")
            try await owner.signOut()
            let browser = Browser(client)
            for _ in 1...100 {
                server.clock.advance(3_601)
                #expect(try await browser.signIn("sam@example.com", password: "wrong password").status == .unauthorized)
            }
            server.clock.advance(3_601)
            let locked = try await browser.signIn("sam@example.com")
            #expect(locked.status == .tooManyRequests && locked.text.contains("ask your administrator"))
        }
    }

    /// One client address may fail 20 passwords at once, across any accounts, then one a minute:
    /// it cannot spray passwords over many accounts (nor lock many of them out).
    @Test func oneAddressCannotSprayPasswords() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            for index in 0..<20 {
                #expect(try await Browser(client).signIn("user\(index)@example.com", password: "Winter2026!").status == .unauthorized)
            }
            let refused = try await Browser(client).signIn("user20@example.com", password: "Winter2026!")
            #expect(refused.status == .tooManyRequests)
            server.clock.advance(60)
            #expect(try await Browser(client).signIn("user21@example.com", password: "Winter2026!").status == .unauthorized)
        }
    }

    /// Wrong codes from one client address: 20 at once, then one every 3 minutes, refused *before*
    /// they count against an account, so one source cannot push many accounts into waits.
    @Test func oneAddressCannotLockOutManyAccountsWithCodes() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            var browsers: [Browser] = []
            for index in 0..<6 {
                let browser = Browser(client)
                try await browser.signUp("acct\(index)@example.com")
                _ = try await browser.enableApp(at: server.clock)
                try await browser.signOut()
                _ = try await browser.signIn("acct\(index)@example.com")
                browsers.append(browser)
            }
            server.clock.advance(30)
            for (index, browser) in browsers.prefix(5).enumerated() {
                for _ in 1...4 { #expect(try await browser.post("/signin/code", ["code": "000000"]).status == .unauthorized, "account \(index)") }
            }
            let refused = try await browsers[5].post("/signin/code", ["code": "000000"])
            #expect(refused.text.contains("Too many wrong codes"))
            #expect(try await Self.events(server, "acct5@example.com", .secondFactorFailed).isEmpty, "refused before it counted")
        }
    }

    /// Through `/validate` every user of a relying service comes from one API key: its ordinary
    /// failures cost nothing, but each failure that would put an account into a wait takes a token.
    @Test func oneAPIKeyCannotLockOutManyAccounts() async throws {
        let server = try await TestServer.make { $0.sourceBudgets.waitsPerAPIKey = TokenBucket(capacity: 2, refillInterval: 3_600) }
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let secret = Base32.encode(Array("12345678901234567890".utf8), padding: false)
            for index in 0..<3 {
                #expect(
                    try await api.call(.post, "/api/v1/users", ["email": "v\(index)@example.com", "totp": ["secret": secret]]).status == .created
                )
                for _ in 1...4 {
                    #expect(try await api.call(.post, "/api/v1/validate", ["user": "v\(index)@example.com", "code": "000000"]).status == .ok)
                }
            }
            for index in 0..<2 {
                #expect(
                    try await api.call(.post, "/api/v1/validate", ["user": "v\(index)@example.com", "code": "000000"]).status == .tooManyRequests
                )
            }
            let refused = try await api.call(.post, "/api/v1/validate", ["user": "v2@example.com", "code": "000000"])
            #expect(refused.status == .tooManyRequests)
            #expect(try await Self.events(server, "v2@example.com", .secondFactorFailed).count == 4, "the fifth was refused before it counted")
            #expect(try await Self.events(server, "v2@example.com", .lockedOut).isEmpty)
            let user = try #require(try await server.store.user(email: "v2@example.com"))
            #expect(try await server.services.lockout.failures(.codes(userID: user.id)).recent.count == 4)
        }
    }

    /// `LockoutService` guesses a budget's row from what it last wrote and skips the read (issue 19).
    /// Another instance (here a second service on the same database) changes the row behind it: the
    /// guess must never decide. A stale count of 3 must not let a sixth attempt through, and a stale
    /// wait must not refuse an attempt after the other instance cleared the budget.
    @Test func aStaleGuessOfABudgetNeverDecides() async throws {
        let server = try await TestServer.make()
        try await server.run { _ in
            let budget = LockoutService.Budget.password(email: "guess@example.com")
            let here = server.services.lockout
            let elsewhere = server.services.lockout
            let time = server.clock.now
            func reserved(_ service: LockoutService) async throws -> Bool {
                if case .reserved = try await service.reserve(budget, at: time) { return true }
                return false
            }
            for _ in 1...3 { #expect(try await reserved(here)) }
            for _ in 1...2 { #expect(try await reserved(elsewhere)) }
            #expect(try await here.failures(budget).recent.count == 5)
            #expect(try await reserved(here) == false, "the sixth attempt waits, whatever this instance last wrote")
            // Cleared elsewhere: this instance's last word was a wait, the row is gone.
            try await elsewhere.clear([budget])
            #expect(try await reserved(here), "allowed again after the other instance cleared the budget")
            #expect(try await here.failures(budget).recent.count == 1)
        }
    }
}
