import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// The operator's 2FA policy at sign-in (issue 18): enrolment with and without grace, on the pages
/// and the API, by domain, with allowed methods, and for the other applications' sign-ins.
@Suite("Two-factor policy at sign-in")
struct PolicyGateTests {
    static let day: TimeInterval = 86_400

    static func makeServer(
        require: String = "all",
        graceDays: Int = 7,
        methods: Set<TwoFactorMethod> = Set(TwoFactorMethod.allCases),
        _ adjust: @escaping (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        try await TestServer.make { configuration in
            configuration.twoFactorPolicy = TwoFactorPolicy(
                requirement: TwoFactorRequirement(require)!,
                graceDays: graceDays,
                allowedMethods: methods
            )
            adjust(&configuration)
        }
    }

    /// Signs up and signs out again: the policy meets the account at its first sign-in.
    static func account(_ browser: Browser, _ email: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await browser.signUp(email, sourceLocation: sourceLocation)
        try await browser.signOut()
    }

    /// Gives the account a confirmed SMS method directly in the store, as one enrolled before the
    /// operator stopped allowing SMS.
    static func giveSMS(_ server: TestServer, _ email: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let user = try #require(try await server.store.user(email: email), sourceLocation: sourceLocation)
        let time = server.clock.now.unixTime
        let factor = try await server.store.createFactor(
            userID: user.id,
            kind: .sms,
            sealedSecret: nil,
            phone: "+31612345678",
            algorithm: "",
            digits: 6,
            period: 0,
            at: time
        )
        try await server.store.confirmFactor(id: factor.id, lastUsedStep: nil, at: time)
    }

    @Test func withGraceTheSignInOffersNotNowAndCountsTheDaysFromTheFirstSignIn() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await Self.account(browser, "ann@example.com")
            let firstSignIn = server.clock.now
            #expect(try await browser.signIn("ann@example.com").location == "/profile/two-factor/enable", "right after the password")
            let page = try await browser.get("/profile/two-factor/enable")
            #expect(page.status == .ok)
            #expect(page.text.contains("Set up two-factor authentication to continue"))
            #expect(page.text.contains("7 days left"))
            #expect(page.text.contains(#"id="not-now""#) && page.text.contains(#"action="/signin/continue""#))
            #expect(try await server.store.user(email: "ann@example.com")?.twoFactorGraceFrom == firstSignIn.unixTime)
            // Not now: the profile opens, within the grace.
            #expect(try await browser.get("/signin/continue").location == "/profile")
            #expect(try await browser.get("/profile").status == .ok)

            // A later sign-in does not restart the grace (sessions end after 30 idle minutes: sign in again).
            server.clock.advance(7 * Self.day - 20 * 60)
            #expect(try await browser.signIn("ann@example.com").location == "/profile/two-factor/enable")
            #expect(try await browser.get("/profile/two-factor/enable").text.contains("1 day left"))
            #expect(try await browser.get("/profile").status == .ok)
            #expect(try await server.store.user(email: "ann@example.com")?.twoFactorGraceFrom == firstSignIn.unixTime)

            // The deadline passes during the session: every page now leads to enrolment, sign-out still works.
            server.clock.advance(20 * 60)
            for path in ["/profile", "/profile/two-factor", "/profile/two-factor/recovery-codes", "/profile/email"] {
                #expect(try await browser.get(path).location == "/profile/two-factor/enable", "\(path)")
            }
            let confirm = try await browser.get("/profile/two-factor/enable").location
            #expect(confirm?.hasPrefix("/profile/confirm") == true, "the sign-in was 20 minutes ago: the password again first")
            try await browser.reauthenticate(next: "/profile/two-factor/enable")
            let closed = try await browser.get("/profile/two-factor/enable")
            #expect(closed.text.contains("Set up two-factor authentication to continue"))
            #expect(!closed.text.contains("Not now") && !closed.text.contains("days left"))
            _ = try await browser.enableApp(at: server.clock)
            #expect(try await browser.get("/profile").status == .ok, "a method is on: everything opens")
            #expect(!(try await browser.get("/profile/two-factor/enable").text.contains("to continue")))
        }
    }

    @Test func withoutGraceThereIsNoWayPastEnrolment() async throws {
        let server = try await Self.makeServer(graceDays: 0)
        try await server.run { client in
            let browser = Browser(client)
            try await Self.account(browser, "ann@example.com")
            #expect(try await browser.signIn("ann@example.com").location == "/profile/two-factor/enable")
            let page = try await browser.get("/profile/two-factor/enable")
            #expect(page.text.contains("Set up two-factor authentication to continue"))
            #expect(!page.text.contains("Not now"))
            for path in ["/profile", "/profile/two-factor", "/profile/two-factor/disable", "/profile/email"] {
                #expect(try await browser.get(path).location == "/profile/two-factor/enable", "\(path)")
            }
            #expect(
                try await browser.post("/profile/password", ["current": "correct horse battery", "new": "another password"]).location
                    == "/profile/two-factor/enable"
            )
            // /signin/continue leads only to the profile, which is closed too.
            #expect(try await browser.get("/signin/continue").location == "/profile")
            #expect(try await browser.post("/signout").location == "/signin?done=signed-out", "sign-out still works")
            #expect(try await browser.signIn("ann@example.com").location == "/profile/two-factor/enable")
            _ = try await browser.enableApp(at: server.clock)
            #expect(try await browser.get("/profile").status == .ok)
        }
    }

    /// `domains:` covers exactly those domains, however the address or the flag is written (IDNA, case).
    @Test func onlyTheNamedDomainsMustEnrol() async throws {
        let server = try await Self.makeServer(require: "domains:corp.example,Bücher.example", graceDays: 0)
        try await server.run { client in
            for (email, required) in [
                ("ann@corp.example", true), ("Carl@CORP.Example", true), ("dora@bücher.example", true), ("bob@sub.corp.example", false),
                ("eve@corp.example.test", false), ("fay@home.example", false),
            ] {
                let browser = Browser(client)
                try await Self.account(browser, email)
                let expected = required ? "/profile/two-factor/enable" : "/profile"
                #expect(try await browser.signIn(email).location == expected, "\(email)")
            }
        }
    }

    @Test func theAPISignInAnswersEnrolmentRequiredWithTheSameRules() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            try await Self.account(Browser(client), "ann@example.com")
            var api = APIClient(client: client)
            let credentials = ["email": "ann@example.com", "password": "correct horse battery"]
            let signIn = try await api.call(.post, "/api/v1/session", credentials)
            #expect(signIn["status"] as? String == "enrolment_required")
            #expect(signIn["enrolment_reason"] as? String == "policy")
            let deadline = server.clock.now.addingTimeInterval(7 * Self.day)
            #expect(signIn["enrolment_deadline"] as? String == deadline.ISO8601Format())
            api.token = try #require(signIn["token"] as? String)
            #expect(try await api.call(.get, "/api/v1/account").status == .ok, "within the grace the token goes through")

            server.clock.advance(7 * Self.day - 10 * 60)
            var late = APIClient(client: client)
            late.token = try #require(try await api.call(.post, "/api/v1/session", credentials)["token"] as? String)
            #expect(try await late.call(.get, "/api/v1/account").status == .ok, "the last minutes of the grace")
            server.clock.advance(10 * 60)
            #expect(try await late.call(.get, "/api/v1/account").errorCode == "enrolment_required", "the deadline passed during the session")
            #expect(try await late.call(.get, "/api/v1/account/events").status == .forbidden)
            let again = try await api.call(.post, "/api/v1/session", credentials)
            #expect(again["status"] as? String == "enrolment_required")
            #expect(again["enrolment_deadline"] == nil, "no grace left")
            api.token = try #require(again["token"] as? String)
            #expect(try await api.call(.get, "/api/v1/account/two-factor").status == .ok)
            try await api.reauthenticate()
            let enrolment = try await api.call(.post, "/api/v1/account/two-factor/app")
            let totp = try TOTP(secret: try Base32.decode(try #require(enrolment["secret"] as? String)))
            let enabled = try await api.call(.post, "/api/v1/account/two-factor/app/confirm", ["code": totp.code(at: server.clock.now)])
            #expect(enabled["enabled"] as? Bool == true)
            #expect(try await api.call(.get, "/api/v1/account").status == .ok)
        }
    }

    /// `--allowed-methods app,key`: SMS is neither offered nor enrolled, on the page or the API.
    @Test func aDisallowedMethodCannotBeEnrolled() async throws {
        let server = try await Self.makeServer(require: "none", methods: [.app, .key])
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            try await browser.reauthenticate()
            let choice = try await browser.get("/profile/two-factor/enable")
            #expect(choice.text.contains(#"action="/profile/two-factor/app""#))
            #expect(!choice.text.contains("/profile/two-factor/sms"), "SMS is not offered")
            #expect(try await browser.get("/profile/two-factor/sms").location == "/profile/two-factor/enable")
            #expect(try await browser.post("/profile/two-factor/sms", ["phone": "+31612345678"]).location == "/profile/two-factor/enable")
            #expect(try server.outbox().isEmpty, "nothing was texted")

            var api = APIClient(client: client)
            let signIn = try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])
            api.token = try #require(signIn["token"] as? String)
            try await api.reauthenticate()
            let refused = try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31612345678"])
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "method_not_allowed")
            #expect(try server.outbox().isEmpty)
        }
    }

    /// An account whose only method the operator no longer allows signs in with it, is asked to
    /// switch (grace, then no way past), and the old method is gone once the new one is on.
    @Test func anAccountWithOnlyADisallowedMethodIsAskedToSwitch() async throws {
        let server = try await Self.makeServer(require: "none", methods: [.app, .key])
        try await server.run { client in
            let browser = Browser(client)
            try await Self.account(browser, "ann@example.com")
            try await Self.giveSMS(server, "ann@example.com")
            #expect(try await browser.signIn("ann@example.com").location == "/signin/code")
            _ = try await browser.post("/signin/sms")
            let signedIn = try await browser.post("/signin/code", ["code": try server.lastCode()])
            #expect(signedIn.location == "/profile/two-factor/enable", "asked to switch right after the code")
            let page = try await browser.get("/profile/two-factor/enable")
            #expect(page.text.contains("no longer accepts"))
            #expect(page.text.contains("7 days left") && page.text.contains("Not now"))
            #expect(!page.text.contains("/profile/two-factor/sms"))
            #expect(try await browser.get("/profile").status == .ok, "within the grace")

            server.clock.advance(7 * Self.day)
            #expect(try await browser.signIn("ann@example.com").location == "/signin/code")
            _ = try await browser.post("/signin/sms")
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile/two-factor/enable")
            #expect(try await browser.get("/profile").location == "/profile/two-factor/enable", "the deadline passed")
            #expect(!(try await browser.get("/profile/two-factor/enable").text.contains("Not now")))
            _ = try await browser.enableApp(at: server.clock)
            #expect(try await browser.get("/profile").status == .ok)
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(try await server.services.twoFactor.status(of: user).kinds == [.totp], "the SMS method is gone")
        }
    }

    /// Forward-auth and OpenID Connect sign in through the same sessions: an account past its grace
    /// reaches no other application, even with a session that passed a (disallowed) second factor.
    @Test func otherApplicationsSignInsDoNotBypassTheGate() async throws {
        let server = try await Self.makeServer(require: "none", methods: [.app]) { configuration in
            configuration.publicURL = OIDCTests.issuer
            configuration.cookieDomain = "example.com"
        }
        try await server.run { client in
            let party = try await OIDCTests.RelyingParty.register(server)
            let browser = Browser(client)
            try await Self.account(browser, "ann@example.com")
            try await Self.giveSMS(server, "ann@example.com")
            #expect(try await browser.signIn("ann@example.com").location == "/signin/code")
            _ = try await browser.post("/signin/sms")
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile/two-factor/enable")
            // Within the grace (Not now) both let the person through.
            #expect(try await ForwardAuthTests.verify(browser).status == .ok)
            #expect(try await browser.get(party.authorizePath()).location?.hasPrefix(OIDCTests.redirectURI + "?") == true)

            server.clock.advance(7 * Self.day - 10 * 60)
            #expect(try await browser.signIn("ann@example.com").location == "/signin/code")
            _ = try await browser.post("/signin/sms")
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile/two-factor/enable")
            #expect(try await ForwardAuthTests.verify(browser).status == .ok, "the last minutes of the grace")
            server.clock.advance(10 * 60)
            let verify = try await ForwardAuthTests.verify(browser, original: "https://app.example.com/inbox")
            #expect(verify.status == .unauthorized, "forward-auth refuses past the deadline")
            let signInPage = try #require(verify.headers[.location]?.replacingOccurrences(of: OIDCTests.issuer, with: ""))
            #expect(signInPage.hasPrefix("/signin?rd="))
            #expect(try await browser.get(signInPage).location == "/profile/two-factor/enable", "the sign-in sends it to enrolment, not back")
            #expect(try await browser.get(party.authorizePath()).location == "/profile/two-factor/enable", "no code for the application")
            let silent = try await browser.get(party.authorizePath(extra: ["prompt": "none"]))
            #expect(silent.location.map(OIDCTests.query)?["error"] == "interaction_required")
        }
    }

    /// Two first sign-ins at once keep one start: the earlier stored value is never moved.
    @Test func theGraceStartIsStoredOnce() async throws {
        let server = try await Self.makeServer()
        try await server.run { _ in
            let user = try await server.store.createUser(email: "ann@example.com", passwordHash: "x", at: 1)
            async let first = server.store.startTwoFactorGrace(userID: user.id, at: 1_000)
            async let second = server.store.startTwoFactorGrace(userID: user.id, at: 2_000)
            let starts = try await [first, second]
            #expect(starts[0] == starts[1], "both see the same start: \(starts)")
            #expect(try await server.store.startTwoFactorGrace(userID: user.id, at: 3_000) == starts[0])
            #expect(try await server.store.user(id: user.id)?.twoFactorGraceFrom == starts[0])
        }
    }

    /// `--allowed-methods app`: WebAuthnService gives no options and stores no key, also for options
    /// issued before the setting changed; a key-only account must switch, and loses its keys once the
    /// app is on.
    @Test func securityKeysAreRefusedWhenNotAllowed() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            var strict = server.configuration
            strict.twoFactorPolicy.allowedMethods = [.app]
            let clock = server.clock
            let refusing = Services(strict, parts: server.parts, now: { clock.now }, passwordHasher: TestServer.hasher, logger: server.logs.logger())
            let (user, session) = try await server.signedIn("ann@example.com")
            #expect(try await refusing.webAuthn.registrationOptions(user: user, session: session, passkey: false) == .methodNotAllowed)
            guard case .options(let options) = try await server.services.webAuthn.registrationOptions(user: user, session: session, passkey: false)
            else {
                Issue.record("no options while keys are allowed")
                return
            }
            let key = try SoftKey(.edDSA)
            let late = try await refusing.webAuthn.finishRegistration(
                user: user,
                session: session,
                name: "Key",
                responseJSON: try key.register(options)
            )
            #expect(late == .methodNotAllowed, "options from before the setting changed do not store a key")
            #expect(try await server.store.webAuthnCredentials(userID: user.id).isEmpty)

            // Registered while allowed; then keys are no longer allowed: the account must switch.
            guard case .options(let again) = try await server.services.webAuthn.registrationOptions(user: user, session: session, passkey: false),
                case .registered = try await server.services.webAuthn.finishRegistration(
                    user: user,
                    session: session,
                    name: "Key",
                    responseJSON: try key.register(again)
                )
            else {
                Issue.record("the key did not register")
                return
            }
            guard case .grace(.onlyDisallowedMethods, _) = try await refusing.policy.standing(of: user) else {
                Issue.record("a key-only account is not asked to switch")
                return
            }
            #expect(try await refusing.twoFactor.enrolmentStart(.totp, for: user) == .allowed, "switching needs no disable first")
            let enrolment = try await refusing.twoFactor.startAppEnrolment(for: user)
            let totp = try TOTP(secret: enrolment.uri.secret)
            #expect(try await refusing.twoFactor.activateApp(user: user, code: totp.code(at: clock.now)) == .activated)
            #expect(try await server.store.webAuthnCredentials(userID: user.id).isEmpty, "the disallowed key is gone")
            #expect(try await refusing.policy.standing(of: user) == .satisfied)
        }
    }

    /// `--allowed-methods app`: neither page offers a key, and the key API refuses with method_not_allowed.
    @Test func keysAreNotOfferedWhenNotAllowed() async throws {
        let server = try await Self.makeServer(require: "none", methods: [.app])
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            try await browser.reauthenticate()
            let choice = try await browser.get("/profile/two-factor/enable").text
            #expect(choice.contains("/profile/two-factor/app") && !choice.contains("security-keys") && !choice.contains("two-factor/sms"))
            #expect(!(try await browser.get("/profile/two-factor").text.contains("Add security key")))
            #expect(try await browser.get("/profile/two-factor/security-keys/new").location == "/profile/two-factor")
            var api = APIClient(client: client)
            api.token = try #require(
                try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])["token"] as? String
            )
            try await api.reauthenticate()
            #expect(try await api.call(.post, "/api/v1/account/webauthn/registration/options", [:]).errorCode == "method_not_allowed")
        }
    }
}
