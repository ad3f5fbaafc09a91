import Foundation
import HTTPTypes
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

@Suite("Recovery codes")
struct RecoveryCodeTests {
    /// The codes shown on a page, in order.
    static func codes(in page: Page) -> [String] {
        page.text.matches(of: /<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code>/).map { String($0.output.1) }
    }

    /// Signs up, enables the app and generates a set (activation counts as re-authentication).
    static func setUp(
        _ browser: Browser,
        _ server: TestServer,
        email: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (TOTP, [String]) {
        try await browser.signUp(email, sourceLocation: sourceLocation)
        let totp = try await browser.enableApp(at: server.clock, sourceLocation: sourceLocation)
        let page = try await browser.post("/profile/two-factor/recovery-codes")
        #expect(page.status == .ok, "\(page.location ?? "")", sourceLocation: sourceLocation)
        let set = Self.codes(in: page)
        // Callers index into the set: a short one fails here, at the caller, not as a crash.
        try #require(set.count == 10, "\(set.count) codes", sourceLocation: sourceLocation)
        return (totp, set)
    }

    @Test func generateShowPrintDownload() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("alice@example.com")
            #expect(try await browser.get("/profile/two-factor").text.contains("Turn on two-factor authentication first"))
            _ = try await browser.enableApp(at: server.clock)
            let offered = try await browser.get("/profile/two-factor?done=enabled")
            #expect(offered.text.contains("Now generate recovery codes") && offered.text.contains(">Generate tokens</button>"))

            let generated = try await browser.post("/profile/two-factor/recovery-codes")
            let codes = Self.codes(in: generated)
            try #require(codes.count == 10)
            #expect(Set(codes).count == 10)
            #expect(generated.text.contains(">Print</a>") && generated.text.contains(">Download</a>"))
            #expect(generated.headers[.cacheControl] == "no-store")

            let status = try await browser.get("/profile/two-factor")
            #expect(status.text.contains("<strong>10 of 10</strong> recovery codes left"))
            #expect(Self.codes(in: try await browser.get("/profile/two-factor/recovery-codes")) == codes, "Show reveals them again")

            let print = try await browser.get("/profile/two-factor/recovery-codes/print")
            #expect(Self.codes(in: print) == codes, "the printed page lists every code of the set, in order")
            #expect(print.text.contains("alice@example.com") && print.text.contains("Store this page somewhere safe"))
            #expect(!print.text.contains("nav class=\"side\""), "no menu on the printed page")

            let download = try await browser.get("/profile/two-factor/recovery-codes/download")
            #expect(download.headers[.contentDisposition] == "attachment; filename=\"twostep-recovery-codes.txt\"")
            #expect(download.headers[.contentType] == "text/plain; charset=utf-8")
            for code in codes { #expect(download.text.contains(code)) }
        }
    }

    /// SPEC §2: re-authentication within 10 minutes before showing or regenerating.
    @Test func showAndRegenerateNeedRecentReauthentication() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let (totp, codes) = try await Self.setUp(browser, server, email: "bob@example.com")
            server.clock.advance(11 * 60)
            for path in [
                "/profile/two-factor/recovery-codes", "/profile/two-factor/recovery-codes/print", "/profile/two-factor/recovery-codes/download",
            ] {
                let page = try await browser.get(path)
                #expect(page.location?.hasPrefix("/profile/confirm?next=") == true, "\(path)")
            }
            #expect(
                try await browser.post("/profile/two-factor/recovery-codes").location
                    == "/profile/confirm?next=%2Fprofile%2Ftwo%2Dfactor%3Fthen%3Dgenerate%2Drecovery%2Dcodes"
            )
            let status = try await browser.get("/profile/two-factor")
            #expect(status.status == .ok && status.text.contains("<strong>10 of 10</strong>"), "the status page, not an error")
            #expect(Self.codes(in: status).isEmpty)

            let wrong = try await browser.post("/profile/confirm", ["password": "guess", "next": "/profile/two-factor/recovery-codes"])
            #expect(wrong.status == .unauthorized)
            let evil = try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": "//evil.example/profile/"])
            #expect(evil.location == "/profile/two-factor", "never an off-site redirect")
            server.clock.advance(11 * 60)
            let byCode = try await browser.post(
                "/profile/confirm",
                ["code": totp.code(at: server.clock.now), "next": "/profile/two-factor/recovery-codes"]
            )
            #expect(byCode.location == "/profile/two-factor/recovery-codes")
            #expect(Self.codes(in: try await browser.get("/profile/two-factor/recovery-codes")) == codes)
        }
    }

    @Test func eachCodeSignsInOnceInAnyForm() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let (_, codes) = try await Self.setUp(browser, server, email: "carol@example.com")
            try await browser.signOut()

            _ = try await browser.signIn("carol@example.com")
            #expect(try await browser.get("/signin/code").text.contains("Use a recovery code"))
            let typed = codes[0].uppercased().replacingOccurrences(of: "-", with: " ")
            let used = try await browser.post("/signin/recovery", ["code": typed])
            #expect(used.location == "/profile/two-factor?done=recovery-used")
            let page = try await browser.get("/profile/two-factor?done=recovery-used")
            #expect(page.text.contains("<strong>9 of 10</strong>") && page.text.contains("That code no longer works"))
            try await browser.signOut()

            _ = try await browser.signIn("carol@example.com")
            let again = try await browser.post("/signin/recovery", ["code": codes[0]])
            #expect(again.status == .unauthorized, "single use")
            // The plain security-code field takes a recovery code too, without the dash.
            #expect(
                try await browser.post("/signin/code", ["code": codes[1].replacingOccurrences(of: "-", with: "")]).location
                    == "/profile/two-factor?done=recovery-used"
            )
            let user = try #require(try await server.store.user(email: "carol@example.com"))
            let kinds = try await server.store.events(userID: user.id, limit: 50).map(\.kind)
            #expect(kinds.filter { $0 == .recoveryCodeUsed }.count == 2)
        }
    }

    @Test func regeneratingReplacesTheSetAtOnce() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let (_, old) = try await Self.setUp(browser, server, email: "dave@example.com")
            let new = Self.codes(in: try await browser.post("/profile/two-factor/recovery-codes"))
            #expect(new.count == 10 && Set(new).isDisjoint(with: old))
            try await browser.signOut()
            _ = try await browser.signIn("dave@example.com")
            #expect(try await browser.post("/signin/recovery", ["code": old[0]]).status == .unauthorized, "old codes stop working")
            #expect(try await browser.post("/signin/recovery", ["code": new[0]]).location == "/profile/two-factor?done=recovery-used")
        }
    }

    @Test func warnsAtThreeAndAsksForANewSetAtZero() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let (_, codes) = try await Self.setUp(browser, server, email: "erin@example.com")
            for (index, code) in codes.enumerated() {
                try await browser.signOut()
                _ = try await browser.signIn("erin@example.com")
                #expect(try await browser.post("/signin/recovery", ["code": code]).location != nil)
                let page = try await browser.get("/profile/two-factor").text
                let left = 9 - index
                #expect(page.contains("<strong>\(left) of 10</strong>"))
                #expect(page.contains("Only \(left) recovery codes left") == (1...3).contains(left), "warning at \(left)")
                #expect(page.contains("used every recovery code") == (left == 0))
            }
        }
    }

    /// One rule for "low" on the page and in the API: 1 to 3 left is low, none left is its own state.
    @Test func oneLowRuleForThePageAndTheAPI() {
        let expected: [(remaining: Int, total: Int, supply: RecoveryCodeService.Status.Supply)] = [
            (0, 0, .notGenerated), (10, 10, .enough), (4, 10, .enough), (3, 10, .low), (1, 10, .low), (0, 10, .noneLeft),
        ]
        for (remaining, total, supply) in expected {
            let status = RecoveryCodeService.Status(remaining: remaining, total: total, generatedAt: nil)
            #expect(status.supply == supply, "\(remaining) of \(total)")
            let body = API.RecoveryCodeStatusBody(status)
            #expect(body.low == (supply == .low), "API low at \(remaining) of \(total)")
            #expect(body.noneLeft == (supply == .noneLeft), "API none_left at \(remaining) of \(total)")
        }
    }

    /// 20 concurrent sign-ins with one code: exactly one gets in.
    @Test func concurrentUseOfOneCodeSucceedsOnce() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            let (_, codes) = try await Self.setUp(owner, server, email: "frank@example.com")
            var browsers: [Browser] = []
            for _ in 0..<20 {
                let browser = Browser(client)
                _ = try await browser.signIn("frank@example.com")
                browsers.append(browser)
            }
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for browser in browsers {
                    group.addTask { try await browser.post("/signin/recovery", ["code": codes[4]]).location != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    /// Recovery codes have a budget of their own (OWASP): wrong ones make recovery codes wait, not
    /// app codes; a lock of the app codes never stops a right recovery code, which clears it.
    @Test func recoveryCodesHaveTheirOwnBudgetAndUnlock() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let (totp, codes) = try await Self.setUp(browser, server, email: "grace@example.com")
            try await browser.signOut()
            _ = try await browser.signIn("grace@example.com")
            for _ in 1...4 { _ = try await browser.post("/signin/recovery", ["code": "aaaaa-bbbbb"]) }
            let fifth = try await browser.post("/signin/recovery", ["code": "aaaaa-bbbbb"])
            #expect(fifth.text.contains("try again in 30 seconds"))
            #expect(try await browser.post("/signin/recovery", ["code": codes[1]]).text.contains("try again"), "recovery codes wait")
            server.clock.advance(30)
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/profile", "app codes do not")
            try await browser.signOut()

            // App codes locked (100 failures over two days): a right recovery code still works, and unlocks.
            let user = try #require(try await server.store.user(email: "grace@example.com"))
            let key = LockoutService.Budget.codes(userID: user.id).key
            let locked = LockoutPolicy.Failures(
                consecutive: 100,
                runStartedAt: server.clock.now.addingTimeInterval(-2 * 86_400),
                recent: [server.clock.now]
            )
            #expect(try await server.store.replaceThrottleState(key: key, expected: nil, new: locked.encoded, at: 0))
            server.clock.advance(61)
            _ = try await browser.signIn("grace@example.com")
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).text.contains("locked"))
            #expect(try await browser.post("/signin/recovery", ["code": codes[0]]).location == "/profile/two-factor?done=recovery-used")
            #expect(try await server.services.lockout.failures(.codes(userID: user.id)) == .none, "unlocked")
        }
    }

    /// NIST SP 800-63B §5.1.2: a dump holds salted hashes and sealed values, never a usable code.
    @Test func aDatabaseDumpRevealsNoCode() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            let (_, codes) = try await Self.setUp(browser, server, email: "heidi@example.com")
            let rows = try await server.store.database.sql.raw("SELECT code_hash, sealed_code FROM recovery_codes").all()
            #expect(rows.count == 10)
            var salts = Set<String>()
            var parameters = Set<String>()
            for row in rows {
                let hash = try row.decode(column: "code_hash", as: String.self)
                let sealed = try row.decode(column: "sealed_code", as: String.self)
                #expect(hash.hasPrefix("$scrypt$ln=12,r=8,p=1$") && sealed.hasPrefix("v1."))
                let fields = hash.split(separator: "$").map(String.init)  // scrypt, parameters, salt, hash
                parameters.insert(fields[1])
                salts.insert(fields[2])
                for code in codes {
                    let bare = code.replacingOccurrences(of: "-", with: "")
                    #expect(!hash.contains(bare) && !sealed.contains(bare) && !hash.contains(code))
                }
            }
            #expect(parameters == ["ln=12,r=8,p=1"] && salts.count == 10, "a salt of its own for each code")
        }
    }

    @Test func disablingRemovesTheCodes() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.setUp(browser, server, email: "ivan@example.com")
            _ = try await browser.post("/profile/two-factor/disable", ["password": "correct horse battery"])
            let user = try #require(try await server.store.user(email: "ivan@example.com"))
            #expect(try await server.store.recoveryCodes(userID: user.id).isEmpty)
        }
    }
}
