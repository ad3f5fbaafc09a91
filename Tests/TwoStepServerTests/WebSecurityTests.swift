import Foundation
import HTTPTypes
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

@Suite("Web security: CSRF, headers, cookies, logs, bad input")
struct WebSecurityTests {
    @Test func everyFormPostNeedsTheCSRFToken() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("alice@example.com")
            let forms = [
                "/signin", "/signup", "/signout", "/profile/password", "/profile/two-factor/app", "/profile/two-factor/disable",
                "/profile/two-factor/devices/revoke-all",
            ]
            for path in forms {
                let missing = try await browser.post(path, ["email": "alice@example.com"], csrf: false)
                #expect(missing.status == .forbidden, "\(path) without a token")
                let wrong = try await browser.post(path, ["csrf_token": RandomToken.generate()])
                #expect(wrong.status == .forbidden, "\(path) with another token")
            }
            // A forged request from a browser that never visited (no cookie) fails too, even with a token.
            let stranger = Browser(client)
            #expect(try await stranger.post("/signin", ["csrf_token": "abc", "email": "a@b.c", "password": "x"], csrf: false).status == .forbidden)
            #expect(try await browser.get("/profile").status == .ok, "still signed in: nothing happened")
        }
    }

    @Test func securityHeadersOnEveryResponse() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            for path in ["/signin", "/signup", "/profile", "/static/app.css", "/nowhere", "/signin/code"] {
                let page = try await browser.get(path)
                let policy = try #require(page.headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("script-src"), "no script at all")
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            let forbidden = try await browser.post("/signin", [:], csrf: false)
            #expect(forbidden.headers[.contentSecurityPolicy] != nil, "errors too")
            #expect(try await browser.get("/signin").headers[.cacheControl] == "no-store")
        }
    }

    @Test func pagesHaveNoInlineScriptOrStyle() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            try await browser.post("/profile/two-factor/app")
            for path in ["/profile", "/profile/two-factor", "/profile/two-factor/enable", "/profile/two-factor/app", "/profile/two-factor/disable"] {
                let html = try await browser.get(path).text
                #expect(!html.contains("<script") && !html.contains(" style=") && !html.contains("onclick"), "\(path)")
                // Every visible input has a label.
                let inputs = html.matches(of: /<input id="([a-z-]+)"/).map { String($0.output.1) }
                for id in inputs { #expect(html.contains("<label for=\"\(id)\""), "\(path): #\(id) has a label") }
            }
        }
    }

    @Test func cookiesAreHttpOnlyLaxAndSecure() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let page = try await browser.post("/signup", ["email": "carol@example.com", "password": "correct horse battery"])
            for header in page.headers[values: .setCookie] {
                #expect(header.hasPrefix("__Host-"))
                #expect(header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Secure") && header.contains("Path=/"))
            }
            #expect(page.headers[values: .setCookie].contains { $0.hasPrefix("__Host-twostep-session=") })
        }
        let dev = try await TestServer.make { $0.devMode = true }
        try await dev.run { client in
            let headers = try await Browser(client).get("/signin").headers[values: .setCookie]
            #expect(headers.allSatisfy { !$0.contains("Secure") && $0.hasPrefix("twostep-") && $0.contains("HttpOnly") })
        }
    }

    /// SPEC §2: no password, secret or code in any log line, even at trace level.
    @Test func logsHoldNoSecrets() async throws {
        let server = try await TestServer.make()
        let password = "Sup3r-secret passphrase"
        let secrets = Locked<[String]>([password])
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dave@example.com", password: password)
            try await browser.post("/profile/two-factor/app")
            let key = try #require(try await browser.get("/profile/two-factor/app").manualKey)
            let totp = try TOTP(secret: try Base32.decode(key))
            let activation = totp.code(at: server.clock.now)
            _ = try await browser.post("/profile/two-factor/app/activate", ["code": activation, "trust": "on"])
            secrets.withValue { $0 += [key, key.replacingOccurrences(of: " ", with: ""), activation, browser.cookies[Browser.deviceCookie] ?? ""] }
            try await browser.signOut()
            browser.cookies[Browser.deviceCookie] = nil
            _ = try await browser.signIn("dave@example.com", password: password)
            server.clock.advance(30)
            let code = totp.code(at: server.clock.now)
            _ = try await browser.post("/signin/code", ["code": code])
            secrets.withValue { $0 += [code, browser.cookies[Browser.sessionCookie] ?? "", browser.cookies[Browser.csrfCookie] ?? ""] }
            _ = try await browser.post("/profile/two-factor/disable", ["password": password])
        }
        let logs = server.logs.text
        #expect(!logs.isEmpty, "the request log is captured")
        for secret in secrets.value where !secret.isEmpty {
            #expect(!logs.contains(secret), "a secret reached the log")
        }
        #expect(!logs.contains("v1."), "no sealed value either")
    }

    @Test(
        "bad input gets a 4xx, never a 500",
        arguments: [
            ("/signin", "email=%ZZ&password=%"),
            ("/signin", "email[]=a&email[]=b&password=x"),
            ("/signin", "\u{FF}\u{FE}"),
            ("/signup", "email=" + String(repeating: "a", count: 300) + "%40example.com&password=correct+horse"),
            ("/signin/code", "code=123456"),
            ("/profile/two-factor/devices/abc/revoke", ""),
        ]
    )
    func badInput(path: String, body: String) async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.get("/signin")
            let token = try #require(browser.cookies[Browser.csrfCookie])
            let page = try await browser.send(path, method: .post, body: "csrf_token=\(token)&" + body)
            #expect((300..<500).contains(page.status.code), "\(path): \(page.status)")
        }
    }

    @Test func hugeBodiesAreRefused() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.get("/signin")
            let page = try await browser.post("/signin", ["email": String(repeating: "a", count: 100_000), "password": "x"])
            #expect(page.status == .contentTooLarge)
        }
    }

    @Test func sqlMetacharactersAreJustText() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let email = "o'brien+\"x\";--@example.com"
            try await browser.signUp(email)
            #expect(try await browser.get("/profile").text.contains("o&#39;brien+&quot;x&quot;;--@example.com"), "stored as typed, escaped in HTML")
            #expect(try await server.store.allUsers().count == 1)
        }
    }
}

/// A value shared between tasks.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func withValue<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result { try lock.withLock { try body(&stored) } }
}
