import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// SPEC F14 and issue 12 item 7: a password change, disabling 2FA and an operator reset end every
/// other session and API token of the account; "Sign out everywhere" ends them all.
@Suite("Ending sessions")
struct SessionEndTests {
    /// One account signed in twice more: a second browser and an API client with a bearer token.
    struct Others {
        let browser: Browser
        var api: APIClient
    }

    static func signInElsewhere(
        _ client: any TestClientProtocol,
        email: String,
        password: String = "correct horse battery",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Others {
        let browser = Browser(client)
        let signedIn = try await browser.signIn(email, password: password)
        #expect(signedIn.location == "/profile", sourceLocation: sourceLocation)
        var api = APIClient(client: client)
        let reply = try await api.call(.post, "/api/v1/session", ["email": email, "password": password])
        api.token = try #require(reply["token"] as? String, sourceLocation: sourceLocation)
        #expect(try await api.call(.get, "/api/v1/account").status == .ok, sourceLocation: sourceLocation)
        #expect(try await browser.get("/profile").status == .ok, sourceLocation: sourceLocation)
        return Others(browser: browser, api: api)
    }

    static func expectEnded(_ others: Others, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(try await others.browser.get("/profile").location == "/signin", "the other browser is signed out", sourceLocation: sourceLocation)
        #expect(try await others.api.call(.get, "/api/v1/account").status == .unauthorized, "the API token ended", sourceLocation: sourceLocation)
    }

    @Test func changingThePasswordEndsEveryOtherSession() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let others = try await Self.signInElsewhere(client, email: "ann@example.com")
            let before = browser.cookies[Browser.sessionCookie]
            let changed = try await browser.post("/profile/password", ["current": "correct horse battery", "new": "a brand new password"])
            #expect(changed.location == "/profile?done=password")
            #expect(browser.cookies[Browser.sessionCookie] != before, "this session stays, under a new id")
            #expect(try await browser.get("/profile").status == .ok)
            try await Self.expectEnded(others)
        }
    }

    @Test func changingThePasswordOverTheAPIEndsEveryOtherSession() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            var others = try await Self.signInElsewhere(client, email: "ann@example.com")
            let old = others.api.token
            let changed = try await others.api.call(
                .post,
                "/api/v1/account/password",
                ["current": "correct horse battery", "new": "a brand new password"]
            )
            let token = try #require(changed["token"] as? String)
            #expect(try await others.api.call(.get, "/api/v1/account", token: old).status == .unauthorized)
            others.api.token = token
            #expect(try await others.api.call(.get, "/api/v1/account").status == .ok)
            #expect(try await browser.get("/profile").location == "/signin")
            #expect(try await others.browser.get("/profile").location == "/signin")
        }
    }

    @Test func disablingTwoFactorEndsEveryOtherSession() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            let others = Others(
                browser: try await Self.browserSession(client, totp: totp, clock: server.clock),
                api: try await Self.apiSession(client, totp: totp, clock: server.clock)
            )
            server.clock.advance(30)
            let disabled = try await browser.post("/profile/two-factor/disable", ["password": "correct horse battery"])
            #expect(disabled.location == "/profile/two-factor?done=disabled")
            #expect(try await browser.get("/profile").status == .ok)
            try await Self.expectEnded(others)
        }
    }

    @Test func disablingOverTheAPIEndsEveryOtherSession() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            var api = try await Self.apiSession(client, totp: totp, clock: server.clock)
            let disabled = try await api.call(.post, "/api/v1/account/two-factor/disable", ["password": "correct horse battery"])
            #expect(disabled["enabled"] as? Bool == false)
            api.token = try #require(disabled["token"] as? String)
            #expect(try await api.call(.get, "/api/v1/account").status == .ok)
            #expect(try await browser.get("/profile").location == "/signin")
        }
    }

    @Test func signOutEverywhereFromAPage() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let others = try await Self.signInElsewhere(client, email: "ann@example.com")
            let done = try await browser.post("/profile/signout-everywhere")
            #expect(done.location == "/signin?done=signed-out-everywhere")
            #expect(try await browser.get("/profile").location == "/signin")
            try await Self.expectEnded(others)
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(try await server.store.events(userID: user.id, limit: 5).contains { $0.kind == .signedOutEverywhere })
        }
    }

    @Test func signOutEverywhereOverTheAPI() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            let others = try await Self.signInElsewhere(client, email: "ann@example.com")
            #expect(try await others.api.call(.delete, "/api/v1/sessions").status == .noContent)
            try await Self.expectEnded(others)
            #expect(try await browser.get("/profile").location == "/signin")
        }
    }

    /// A second browser past both steps.
    static func browserSession(
        _ client: any TestClientProtocol,
        totp: TOTP,
        clock: TestClock,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Browser {
        let browser = Browser(client)
        #expect(try await browser.signIn("ann@example.com").location == "/signin/code", sourceLocation: sourceLocation)
        clock.advance(30)
        #expect(try await browser.post("/signin/code", ["code": totp.code(at: clock.now)]).location == "/profile", sourceLocation: sourceLocation)
        return browser
    }

    /// A bearer session past both steps, the code made one step later than the last one used.
    static func apiSession(
        _ client: any TestClientProtocol,
        totp: TOTP,
        clock: TestClock,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIClient {
        var api = APIClient(client: client)
        let first = try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])
        let challenge = try #require(first["challenge"] as? String, sourceLocation: sourceLocation)
        clock.advance(30)
        let second = try await api.call(.post, "/api/v1/session/second-factor", ["challenge": challenge, "code": totp.code(at: clock.now)])
        api.token = try #require(second["token"] as? String, "\(second.text)", sourceLocation: sourceLocation)
        return api
    }
}
