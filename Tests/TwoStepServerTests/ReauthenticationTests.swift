import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 12 item 8 and issue 11 item 4: adding a method or a recovery phone needs the password or
/// an existing factor from the last 10 minutes; a factor being added never vouches for itself; the
/// session id changes at re-authentication; and confirming continues what the person asked for.
@Suite("Re-authentication")
struct ReauthenticationTests {
    /// A copy of the victim's session cookie, as an attacker who stole it would hold it.
    static func stolen(_ victim: Browser) -> Browser {
        let attacker = Browser(victim.client)
        attacker.cookies = victim.cookies
        return attacker
    }

    @Test func aStolenSessionCannotAddAMethodOrARecoveryPhone() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let victim = Browser(client)
            try await victim.signUp("victim@example.com")
            let attacker = Self.stolen(victim)
            for path in ["/profile/two-factor/sms", "/profile/two-factor/recovery-phone"] {
                let sent = try await attacker.post(path, ["phone": "+31612345666"])
                #expect(sent.location?.hasPrefix("/profile/confirm?next=") == true, "\(path): \(sent.status) \(sent.text.prefix(200))")
            }
            #expect(try await attacker.post("/profile/two-factor/app").location?.hasPrefix("/profile/confirm?next=") == true)
            #expect(try await attacker.get("/profile/two-factor/enable").location?.hasPrefix("/profile/confirm?next=") == true)
            #expect(try server.outbox().isEmpty, "no text went to the attacker's phone")
            let user = try #require(try await server.store.user(email: "victim@example.com"))
            #expect(try await server.store.factors(userID: user.id).isEmpty)
        }
    }

    @Test func aStolenBearerTokenCannotAddAMethodOrARecoveryPhone() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            var api = APIClient(client: client)
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "victim@example.com", "password": "correct horse battery"])
            api.token = try #require(signUp["token"] as? String)
            for path in ["/api/v1/account/two-factor/sms", "/api/v1/account/recovery-phone"] {
                let sent = try await api.call(.post, path, ["phone": "+31612345666"])
                #expect(sent.status == .forbidden && sent.errorCode == "reauthentication_required", "\(path): \(sent.text)")
            }
            #expect(try await api.call(.post, "/api/v1/account/two-factor/app").errorCode == "reauthentication_required")
            #expect(try server.outbox().isEmpty, "no text went to the attacker's phone")
        }
    }

    /// The old code granted 10 minutes of sensitive changes to whoever activated a factor, so an
    /// attacker who enrolled their own phone could then reveal recovery codes.
    @Test func activatingAFactorOpensNoReauthenticationWindow() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            try await browser.reauthenticate()
            try await browser.post("/profile/two-factor/app")
            let key = try #require(try await browser.get("/profile/two-factor/app").manualKey)
            let totp = try TOTP(secret: try Base32.decode(key))
            server.clock.advance(9 * 60)
            let activated = try await browser.post("/profile/two-factor/app/activate", ["code": totp.code(at: server.clock.now)])
            #expect(activated.location == "/profile/two-factor?done=enabled")
            server.clock.advance(2 * 60)  // 11 minutes after the password, 2 after activating
            #expect(try await browser.post("/profile/two-factor/recovery-codes").location?.hasPrefix("/profile/confirm") == true)
            #expect(try await browser.get("/profile/two-factor/recovery-phone").location?.hasPrefix("/profile/confirm") == true)

            // The same over the API: activation answers no token and opens nothing.
            var api = APIClient(client: client)
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "bob@example.com", "password": "correct horse battery"])
            api.token = try #require(signUp["token"] as? String)
            try await api.reauthenticate()
            _ = try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31612345612"])
            server.clock.advance(4 * 60)  // within the SMS code's 5 minutes
            let confirmed = try await api.call(.post, "/api/v1/account/two-factor/sms/confirm", ["code": try server.lastCode()])
            #expect(confirmed["enabled"] as? Bool == true)
            server.clock.advance(7 * 60)
            #expect(try await api.call(.post, "/api/v1/account/recovery-codes").errorCode == "reauthentication_required")
            #expect(try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": "+31612345613"]).status == .forbidden)
        }
    }

    @Test func reauthenticationRotatesTheSessionID() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let before = Self.stolen(browser)
            try await browser.reauthenticate(next: "/profile/two-factor/recovery-phone")
            #expect(try await browser.get("/profile/two-factor/recovery-phone").status == .ok)
            // The id copied before the password was typed is dead, privileged or not.
            let old = try await before.get("/profile/two-factor/recovery-phone")
            #expect(old.location == "/signin")
        }
    }

    @Test func theCSRFTokenChangesAtSignInAndSignOut() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            try await browser.signOut()
            let anonymous = try #require(browser.csrfToken)
            _ = try await browser.signIn("ann@example.com")
            let signedIn = try #require(browser.csrfToken)
            #expect(signedIn != anonymous, "a token planted or read before sign-in is worth nothing after it")
            try await browser.signOut()
            #expect(browser.csrfToken != signedIn)
            // The old token no longer passes.
            #expect(try await browser.post("/signin", ["email": "ann@example.com", "password": "x", "csrf_token": signedIn]).status == .forbidden)
        }
    }

    // MARK: Continuing after "Confirm it's you" (issue 11 item 4)

    @Test func generateTokensContinuesAfterThePassword() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            _ = try await browser.enableApp(at: server.clock)
            server.clock.advance(11 * 60)
            let asked = try await browser.post("/profile/two-factor/recovery-codes")
            let location = try #require(asked.location)
            #expect(location == "/profile/confirm?next=%2Fprofile%2Ftwo%2Dfactor%3Fthen%3Dgenerate%2Drecovery%2Dcodes")
            let form = try await browser.get(location)
            #expect(form.text.contains(#"name="next" value="/profile/two-factor?then=generate-recovery-codes""#))
            let done = try await browser.post(
                "/profile/confirm",
                ["password": "correct horse battery", "next": "/profile/two-factor?then=generate-recovery-codes"]
            )
            #expect(done.location == "/profile/two-factor/recovery-codes?done=generated", "the codes, without a second click")
            let codes = try await browser.get("/profile/two-factor/recovery-codes?done=generated")
            #expect(codes.text.contains("These 10 codes replace any earlier ones"))
            #expect(codes.text.matches(of: /<li><code>[a-z0-9]{5}-[a-z0-9]{5}<\/code><\/li>/).count == 10)
        }
    }

    @Test func removingTheRecoveryPhoneContinuesAfterThePassword() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            try await browser.reauthenticate()
            _ = try await browser.post("/profile/two-factor/recovery-phone", ["phone": "+31612345612"])
            _ = try await browser.post("/profile/two-factor/recovery-phone/activate", ["code": try server.lastCode()])
            server.clock.advance(11 * 60)
            let asked = try await browser.post("/profile/two-factor/recovery-phone/remove")
            #expect(asked.location == "/profile/confirm?next=%2Fprofile%2Ftwo%2Dfactor%3Fthen%3Dremove%2Drecovery%2Dphone")
            let done = try await browser.post(
                "/profile/confirm",
                ["password": "correct horse battery", "next": "/profile/two-factor?then=remove-recovery-phone"]
            )
            #expect(done.location == "/profile/two-factor?done=recovery-phone-removed")
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(try await server.store.factors(userID: user.id).isEmpty)
        }
    }

    @Test func pagesContinueAfterThePassword() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            for page in ["/profile/two-factor/enable", "/profile/two-factor/sms", "/profile/two-factor/recovery-phone"] {
                server.clock.advance(11 * 60)
                let asked = try await browser.get(page)
                #expect(asked.location == "/profile/confirm?next=" + Browser.encode(page))
                let done = try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": page])
                #expect(done.location == page)
                #expect(try await browser.get(page).status == .ok)
            }
        }
    }

    static let offSiteTargets = [
        "//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example", "http:/evil.example", "/profile/../../evil",
        "javascript:alert(1)", "/profile@evil.example", "/signin", " /profile",
    ]

    @Test(arguments: Self.offSiteTargets)
    func confirmingNeverLeavesTheProfile(next: String) async throws {
        #expect(LocalPath.profile(next) == nil)
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let page = try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": next])
            #expect(page.location == "/profile/two-factor")
            let form = try await browser.get("/profile/confirm?next=" + Browser.encode(next))
            #expect(form.text.contains(#"name="next" value="/profile/two-factor""#))
        }
    }

    @Test func anUnknownActionOnlyOpensThePage() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let page = try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": "/profile/two-factor?then=disable"])
            #expect(page.location == "/profile/two-factor?then=disable", "only the listed actions are performed")
        }
    }

    @Test func localPathsAreKept() {
        #expect(LocalPath.profile("/profile/two-factor/recovery-codes") == "/profile/two-factor/recovery-codes")
        #expect(LocalPath.profile("/profile") == "/profile")
        #expect(LocalPath.profile("/profile?done=password") == "/profile?done=password")
    }
}
