import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// The attack of issue 12 (High 1): a burst of concurrent wrong codes for one account. Before the
/// attempt was reserved ahead of the comparison, every request in flight read "0 failures" and was
/// checked (50 of 50 on the sign-in page, 154 of 200 on validate). The policy allows 5.
@Suite struct LockoutRaceTests {
    /// How many wrong codes were compared: each compared wrong code records one failure event.
    static func compared(_ server: TestServer, _ email: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let user = try #require(try await server.store.user(email: email), sourceLocation: sourceLocation)
        return try await server.store.events(userID: user.id, limit: 1_000).filter { $0.kind == .secondFactorFailed }.count
    }

    @Test(arguments: [50, 200])
    func concurrentWrongCodesOnTheSignInPage(burst: Int) async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("race@example.com")
            _ = try await owner.enableApp(at: server.clock)
            try await owner.signOut()
            server.clock.advance(30)
            // One half-way session per request, as an attacker with the password would open them.
            var browsers: [Browser] = []
            for _ in 0..<burst {
                let browser = Browser(client)
                #expect(try await browser.signIn("race@example.com").location == "/signin/code")
                browsers.append(browser)
            }
            let pages = try await withThrowingTaskGroup(of: Page.self) { group in
                for browser in browsers { group.addTask { try await browser.post("/signin/code", ["code": "000000"]) } }
                return try await group.reduce(into: [Page]()) { $0.append($1) }
            }
            let compared = try await Self.compared(server, "race@example.com")
            #expect(compared <= 5 && compared >= 1, "\(compared) of \(burst) wrong codes were compared")
            let waits = pages.filter { $0.text.contains("Too many wrong codes") }
            #expect(waits.count >= burst - 5, "the rest answer the wait")
            #expect(waits.allSatisfy { $0.status == .tooManyRequests || $0.status == .unauthorized })
        }
    }

    @Test(arguments: [50, 200])
    func concurrentWrongCodesOnValidate(burst: Int) async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let secret = Base32.encode(Array("12345678901234567890".utf8), padding: false)
            #expect(try await api.call(.post, "/api/v1/users", ["email": "race@example.com", "totp": ["secret": secret]]).status == .created)
            let replies = try await withThrowingTaskGroup(of: APIClient.Reply.self) { group in
                for _ in 0..<burst {
                    group.addTask { try await api.call(.post, "/api/v1/validate", ["user": "race@example.com", "code": "000000"]) }
                }
                return try await group.reduce(into: [APIClient.Reply]()) { $0.append($1) }
            }
            let compared = try await Self.compared(server, "race@example.com")
            #expect(compared <= 5 && compared >= 1, "\(compared) of \(burst) wrong codes were compared")
            #expect(replies.filter { $0.status == .ok }.count <= 4, "at most 4 plain refusals; the 5th starts the wait")
            #expect(replies.filter { $0.status == .tooManyRequests }.count >= burst - 5)
            #expect(replies.allSatisfy { $0.status == .ok || $0.status == .tooManyRequests })
            #expect(replies.allSatisfy { $0["valid"] as? Bool != true })
        }
    }

    /// An account a service makes with RFC 6238's test key as its app; that app's codes.
    static func accountWithRFCApp(_ api: APIClient, _ email: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> TOTP {
        let rfcKey = Array("12345678901234567890".utf8)
        let created = try await api.call(.post, "/api/v1/users", ["email": email, "totp": ["secret": Base32.encode(rfcKey, padding: false)]])
        #expect(created.status == .created, sourceLocation: sourceLocation)
        return try TOTP(secret: rfcKey)
    }

    /// Issue 19's fast path claims a right code without reserving when the budget is empty. Under a
    /// burst of wrong codes and copies of the right one it must still compare no more than 5 wrong
    /// codes, accept the right one at most once, and never accept it after the wait began: the
    /// claim requires the budget to have no row, in the same statement.
    @Test(arguments: [50, 200])
    func aRightCodeInABurstOfWrongOnesOnValidate(burst: Int) async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let right = try await Self.accountWithRFCApp(api, "mix@example.com").code(at: server.clock.now)
            let replies = try await withThrowingTaskGroup(of: APIClient.Reply.self) { group in
                for index in 0..<burst {
                    let code = index % 10 == 0 ? right : "000000"
                    group.addTask { try await api.call(.post, "/api/v1/validate", ["user": "mix@example.com", "code": code]) }
                }
                return try await group.reduce(into: [APIClient.Reply]()) { $0.append($1) }
            }
            let compared = try await Self.compared(server, "mix@example.com")
            let accepted = replies.filter { $0["valid"] as? Bool == true }.count
            #expect(accepted <= 1, "one code, used once at most")
            // A success ends the run of failures (it always has): 5 before it, 5 after at most.
            #expect(compared <= 5 * (accepted + 1), "\(compared) wrong codes were compared")
            #expect(replies.allSatisfy { $0.status == .ok || $0.status == .tooManyRequests })
            let user = try #require(try await server.store.user(email: "mix@example.com"))
            if try await server.services.lockout.failures(.codes(userID: user.id)).recent.count >= 5 {
                // The wait began (the test clock stands still): the right code is refused like any other.
                #expect(try await api.call(.post, "/api/v1/validate", ["user": "mix@example.com", "code": right]).status == .tooManyRequests)
            }
        }
    }

    /// A success gives the reserved attempt back and ends the run, as before.
    @Test func aSuccessGivesTheAttemptBack() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let totp = try await Self.accountWithRFCApp(api, "back@example.com")
            for _ in 1...4 { _ = try await api.call(.post, "/api/v1/validate", ["user": "back@example.com", "code": "000000"]) }
            let right = try await api.call(.post, "/api/v1/validate", ["user": "back@example.com", "code": totp.code(at: server.clock.now)])
            #expect(right["valid"] as? Bool == true)
            let user = try #require(try await server.store.user(email: "back@example.com"))
            #expect(try await server.services.lockout.failures(.codes(userID: user.id)) == .none)
            for _ in 1...4 {
                #expect(try await api.call(.post, "/api/v1/validate", ["user": "back@example.com", "code": "000000"]).status == .ok)
            }
        }
    }

    /// `twostep user unlock`'s service: every wait and lock of the account goes, its factors stay.
    @Test func unlockClearsWaitsAndLocksButKeepsFactors() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let secret = Base32.encode(Array("12345678901234567890".utf8), padding: false)
            #expect(try await api.call(.post, "/api/v1/users", ["email": "lock@example.com", "totp": ["secret": secret]]).status == .created)
            for _ in 1...5 { _ = try await api.call(.post, "/api/v1/validate", ["user": "lock@example.com", "code": "000000"]) }
            for _ in 1...5 { _ = try await api.call(.post, "/api/v1/validate", ["user": "lock@example.com", "code": "aaaaa-bbbbb"]) }
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "lock@example.com", "code": "000000"]).status == .tooManyRequests)
            let user = try #require(try await server.store.user(email: "lock@example.com"))
            try await server.services.lockout.unlock(user)
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "lock@example.com", "code": "000000"]).status == .ok)
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "lock@example.com", "code": "aaaaa-bbbbb"]).status == .ok)
            #expect(try await server.services.twoFactor.isEnabled(for: user))
        }
    }
}
