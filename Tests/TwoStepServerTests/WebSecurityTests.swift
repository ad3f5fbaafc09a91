import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

@Suite("Web security: CSRF, headers, cookies, logs, bad input")
struct WebSecurityTests {
    /// Every state-changing web route, read from the router itself (not a hand-kept list), so a
    /// route added later without CSRF protection fails here: OWASP CSRF cheat sheet, SPEC §2.
    /// The API (`/api/`) takes bearer tokens, never cookies, so CSRF does not apply there.
    static func stateChangingWebRoutes(
        _ server: TestServer,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [(method: HTTPRequest.Method, path: String)] {
        let router = try buildRouter(server.configuration, parts: server.parts, passwordHasher: TestServer.hasher)
        let safe: Set<HTTPRequest.Method> = [.get, .head, .options]
        // OAuth back-channel endpoints (issue 14) read no cookie: the client's secret, PKCE verifier or
        // bearer token is the proof, so a forged browser request has nothing to ride on.
        let backChannel: Set<String> = ["/oauth2/token", "/oauth2/userinfo"]
        return try router.routes.filter {
            !safe.contains($0.method) && !$0.path.description.hasPrefix("/api/") && !backChannel.contains($0.path.description)
        }.map { route in
            // A path parameter gets a value that names nothing: the CSRF check comes before any lookup.
            let segments = try route.path.components.map { segment in
                let text = segment.description
                if text.hasPrefix("{") && text.hasSuffix("}") && !text.dropFirst().dropLast().contains(where: { "{}*".contains($0) }) {
                    return "x1"
                }
                try #require(
                    !text.contains("*") && !text.contains("{"),
                    "\(route): give this kind of path a value here",
                    sourceLocation: sourceLocation
                )
                return text
            }
            return (route.method, "/" + segments.joined(separator: "/"))
        }
    }

    /// Every row of every table, to show that a refused request changed nothing.
    static func snapshot(_ store: SQLStore) async throws -> [String: [String]] {
        let sql = store.database.sql
        if store.database.dialect == .postgres {
            let tables = try await sql.raw(
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
            ).all(decodingColumn: "name", as: String.self)
            var rows: [String: [String]] = [:]
            for table in tables {
                // A row cast to text is every column, quoted where needed, as `quote()` gives on SQLite.
                rows[table] = try await sql.raw("SELECT t::text AS row FROM \(ident: table) t ORDER BY 1").all(decodingColumn: "row", as: String.self)
            }
            return rows
        }
        let tables = try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .all(decodingColumn: "name", as: String.self)
        var rows: [String: [String]] = [:]
        for table in tables {
            let columns = try await sql.raw("SELECT name FROM pragma_table_info(\(bind: table))").all(decodingColumn: "name", as: String.self)
            let row = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
            rows[table] = try await sql.raw("SELECT \(unsafeRaw: row) AS row FROM \(ident: table) ORDER BY row")
                .all(decodingColumn: "row", as: String.self)
        }
        return rows
    }

    @Test func everyStateChangingWebRouteNeedsTheCSRFToken() async throws {
        let server = try await TestServer.make()
        let routes = try Self.stateChangingWebRoutes(server)
        let paths = Set(routes.map(\.path))
        // The enumeration itself must work: these are known forms, and there are many more.
        for known in ["/signin", "/signup", "/signout", "/profile/password", "/profile/two-factor/disable", "/profile/two-factor/devices/x1/revoke"] {
            #expect(paths.contains(known), "\(known) is not among the router's routes: \(paths.sorted())")
        }
        try #require(routes.count >= 20, "\(routes.count) routes: \(paths.sorted())")

        try await server.run { client in
            // The victim: signed in, 2FA on, a trusted device, recovery codes, re-authenticated just now,
            // so every forged form below would change something if it were accepted.
            let browser = Browser(client)
            try await browser.signUp("alice@example.com")
            let totp = try await browser.enableApp(at: server.clock, trust: true)
            #expect(try await browser.post("/profile/two-factor/recovery-codes").status == .ok)
            let form = [
                "email": "alice@example.com", "password": "correct horse battery", "current": "correct horse battery",
                "new": "a different long passphrase", "code": totp.code(at: server.clock.now), "phone": "+31 6 1234 5678",
                "trust": "on", "next": "/profile",
            ]
            let encoded = { (fields: [String: String]) in
                fields.map { "\(Browser.encode($0.key))=\(Browser.encode($0.value))" }.joined(separator: "&")
            }
            var before = try await Self.snapshot(server.store)
            for (method, path) in routes {
                let missing = try await browser.send(path, method: method, body: encoded(form))
                #expect(missing.status == .forbidden, "\(method) \(path) without a token: \(missing.status)")
                #expect(missing.text.contains("did not come from this site"), "\(method) \(path): refused by the CSRF check")
                let wrong = try await browser.send(path, method: method, body: encoded(form.merging(["csrf_token": RandomToken.generate()]) { $1 }))
                #expect(wrong.status == .forbidden, "\(method) \(path) with another token: \(wrong.status)")
                let after = try await Self.snapshot(server.store)
                let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
                #expect(changed.isEmpty, "\(method) \(path) changed the database: \(changed)")
                before = after  // so each route is blamed only for its own change
            }
            // A forged request from a browser that never visited (no cookie) fails too, even with a token.
            let stranger = Browser(client)
            #expect(try await stranger.post("/signin", ["csrf_token": "abc", "email": "a@b.c", "password": "x"], csrf: false).status == .forbidden)
            #expect(try await browser.get("/profile").status == .ok, "still signed in: nothing happened")
            // And the same token in the field passes: the refusals above were about the token alone.
            #expect(try await browser.post("/profile/two-factor/devices/revoke-all").status != .forbidden)
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
                // Script only from this server's files (the WebAuthn script, issue 17): no inline code, no
                // hashes or nonces that would let an inline block run, no other origin.
                let scriptSources = policy.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { $0.hasPrefix("script-src") }
                #expect(scriptSources == ["script-src 'self'"], "\(path): \(policy)")
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            let forbidden = try await browser.post("/signin", [:], csrf: false)
            #expect(forbidden.headers[.contentSecurityPolicy] != nil, "errors too")
            #expect(try await browser.get("/signin").headers[.cacheControl] == "no-store")
        }
    }

    /// The WebAuthn script is a file of this server at an address that names its content, kept a year.
    @Test func theWebAuthnScriptIsServedFromItsHashedAddress() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let script = try await browser.get(WebAuthnScript.path)
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(script.headers[.xContentTypeOptions] == "nosniff")
            let body = Array(script.text.utf8)
            #expect(body == WebAuthnScript.source && !body.isEmpty)
            // The address and the integrity attribute are the content's SHA-256, so a changed script is a new address.
            let digest = Array(SHA256.hash(data: body))
            #expect(WebAuthnScript.path == "/static/webauthn-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined() + ".js")
            #expect(WebAuthnScript.integrity == "sha256-" + Data(digest).base64EncodedString())
            #expect(try await browser.get("/static/webauthn.js").status == .notFound, "only the hashed address")
        }
    }

    /// What a page may hold of script: only `<script src>` tags naming the WebAuthn script, empty inside.
    static func expectNoInlineScript(_ html: String, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let opened = html.ranges(of: "<script").count
        let allowed = html.matches(of: /<script src="([^"]+)" integrity="[^"]+" defer><\/script>/)
        #expect(opened == allowed.count, "\(path): a script tag other than the WebAuthn file", sourceLocation: sourceLocation)
        for tag in allowed {
            #expect(tag.output.1 == WebAuthnScript.path, "\(path): \(tag.output.0)", sourceLocation: sourceLocation)
        }
        #expect(!html.contains(" style="), "\(path): no inline style", sourceLocation: sourceLocation)
        #expect(html.matches(of: /<[^>]+\son[a-z]+=/).isEmpty, "\(path): no event handler attribute", sourceLocation: sourceLocation)
    }

    @Test func pagesHaveNoInlineScriptOrStyle() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            try await browser.reauthenticate()
            try await browser.post("/profile/two-factor/app")
            // The pages, and whether each has text fields (so an empty match cannot pass for "all labelled").
            let pages = [
                ("/profile", true), ("/profile/two-factor", false), ("/profile/two-factor/enable", false), ("/profile/two-factor/app", true),
                ("/profile/two-factor/disable", true),
            ]
            for (path, hasFields) in pages {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path): \(page.status)")
                let html = page.text
                #expect(!html.contains("<script") && !html.contains(" style=") && !html.contains("onclick"), "\(path)")
                // Every visible text field has an id and a label for it (checkboxes sit inside theirs).
                let fields = html.matches(of: /<input [^>]*>/).map { String($0.output) }
                    .filter { !$0.contains(#"type="hidden""#) && !$0.contains(#"type="checkbox""#) }
                #expect(fields.isEmpty != hasFields, "\(path): \(fields.count) text fields")
                for field in fields {
                    let id = try #require(field.firstMatch(of: /\bid="([a-z-]+)"/)?.output.1, "\(path): \(field) has no id")
                    #expect(html.contains("<label for=\"\(id)\""), "\(path): #\(id) has a label")
                }
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
        let dev = try await TestServer.make { $0.insecureCookies = true }
        try await dev.run { client in
            let headers = try await Browser(client).get("/signin").headers[values: .setCookie]
            #expect(headers.allSatisfy { !$0.contains("Secure") && $0.hasPrefix("twostep-") && $0.contains("HttpOnly") })
        }
    }

    /// SPEC §2 and issue 16: no password, secret, code, token, API key or full phone number in any
    /// log line, even at trace level, over a session that touches every kind of secret, in either
    /// format; and every request's line names its id, route, status and duration (in JSON, every
    /// line is one object).
    @Test(arguments: [true, false]) func logsHoldNoSecrets(json: Bool) async throws {
        let server = try await TestServer.make(jsonLogs: json)
        let apiKey = try await server.apiKey("logcheck")
        let password = "Sup3r-secret passphrase"
        let phone = "+31612345699"
        let secrets = Locked<[String]>([password, apiKey, phone, "612345699"])
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dave@example.com", password: password)
            try await browser.reauthenticate(password: password)
            try await browser.post("/profile/two-factor/app")
            let key = try #require(try await browser.get("/profile/two-factor/app").manualKey)
            let totp = try TOTP(secret: try Base32.decode(key))
            let activation = totp.code(at: server.clock.now)
            _ = try await browser.post("/profile/two-factor/app/activate", ["code": activation, "trust": "on"])
            let device = try #require(browser.cookies[Browser.deviceCookie], "the device is trusted")
            secrets.withValue { $0 += [key, key.replacingOccurrences(of: " ", with: ""), activation, device] }
            // The recovery phone: a texted code, the full number.
            let sent = try await browser.post("/profile/two-factor/recovery-phone", ["phone": phone])
            #expect(sent.text.contains("We sent a code"), "\(sent.text.prefix(300))")
            let texted = try server.lastCode()
            secrets.withValue { $0 += [texted] }
            _ = try await browser.post("/profile/two-factor/recovery-phone/activate", ["code": texted])
            // Recovery codes: generated, shown, one used to sign in.
            let codes = RecoveryCodeTests.codes(in: try await browser.post("/profile/two-factor/recovery-codes"))
            #expect(codes.count == 10)
            secrets.withValue { $0 += codes }
            try await browser.signOut()
            browser.cookies[Browser.deviceCookie] = nil
            _ = try await browser.signIn("dave@example.com", password: password)
            _ = try await browser.post("/signin/code", ["code": codes[0]])
            try await browser.signOut()
            _ = try await browser.signIn("dave@example.com", password: password)
            server.clock.advance(30)
            let code = totp.code(at: server.clock.now)
            _ = try await browser.post("/signin/code", ["code": code])
            let session = try #require(browser.cookies[Browser.sessionCookie], "signed in")
            let csrf = try #require(browser.cookies[Browser.csrfCookie])
            secrets.withValue { $0 += [code, session, csrf] }
            // The API: a session token, and a relying service's key validating a code.
            let api = APIClient(client: client)
            let first = try await api.call(.post, "/api/v1/session", ["email": "dave@example.com", "password": password])
            let challenge = try #require(first["challenge"] as? String, "\(first.text)")
            server.clock.advance(30)
            let apiCode = totp.code(at: server.clock.now)
            let signedIn = try await api.call(.post, "/api/v1/session/second-factor", ["challenge": challenge, "code": apiCode])
            let token = try #require(signedIn["token"] as? String, "\(signedIn.text)")
            secrets.withValue { $0 += [challenge, token] }
            #expect(try await api.call(.get, "/api/v1/account", token: token).status == .ok)
            server.clock.advance(30)
            let validated = totp.code(at: server.clock.now)
            secrets.withValue { $0 += [apiCode, validated] }
            let service = APIClient(client: client, token: apiKey)
            #expect(try await service.call(.post, "/api/v1/validate", ["user": "dave@example.com", "code": validated])["valid"] as? Bool == true)
            _ = try await browser.post("/profile/two-factor/disable", ["password": password])
        }
        let lines = server.logs.allLines
        #expect(lines.count >= 18, "the request log is captured")
        let logs = lines.joined(separator: "\n")
        for secret in secrets.value {
            #expect(!secret.isEmpty)
            #expect(!logs.contains(secret), "a secret reached the log")
        }
        #expect(!logs.contains("v1."), "no sealed value either")
        var requestLines = 0
        var withUser = 0
        for line in lines where !json {
            guard line.hasSuffix("] request") else { continue }
            requestLines += 1
            #expect(line.contains(" route=") && line.contains(" status=") && line.contains(" duration_ms="), "\(line)")
            #expect(line.firstMatch(of: /\srequest_id=[0-9a-f]{32}\s/) != nil, "\(line)")
            if line.contains(" user_id=") { withUser += 1 }
        }
        for line in lines where json {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object != nil, "not one JSON object: \(line)")
            guard let object else { continue }
            #expect(object["time"] != nil && object["level"] != nil && object["message"] != nil, "\(line)")
            guard object["message"] == "request" else { continue }
            requestLines += 1
            #expect(object["request_id"]?.count == 32 && object["route"] != nil && object["status"] != nil && object["duration_ms"] != nil, "\(line)")
            if object["user_id"] != nil { withUser += 1 }
        }
        #expect(requestLines >= 18 && withUser > 5, "\(requestLines) request lines, \(withUser) with the account")
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
