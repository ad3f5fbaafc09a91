import Foundation
import HTTPTypes
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

@Suite("Accounts, sessions and sign-in")
struct SignInTests {
    @Test func signUpSignOutSignIn() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("Alice@Example.com")
            let profile = try await browser.get("/profile")
            #expect(profile.status == .ok)
            #expect(profile.text.contains("alice@example.com"))
            #expect(profile.text.contains(">Two-Factor Authentication</a>"), "left menu item")

            try await browser.signOut()
            #expect(try await browser.get("/profile").location == "/signin")
            let signIn = try await browser.signIn("alice@example.com")
            #expect(signIn.location == "/profile", "no 2FA yet: straight in")
            #expect(try await browser.get("/profile").status == .ok)
        }
    }

    @Test func signUpRefusesBadInput() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            for (email, password, message) in [
                ("not-an-email", "long enough password", "Enter an e-mail address"),
                ("a@b", "long enough password", "Enter an e-mail address"),
                ("a b@example.com", "long enough password", "Enter an e-mail address"),
                ("bob@example.com", "short", "8 to 256 characters"),
                ("bob@example.com", String(repeating: "x", count: 257), "8 to 256 characters"),
            ] {
                let page = try await browser.post("/signup", ["email": email, "password": password])
                #expect(page.status == .unprocessableContent)
                #expect(page.text.contains(message), "\(email)")
            }
            try await browser.signUp("bob@example.com")
            let again = try await Browser(client).post("/signup", ["email": "BOB@example.com ", "password": "another password"])
            #expect(again.text.contains("already exists"))
        }
    }

    /// SPEC F1: one generic message, whether the address or the password is wrong.
    @Test func wrongEmailOrPasswordIsOneMessage() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await Browser(client).signUp("carol@example.com")
            let browser = Browser(client)
            let wrongPassword = try await browser.signIn("carol@example.com", password: "not her password")
            let unknown = try await browser.signIn("nobody@example.com", password: "not her password")
            let injection = try await browser.signIn("' OR 1=1 --@example.com", password: "x' OR '1'='1")
            for page in [wrongPassword, unknown, injection] {
                #expect(page.status == .unauthorized)
                #expect(page.text.contains("Wrong e-mail address or password."))
                #expect(browser.cookies[Browser.sessionCookie] == nil)
            }
        }
    }

    /// SPEC §2: 256-bit ids, stored only hashed, replaced at sign-in.
    @Test func sessionIdsAreRandomHashedAndRotated() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dave@example.com")
            let first = try #require(browser.cookies[Browser.sessionCookie])
            #expect(first.count == 43, "32 bytes in base64url")
            let stored = try await server.store.database.sql.raw("SELECT id_hash FROM sessions").all(decodingColumn: "id_hash", as: String.self)
            #expect(stored == [RandomToken.hash(first)])
            #expect(!stored.contains(first))

            _ = try await browser.signIn("dave@example.com")
            let second = try #require(browser.cookies[Browser.sessionCookie])
            #expect(second != first, "a new id at sign-in")
            // The old id no longer opens anything.
            let thief = Browser(client)
            thief.cookies[Browser.sessionCookie] = first
            #expect(try await thief.get("/profile").location == "/signin")
        }
    }

    @Test func sessionsEndAfterThirtyIdleMinutesOrTwelveHours() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("erin@example.com")
            server.clock.advance(29 * 60)
            #expect(try await browser.get("/profile").status == .ok, "29 idle minutes")
            server.clock.advance(31 * 60)
            let expired = try await browser.get("/profile")
            #expect(expired.location == "/signin", "31 idle minutes")
            #expect(browser.cookies[Browser.sessionCookie] == nil, "the dead cookie is cleared")

            _ = try await browser.signIn("erin@example.com")
            for _ in 0..<(12 * 60 / 20) {  // active every 20 minutes for 12 hours
                server.clock.advance(20 * 60)
                _ = try await browser.get("/profile")
            }
            server.clock.advance(60)
            #expect(try await browser.get("/profile").location == "/signin", "12 hours at most")
        }
    }

    @Test func changingThePasswordNeedsTheOldOne() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("frank@example.com")
            let wrong = try await browser.post("/profile/password", ["current": "nope", "new": "a brand new passphrase"])
            #expect(wrong.status == .unprocessableContent)
            let short = try await browser.post("/profile/password", ["current": "correct horse battery", "new": "short"])
            #expect(short.status == .unprocessableContent)
            let changed = try await browser.post("/profile/password", ["current": "correct horse battery", "new": "a brand new passphrase"])
            #expect(changed.location == "/profile?done=password")
            try await browser.signOut()
            #expect(try await browser.signIn("frank@example.com").status == .unauthorized)
            #expect(try await browser.signIn("frank@example.com", password: "a brand new passphrase").location == "/profile")
        }
    }
}

@Test(
    "e-mail addresses are trimmed, lower-cased and checked",
    arguments: [
        ("  Ann@Example.COM \n", "ann@example.com"),
        ("ann@example.com", "ann@example.com"),
        ("ann @example.com", nil),
        ("ann@example", nil),
        ("ann@.example.com", nil),
        ("ann@example.com.", nil),
        ("@example.com", nil),
        ("ann@@example.com", nil),
        ("ann@exa\u{0}mple.com", nil),
        ("ann@exa\u{7}mple.com", nil),
        ("", nil),
        ("   ", nil),
        ("zoë@example.com", "zoë@example.com"),
    ] as [(String, String?)]
)
func normalizedEmail(input: String, expected: String?) {
    #expect(AccountService.normalizedEmail(input) == expected)
}
