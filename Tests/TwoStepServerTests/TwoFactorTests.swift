import Foundation
import HTTPTypes
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

@Suite("Two-factor authentication")
struct TwoFactorTests {
    @Test func enablingTheAppFollowsTheArticle() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("alice@example.com")
            let page = try await browser.get("/profile/two-factor")
            #expect(page.text.contains("Disabled") && page.text.contains(">Enable</a>"))
            // Adding a method asks for the password first, then continues to the choice (issue 12).
            #expect(try await browser.get("/profile/two-factor/enable").location == "/profile/confirm?next=%2Fprofile%2Ftwo%2Dfactor%2Fenable")
            try await browser.reauthenticate(next: "/profile/two-factor/enable")
            let choose = try await browser.get("/profile/two-factor/enable")
            #expect(choose.text.contains(">App</span>") && choose.text.contains(">SMS</span>"))

            #expect(try await browser.post("/profile/two-factor/app").location == "/profile/two-factor/app")
            let app = try await browser.get("/profile/two-factor/app")
            #expect(app.text.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""))
            #expect(app.text.contains("Activate 2-step verification") && app.text.contains("Trust this device"))
            #expect(app.text.contains("<label for=\"code\">Security code</label>"))
            let key = try #require(app.manualKey)
            let totp = try TOTP(secret: try Base32.decode(key))

            // A wrong code keeps the same pending key.
            let wrong = try await browser.post("/profile/two-factor/app/activate", ["code": "000000"])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.manualKey == key)

            let done = try await browser.post("/profile/two-factor/app/activate", ["code": totp.code(at: server.clock.now)])
            #expect(done.location == "/profile/two-factor?done=enabled")
            let enabled = try await browser.get("/profile/two-factor?done=enabled")
            #expect(enabled.text.contains("Enabled") && enabled.text.contains(">Disable</a>"))
            #expect(enabled.text.contains("Two-factor authentication enabled"), "security activity")
        }
    }

    /// The pending secret is sealed, bound to its user, and lives 15 minutes.
    @Test func pendingSecretIsSealedBoundAndExpires() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            try await browser.reauthenticate()
            try await browser.post("/profile/two-factor/app")
            let key = try #require(try await browser.get("/profile/two-factor/app").manualKey)
            let secret = try Base32.decode(key)

            let sealed = try await server.store.database.sql.raw("SELECT sealed_secret FROM factors").all(
                decodingColumn: "sealed_secret",
                as: String.self
            )
            #expect(sealed.count == 1 && sealed[0].hasPrefix("v1."))
            #expect(!sealed[0].contains(key.replacingOccurrences(of: " ", with: "")))
            let user = try #require(try await server.store.user(email: "bob@example.com"))
            #expect(try server.parts.keyRing.open(sealed[0], context: "totp:user:\(user.id)") == secret)
            #expect(throws: SealingError.self) { try server.parts.keyRing.open(sealed[0], context: "totp:user:\(user.id + 1)") }

            // Another account never sees bob's pending key.
            let other = Browser(client)
            try await other.signUp("mallory@example.com")
            try await other.reauthenticate()
            #expect(try await other.get("/profile/two-factor/app").location == "/profile/two-factor/enable")

            server.clock.advance(14 * 60)
            // The key is a secret: showing it again needs the password again, like making it did.
            #expect(try await browser.get("/profile/two-factor/app").location?.hasPrefix("/profile/confirm") == true)
            try await browser.reauthenticate(next: "/profile/two-factor/app")
            #expect(try await browser.get("/profile/two-factor/app").manualKey == key, "still there at 14 minutes")
            server.clock.advance(2 * 60)
            #expect(try await browser.get("/profile/two-factor/app").location == "/profile/two-factor/enable", "gone at 16")
            let late = try await browser.post("/profile/two-factor/app/activate", ["code": try TOTP(secret: secret).code(at: server.clock.now)])
            #expect(late.location == "/profile/two-factor/enable")
            try await browser.post("/profile/two-factor/app")
            #expect(try await browser.get("/profile/two-factor/app").manualKey != key, "a new key after expiry")
        }
    }

    @Test func signInAsksForTheSecurityCode() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("carol@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()

            #expect(try await browser.signIn("carol@example.com").location == "/signin/code")
            #expect(try await browser.get("/profile").location == "/signin", "the password alone opens nothing")
            let codePage = try await browser.get("/signin/code")
            #expect(codePage.text.contains("<h1>Security code</h1>") && codePage.text.contains("Trust this device"))
            server.clock.advance(30)
            let passed = try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)])
            #expect(passed.location == "/profile")
            #expect(try await browser.get("/profile").status == .ok)
            #expect(try await browser.get("/signin/code").location == "/profile")
        }
    }

    /// Between the password and the code the session lives 10 minutes: a stolen half-way cookie soon dies.
    @Test func theHalfWaySessionExpiresInTenMinutes() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("olga@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            _ = try await browser.signIn("olga@example.com")
            server.clock.advance(9 * 60)
            #expect(try await browser.get("/signin/code").status == .ok, "9 minutes")
            server.clock.advance(2 * 60)
            #expect(try await browser.get("/signin/code").location == "/signin", "11 minutes")
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/signin")
        }
    }

    /// RFC 6238 §5.2: a code works once — also across sign-ins, and the activation code cannot sign in.
    @Test func codesAreAcceptedOnce() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dave@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            let activationCode = totp.code(at: server.clock.now)
            try await browser.signOut()

            _ = try await browser.signIn("dave@example.com")
            let reused = try await browser.post("/signin/code", ["code": activationCode])
            #expect(reused.status == .unauthorized)
            #expect(reused.text.contains("already used"))

            server.clock.advance(30)
            let fresh = totp.code(at: server.clock.now)
            #expect(try await browser.post("/signin/code", ["code": fresh]).location == "/profile")
            try await browser.signOut()
            _ = try await browser.signIn("dave@example.com")
            #expect(try await browser.post("/signin/code", ["code": fresh]).status == .unauthorized, "the same code in a new sign-in")
            let events = try await server.store.events(userID: 1, limit: 50).map(\.kind)
            #expect(events.filter { $0 == .secondFactorReplayed }.count == 2)
        }
    }

    /// Two requests racing with one code: the conditional update lets exactly one through.
    @Test func concurrentUseOfOneCodeSucceedsOnce() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("erin@example.com")
            let totp = try await owner.enableApp(at: server.clock)
            server.clock.advance(30)
            let code = totp.code(at: server.clock.now)
            var browsers: [Browser] = []
            for _ in 0..<10 {
                let browser = Browser(client)
                _ = try await browser.signIn("erin@example.com")
                browsers.append(browser)
            }
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for browser in browsers {
                    group.addTask { try await browser.post("/signin/code", ["code": code]).location == "/profile" }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }

    /// SPEC §2: 5 failures, then 30 s doubling to 1 h; only a success resets; 100 locks until an operator resets.
    @Test func lockoutSlowsAndThenStopsGuessing() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("frank@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            _ = try await browser.signIn("frank@example.com")
            server.clock.advance(30)

            for attempt in 1...4 {
                let page = try await browser.post("/signin/code", ["code": "000000"])
                #expect(page.text.contains("not right"), "attempt \(attempt)")
            }
            let fifth = try await browser.post("/signin/code", ["code": "000000"])
            #expect(fifth.text.contains("try again in 30 seconds"))
            // During the wait even the right code is not checked.
            let waiting = try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)])
            #expect(waiting.text.contains("Too many wrong codes") && waiting.text.contains("try again in 30 seconds"))

            server.clock.advance(31)
            let sixth = try await browser.post("/signin/code", ["code": "000000"])
            #expect(sixth.text.contains("try again in 60 seconds"), "doubles")
            // Time alone never resets the count.
            server.clock.advance(5 * 60 * 60)
            _ = try await browser.signIn("frank@example.com")
            let seventh = try await browser.post("/signin/code", ["code": "000000"])
            #expect(seventh.text.contains("try again in 2 minutes"))
            server.clock.advance(121)
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/profile")
            let user = try #require(try await server.store.user(email: "frank@example.com"))
            #expect(try await server.services.lockout.failures(.codes(userID: user.id)) == .none, "a success resets the count")
            #expect(try await server.store.events(userID: user.id, limit: 50).contains { $0.kind == .lockedOut })
        }
    }

    @Test func delaysCapAtOneHourAndAHundredFailuresLock() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("grace@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            var last = ""
            for _ in 1...99 {
                server.clock.advance(3_601)
                if try await browser.get("/signin/code").location != nil { _ = try await browser.signIn("grace@example.com") }
                last = try await browser.post("/signin/code", ["code": "000000"]).text
            }
            #expect(last.contains("try again in 60 minutes"), "capped at an hour")
            server.clock.advance(3_601)
            _ = try await browser.signIn("grace@example.com")
            let hundredth = try await browser.post("/signin/code", ["code": "000000"])
            #expect(hundredth.text.contains("locked"))
            server.clock.advance(24 * 3_600)
            _ = try await browser.signIn("grace@example.com")
            let right = try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)])
            #expect(right.text.contains("locked"), "locked even for the right code, a day later")

            // The operator's reset: 2FA off, count cleared.
            let user = try #require(try await server.store.user(email: "grace@example.com"))
            _ = try await OperatorActions(parts: server.parts).resetTwoFactor(email: user.name, actor: "test")
            #expect(try await browser.signIn("grace@example.com").location == "/profile/two-factor/enable")
            #expect(try await server.services.lockout.failures(.codes(userID: user.id)) == .none)
        }
    }

    @Test func trustedDevicesSkipTheCodeUntilRevokedOrExpired() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("heidi@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            _ = try await browser.signIn("heidi@example.com")
            server.clock.advance(30)
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now), "trust": "on"]).location == "/profile")
            let token = try #require(browser.cookies[Browser.deviceCookie])
            let stored = try await server.store.database.sql.raw("SELECT token_hash FROM trusted_devices").all(
                decodingColumn: "token_hash",
                as: String.self
            )
            #expect(stored == [RandomToken.hash(token)], "stored hashed")

            let page = try await browser.get("/profile/two-factor")
            #expect(page.text.contains("Chrome on Linux") && page.text.contains("(this browser)"))
            try await browser.signOut()
            #expect(try await browser.signIn("heidi@example.com").location == "/profile", "trusted: no code")

            // The cookie is worthless for another account.
            let other = Browser(client)
            try await other.signUp("ivan@example.com")
            _ = try await other.enableApp(at: server.clock)
            try await other.signOut()
            other.cookies[Browser.deviceCookie] = token
            #expect(try await other.signIn("ivan@example.com").location == "/signin/code")

            // Revoking one device asks for the code again.
            let user = try #require(try await server.store.user(email: "heidi@example.com"))
            let device = try #require(try await server.store.trustedDevices(userID: user.id).first)
            #expect(try await browser.post("/profile/two-factor/devices/\(device.id)/revoke").location == "/profile/two-factor?done=revoked")
            #expect(try await browser.post("/profile/two-factor/devices/\(device.id)/revoke").status == .notFound)
            try await browser.signOut()
            #expect(try await browser.signIn("heidi@example.com").location == "/signin/code")

            // Trust again, then let 30 days pass.
            server.clock.advance(30)
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now), "trust": "on"]).location == "/profile")
            try await browser.signOut()
            server.clock.advance(29 * 24 * 3_600)
            #expect(try await browser.signIn("heidi@example.com").location == "/profile", "day 29")
            try await browser.signOut()
            server.clock.advance(2 * 24 * 3_600)
            #expect(try await browser.signIn("heidi@example.com").location == "/signin/code", "day 31")
        }
    }

    @Test func revokeAllAndPasswordChangeForgetDevices() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("judy@example.com")
            _ = try await browser.enableApp(at: server.clock, trust: true)
            let user = try #require(try await server.store.user(email: "judy@example.com"))
            #expect(try await server.store.trustedDevices(userID: user.id).count == 1, "trusted at activation")
            #expect(try await browser.post("/profile/two-factor/devices/revoke-all").location == "/profile/two-factor?done=revoked-all")
            #expect(try await server.store.trustedDevices(userID: user.id).isEmpty)

            _ = try await server.store.createTrustedDevice(userID: user.id, tokenHash: "x", userAgent: "", at: 0, expiresAt: .max)
            _ = try await browser.post("/profile/password", ["current": "correct horse battery", "new": "another long passphrase"])
            #expect(try await server.store.trustedDevices(userID: user.id).isEmpty)
        }
    }

    /// SPEC F7: disabling needs the password or a current code, never a bare click, and forgets devices.
    @Test func disablingNeedsProof() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ken@example.com")
            let totp = try await browser.enableApp(at: server.clock, trust: true)
            let confirm = try await browser.get("/profile/two-factor/disable")
            #expect(confirm.text.contains("decreases the security of your account") && confirm.text.contains(">Disable</button>"))

            #expect(try await browser.post("/profile/two-factor/disable").status == .unprocessableContent)
            #expect(try await browser.post("/profile/two-factor/disable", ["password": "guess"]).status == .unprocessableContent)
            #expect(try await browser.post("/profile/two-factor/disable", ["code": "000000"]).status == .unprocessableContent)
            let user = try #require(try await server.store.user(email: "ken@example.com"))
            #expect(try await server.store.factors(userID: user.id).count == 1, "still on")

            server.clock.advance(30)
            let done = try await browser.post("/profile/two-factor/disable", ["code": totp.code(at: server.clock.now)])
            #expect(done.location == "/profile/two-factor?done=disabled")
            #expect(try await server.store.factors(userID: user.id).isEmpty)
            #expect(try await server.store.trustedDevices(userID: user.id).isEmpty, "devices revoked")
            #expect(browser.cookies[Browser.deviceCookie] == nil)
            let events = try await server.store.events(userID: user.id, limit: 50).map(\.kind)
            #expect(events.contains(.twoFactorDisabled) && events.contains(.deviceTrusted))

            // And with the password.
            _ = try await browser.enableApp(at: server.clock)
            #expect(
                try await browser.post("/profile/two-factor/disable", ["password": "correct horse battery"]).location
                    == "/profile/two-factor?done=disabled"
            )
        }
    }
}
