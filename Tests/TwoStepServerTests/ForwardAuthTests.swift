import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Forward-auth (`/auth/verify`), the sign-in's return address (`rd`) and the cookie domain (issue 14).
@Suite("Forward-auth and return addresses")
struct ForwardAuthTests {
    static func makeServer(_ adjust: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await TestServer.make { configuration in
            configuration.publicURL = "https://auth.example.com"
            configuration.cookieDomain = "example.com"
            adjust(&configuration)
        }
    }

    static let sessionCookie = "__Secure-twostep-session"

    /// A browser whose session cookie goes by the cookie-domain name.
    static func verify(_ browser: Browser, original: String? = nil) async throws -> Page {
        var headers: HTTPFields = [.userAgent: browser.userAgent]
        if !browser.cookies.isEmpty { headers[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if let original { headers[.xOriginalURL] = original }
        return Page(response: try await browser.client.executeRequest(uri: "/auth/verify", method: .get, headers: headers, body: nil))
    }

    /// 200 with who it is only after the second step; 401 before it, and for no session at all.
    @Test func verifyPassesOnlyASessionThatPassedTheSecondStep() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            #expect(try await Self.verify(browser).status == .unauthorized, "no session")
            try await browser.signUp("alice@example.com")
            #expect(try await Self.verify(browser).status == .unauthorized, "password only, no second factor: refused by default")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            #expect(try await browser.signIn("alice@example.com").location == "/signin/code")
            let halfWay = try await Self.verify(browser)
            #expect(halfWay.status == .unauthorized, "the password passed, the code is still owed")
            #expect(halfWay.headers[.remoteUser] == nil)
            server.clock.advance(30)
            _ = try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)])
            let passed = try await Self.verify(browser)
            #expect(passed.status == .ok)
            #expect(passed.headers[.remoteUser] == "1")
            #expect(passed.headers[.remoteEmail] == "alice@example.com")
            #expect(passed.headers[.remoteMethods] == "pwd,otp,mfa")
            try await browser.signOut()
            #expect(try await Self.verify(browser).status == .unauthorized, "signed out")
        }
    }

    /// `--forward-auth-password-only`: an account with no second factor passes on its password.
    @Test func passwordOnlyAccountsPassWhenTheOperatorAllowsIt() async throws {
        let server = try await Self.makeServer { $0.forwardAuthAllowsPasswordOnly = true }
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            let page = try await Self.verify(browser)
            #expect(page.status == .ok)
            #expect(page.headers[.remoteMethods] == "pwd")
        }
    }

    /// A refusal tells the proxy where to send the browser: the sign-in page with `rd`, if `rd` is allowed.
    @Test func aRefusalNamesTheSignInPageForAllowedAddressesOnly() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            let refused = try await Self.verify(browser, original: "https://app.example.com/reports?id=7&x=1")
            #expect(refused.status == .unauthorized)
            #expect(refused.location == "https://auth.example.com/signin?rd=https%3A%2F%2Fapp.example.com%2Freports%3Fid%3D7%26x%3D1")
            let foreign = try await Self.verify(browser, original: "https://evil.example/")
            #expect(foreign.status == .unauthorized && foreign.location == nil)
        }
    }

    /// With a cookie domain the session cookie is `__Secure-` with `Domain`; the others stay `__Host-`.
    @Test func theCookieDomainChangesOnlyTheSessionCookie() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            let page = try await browser.post("/signup", ["email": "carol@example.com", "password": "correct horse battery"])
            let cookies = page.headers[values: .setCookie]
            let session = try #require(cookies.first { $0.hasPrefix(Self.sessionCookie + "=") })
            #expect(session.contains("Domain=example.com") && session.contains("Secure") && session.contains("HttpOnly"))
            #expect(cookies.contains { $0.hasPrefix("__Host-twostep-csrf=") && !$0.contains("Domain") })
            #expect(!cookies.contains { $0.hasPrefix("__Host-twostep-session") })
            #expect(try await browser.get("/profile").status == .ok, "the session is read under its new name")
        }
    }

    /// The sign-in page takes `rd`, keeps it through the second step, and continues there.
    @Test func signInReturnsToTheAddressAfterTheSecondStep() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dave@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            let rd = "https://app.example.com/reports?id=7"
            let form = try await browser.get("/signin?rd=" + OIDCService.formEncode(rd))
            #expect(form.status == .ok && form.text.contains("value=\"https://app.example.com/reports?id=7\""))
            #expect(
                try await browser.post("/signin", ["email": "dave@example.com", "password": "correct horse battery", "rd": rd]).location
                    == "/signin/code"
            )
            server.clock.advance(30)
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/signin/continue")
            let next = try await browser.get("/signin/continue")
            #expect(next.text.contains("content=\"0;url=https://app.example.com/reports?id=7\""))
            #expect(next.text.contains("Continue to app.example.com"))
            #expect(try await browser.get("/signin/continue").location == "/profile", "the address is used once")
            // Already signed in with two factors: straight on.
            #expect(try await browser.get("/signin?rd=" + OIDCService.formEncode(rd)).location == "/signin/continue")
        }
    }

    /// Foreign return addresses get a clear refusal page, on the form and on the POST.
    @Test func foreignReturnAddressesAreRefused() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("erin@example.com")
            try await browser.signOut()
            for rd in ["https://evil.example/", "//evil.example", "https://evil.example@app.example.com/", "javascript:alert(1)", "/\\evil.example"] {
                let page = try await browser.get("/signin?rd=" + OIDCService.formEncode(rd))
                #expect(page.status == .badRequest, "\(rd)")
                #expect(page.text.contains("This sign-in link is not allowed"))
                #expect(!page.text.contains("evil.example"), "the refused address is not even shown as a link")
                let posted = try await browser.post("/signin", ["email": "erin@example.com", "password": "correct horse battery", "rd": rd])
                #expect(posted.status == .badRequest && posted.location == nil, "\(rd)")
            }
        }
    }

    /// A planted or edited return cookie is checked again when it is read.
    @Test func aPlantedReturnCookieIsCheckedAgain() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("fay@example.com")
            browser.cookies["__Host-twostep-return"] = Data("https://evil.example/".utf8).base64EncodedString()
            #expect(try await browser.get("/signin/continue").location == "/profile")
        }
    }
}

/// The one check every return address goes through (OWASP Unvalidated Redirects and Forwards).
@Suite("Return-address policy")
struct ReturnAddressPolicyTests {
    let policy = ReturnAddressPolicy(cookieDomain: ".Example.com", allowHTTP: false)

    @Test func acceptsLocalPathsAndApplicationsUnderTheCookieDomain() {
        for address in [
            "/oauth2/authorize?client_id=a&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=openid+email", "/profile",
            "https://app.example.com/", "https://example.com", "https://a.b.example.com:8443/x?y=1#z", "https://APP.example.com/",
        ] {
            #expect(policy.validated(address) == address, "\(address)")
        }
    }

    @Test func refusesEverythingABrowserCouldReadAsAnotherSite() {
        for address in [
            "//evil.com", "///evil.com", "/\\evil.com", "\\\\evil.com", "https://evil.com", "https://evil.com@app.example.com",
            "https://app.example.com@evil.com", "https://app.example.com.evil.com/", "https://evilexample.com/", "https://example.com.",
            "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "http://app.example.com/", "https://app.example.com\\@evil.com",
            "/\tevil.com", " /x", "/x\r\nSet-Cookie: a=b", "https://app.example.com:99999/", "https://app..example.com/",
            "https://%65vil.com/", "ftp://app.example.com/", "", "app.example.com", "/../x",
            "https://app.example.com/" + String(repeating: "a", count: 2100),
        ] {
            #expect(policy.validated(address) == nil, "\(address)")
        }
    }

    @Test func withoutACookieDomainOnlyLocalPaths() {
        let local = ReturnAddressPolicy(cookieDomain: nil, allowHTTP: false)
        #expect(local.validated("/profile") == "/profile")
        #expect(local.validated("https://app.example.com/") == nil)
        #expect(ReturnAddressPolicy(cookieDomain: "example.test", allowHTTP: true).validated("http://app.example.test:8080/") != nil)
    }
}
