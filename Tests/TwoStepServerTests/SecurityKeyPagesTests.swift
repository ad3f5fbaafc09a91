import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// The pages of security keys and passkeys (issue 17), driven as a browser would drive them, with a
/// software key (`SoftKey`) answering the options each page carries. The browser half (the static
/// script, Chromium's ceremonies) is in Tests/Browser/test_security_keys.py.
@Suite("Security key pages")
struct SecurityKeyPagesTests {
    /// The options a page's key form carries in `data-options` (HTML-escaped by Mustache).
    static func options(_ page: Page, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let attribute = try #require(
            page.text.firstMatch(of: /data-options="([^"]*)"/)?.output.1,
            "no key form: \(page.status) \(page.text.prefix(400))",
            sourceLocation: sourceLocation
        )
        var text = String(attribute)
        for (entity, character) in [("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&#x2F;", "/"), ("&#x3D;", "="), ("&amp;", "&")]
        {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text
    }

    /// Signs up, re-authenticates and adds a key through the pages; returns the key.
    static func addKey(
        _ browser: Browser,
        name: String = "YubiKey 5",
        passkey: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> SoftKey {
        let page = try await browser.get("/profile/two-factor/security-keys/new" + (passkey ? "?passkey=on" : ""))
        #expect(page.status == .ok, sourceLocation: sourceLocation)
        let key = try SoftKey()
        let added = try await browser.post(
            "/profile/two-factor/security-keys",
            ["name": name, "credential": try key.register(try options(page, sourceLocation: sourceLocation))]
        )
        #expect(added.status == .seeOther, "\(added.status) \(added.text.prefix(400))", sourceLocation: sourceLocation)
        return key
    }

    @Test func aKeyAloneTurnsTwoFactorOnAndPassesTheSecondStep() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("kim@example.com")
            // Adding a method needs "Confirm it's you" first, and comes back to the same form afterwards.
            let asked = try await browser.get("/profile/two-factor/security-keys/new?passkey=on")
            #expect(asked.location == "/profile/confirm?next=%2Fprofile%2Ftwo%2Dfactor%2Fsecurity%2Dkeys%2Fnew%3Fpasskey%3Don")
            try await browser.reauthenticate()

            let form = try await browser.get("/profile/two-factor/security-keys/new")
            WebSecurityTests.expectNoInlineScript(form.text, "add key")
            #expect(form.text.contains(WebAuthnScript.path), "the key page loads the script")
            let key = try SoftKey()
            let added = try await browser.post(
                "/profile/two-factor/security-keys",
                ["name": " YubiKey 5 ", "credential": try key.register(try Self.options(form))]
            )
            // The first method: two-factor authentication is on, and the page offers recovery codes.
            #expect(added.location == "/profile/two-factor?done=enabled")
            let twoFactor = try await browser.get("/profile/two-factor")
            #expect(twoFactor.text.contains(#"<span class="on">Enabled</span>"#))
            #expect(twoFactor.text.contains(#"<dd id="method">Security key</dd>"#))
            #expect(twoFactor.text.contains(">YubiKey 5</td>") && twoFactor.text.contains("<td>Never</td>"))
            #expect(!twoFactor.text.contains("<script"), "the list needs no script")
            // Keys sit beside the method: the app or SMS may still be added.
            #expect(twoFactor.text.contains(#"<a class="button" href="/profile/two-factor/enable">Add the app or SMS</a>"#))
            let choice = try await browser.get("/profile/two-factor/enable")
            #expect(choice.status == .ok && choice.text.contains("Security key"))

            try await browser.signOut()
            #expect(try await browser.signIn("kim@example.com").location == "/signin/code")
            let code = try await browser.get("/signin/code")
            #expect(code.text.contains("Use your security key") && !code.text.contains(#"id="code""#), "keys alone: no code field")
            let passed = try await browser.post("/signin/security-key", ["credential": try key.assert(try Self.options(code)), "trust": "on"])
            #expect(passed.location == "/profile")
            #expect(browser.cookies[Browser.deviceCookie] != nil, "Trust this device, as with a code")
            #expect(try await browser.get("/profile/two-factor").text.contains("<td>Never</td>") == false, "last used is shown")
        }
    }

    /// With the app on, the method is set: no "Add the app or SMS", but keys may be added beside it.
    @Test func withTheAppOnKeysAreAddedBeside() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ann@example.com")
            _ = try await browser.enableApp(at: server.clock)
            _ = try await Self.addKey(browser)
            let page = try await browser.get("/profile/two-factor")
            #expect(page.text.contains(#"<dd id="method">App (authenticator app)</dd>"#) && page.text.contains(">YubiKey 5</td>"))
            #expect(!page.text.contains("Add the app or SMS"))
        }
    }

    @Test func aPasskeySignsInWithoutPasswordOrCode() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("lee@example.com")
            try await browser.reauthenticate()
            let key = try await Self.addKey(browser, name: "Laptop", passkey: true)
            #expect(try await browser.get("/profile/two-factor").text.contains(#"Laptop <span class="passkey-mark">passkey</span>"#))
            try await browser.signOut()

            let signIn = try await browser.get("/signin")
            WebSecurityTests.expectNoInlineScript(signIn.text, "/signin")
            let passed = try await browser.post("/signin/passkey", ["credential": try key.assert(try Self.options(signIn))])
            #expect(passed.location == "/profile")
            #expect(try await browser.get("/profile").status == .ok)

            // The options of one browser are no good in another: the challenge is bound to its CSRF cookie.
            try await browser.signOut()
            let other = Browser(client)
            let stolen = try Self.options(try await other.get("/signin"))
            let refused = try await browser.post("/signin/passkey", ["credential": try key.assert(stolen)])
            #expect(refused.status == .unauthorized && refused.text.contains("That passkey was not accepted"))
            #expect(try await browser.get("/profile").location == "/signin")
        }
    }

    /// Hostile or broken answers on every key form: a form error with a 4xx, never a 5xx, nothing stored.
    @Test func hostileAnswersAreFormErrors() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("max@example.com")
            try await browser.reauthenticate()
            let key = try await Self.addKey(browser)
            let nested = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
            let answers = [
                "", "null", "not json", "{}", #"{"id": 1}"#, nested, String(repeating: "A", count: 40_000),
                #"{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"%%%","authenticatorData":"","signature":""}}"#,
                #"{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}"#,
            ]
            let before = try await server.store.webAuthnCredentials(userID: 1)
            for answer in answers {
                let page = try await browser.post("/profile/two-factor/security-keys", ["name": "Evil", "credential": answer])
                #expect((400..<500).contains(page.status.code) && page.text.contains(#"class="error""#), "add: \(answer.prefix(40)) → \(page.status)")
            }
            #expect(try await server.store.webAuthnCredentials(userID: 1) == before)
            // A name the service refuses keeps the page and says why.
            let form = try await browser.get("/profile/two-factor/security-keys/new")
            let badName = try await browser.post(
                "/profile/two-factor/security-keys",
                ["name": "bell\u{7}", "credential": try SoftKey().register(try Self.options(form))]
            )
            #expect(badName.status == .unprocessableContent && badName.text.contains("control characters"))

            try await browser.signOut()
            _ = try await browser.signIn("max@example.com")
            for answer in answers {
                let page = try await browser.post("/signin/security-key", ["credential": answer])
                #expect(
                    (400..<500).contains(page.status.code) && page.text.contains(#"class="error""#),
                    "second step: \(answer.prefix(40)) → \(page.status)"
                )
                let passkey = try await browser.post("/signin/passkey", ["credential": answer])
                #expect((400..<500).contains(passkey.status.code) && passkey.text.contains(#"class="error""#), "passkey: \(answer.prefix(40))")
            }
            // Still half-way: the key itself still works.
            let code = try await browser.get("/signin/code")
            #expect(try await browser.post("/signin/security-key", ["credential": try key.assert(try Self.options(code))]).location == "/profile")
        }
    }

    /// Another account's key cannot be renamed or removed by naming its id (the ids are sequential).
    @Test func anotherAccountsKeyIsOutOfReach() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("owner@example.com")
            try await owner.reauthenticate()
            _ = try await Self.addKey(owner, name: "Owner key")
            _ = try await Self.addKey(owner, name: "Spare key")
            let keys = try await server.store.webAuthnCredentials(userID: 1)
            #expect(keys.map(\.name) == ["Owner key", "Spare key"])

            let intruder = Browser(client)
            try await intruder.signUp("intruder@example.com")
            try await intruder.reauthenticate()
            _ = try await Self.addKey(intruder, name: "Mine")
            for key in keys {
                _ = try await intruder.post("/profile/two-factor/security-keys/\(key.id)/rename", ["name": "pwned"])
                _ = try await intruder.post("/profile/two-factor/security-keys/\(key.id)/remove")
                #expect(try await intruder.get("/profile/two-factor/security-keys/\(key.id)/remove").location == "/profile/two-factor")
            }
            #expect(try await server.store.webAuthnCredentials(userID: 1).map(\.name) == ["Owner key", "Spare key"])

            // The owner renames, then removes one after re-authenticating; the last one stays (Disable turns 2FA off).
            #expect(
                try await owner.post("/profile/two-factor/security-keys/\(keys[0].id)/rename", ["name": "Old key"]).location
                    == "/profile/two-factor?done=key-renamed"
            )
            let tooLong = try await owner.post("/profile/two-factor/security-keys/\(keys[0].id)/rename", ["name": String(repeating: "x", count: 65)])
            #expect(tooLong.location == "/profile/two-factor?problem=key-name")
            #expect(try await owner.get(tooLong.location ?? "").text.contains("1 to 64 characters"))
            #expect(try await owner.post("/profile/two-factor/security-keys/\(keys[0].id)/remove").location == "/profile/two-factor?done=key-removed")
            let last = try await owner.post("/profile/two-factor/security-keys/\(keys[1].id)/remove")
            #expect(last.status == .conflict && last.text.contains("only way left"))
            #expect(try await server.store.webAuthnCredentials(userID: 1).map(\.name) == ["Spare key"])
        }
    }

    /// "Forgot your password?" with 2FA on (issue 15): a key gives the reset's second factor, its
    /// challenge bound to the link; a garbled answer is refused and the new-password form stays closed.
    @Test func aKeyGivesThePasswordResetsSecondFactor() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let browser = Browser(client)
            try await EmailTests.signUpVerified(browser, server, "hal@example.com")
            try await browser.reauthenticate()
            let key = try await Self.addKey(browser)
            let stranger = Browser(client)
            try await stranger.post("/forgot-password", ["email": "hal@example.com"])
            let token = try EmailTests.token(in: try await EmailTests.mail(server, atLeast: 2).last { $0.purpose == .passwordReset })

            let landing = try await stranger.get("/reset?token=\(token)")
            #expect(landing.text.contains("Use your security key") && landing.text.contains(WebAuthnScript.path))
            WebSecurityTests.expectNoInlineScript(landing.text, "/reset")
            let garbled = try await stranger.post("/reset/security-key", ["token": token, "credential": #"{"id":"#])
            #expect(garbled.status == .unauthorized && !garbled.text.contains("New password"))
            let skipped = try await stranger.post("/reset", ["token": token, "password": "an attacker's password"])
            #expect(skipped.location == nil && !skipped.text.contains("New password"))
            let passed = try await stranger.post("/reset/security-key", ["token": token, "credential": try key.assert(try Self.options(landing))])
            #expect(passed.status == .ok && passed.text.contains("New password"))
            #expect(try await stranger.post("/reset", ["token": token, "password": "a new long password"]).location == "/signin?done=password-reset")
        }
    }

    /// Removing is a sensitive change: without a recent "Confirm it's you", both the page and the form
    /// send the browser to confirm, and nothing is removed.
    @Test func removingNeedsReauthentication() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ned@example.com")
            try await browser.reauthenticate()
            let key = try await Self.addKey(browser)
            _ = try await Self.addKey(browser, name: "Spare")
            try await browser.signOut()
            _ = try await browser.signIn("ned@example.com")
            let code = try await browser.get("/signin/code")
            _ = try await browser.post("/signin/security-key", ["credential": try key.assert(try Self.options(code))])
            let id = try #require(try await server.store.webAuthnCredentials(userID: 1).first).id
            let confirm = "/profile/confirm?next=%2Fprofile%2Ftwo%2Dfactor%2Fsecurity%2Dkeys%2F\(id)%2Fremove"
            #expect(try await browser.get("/profile/two-factor/security-keys/\(id)/remove").location == confirm)
            #expect(try await browser.post("/profile/two-factor/security-keys/\(id)/remove").location == confirm)
            #expect(try await server.store.webAuthnCredentials(userID: 1).count == 2)
            try await browser.reauthenticate(next: "/profile/two-factor/security-keys/\(id)/remove")
            #expect(
                try await browser.get("/profile/two-factor/security-keys/\(id)/remove").text.contains(#"<strong id="key-name">YubiKey 5</strong>"#)
            )
            #expect(try await browser.post("/profile/two-factor/security-keys/\(id)/remove").location == "/profile/two-factor?done=key-removed")
        }
    }
}
