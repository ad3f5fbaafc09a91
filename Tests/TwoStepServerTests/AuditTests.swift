import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 16: the audit trail — who acted, from where, how it ended — over the API, and pruning.
@Suite("Audit trail")
struct AuditTests {
    @Test func theTrailNamesTheActorAddressBrowserAndOutcome() async throws {
        let server = try await TestServer.make { $0.trustedProxies = [IPRange("127.0.0.1")!] }
        let auditor = try await server.apiKey("auditor", scopes: [.audit], reach: .all)
        let portal = try await server.apiKey("portal", scopes: APIKeyScope.defaults, reach: .own)
        try await server.runLive { client in
            // A relying service provisions an account and checks a wrong code for it.
            let service = APIClient(client: client, token: portal)
            let secret = Base32.encode(Array(repeating: 7, count: 20))
            #expect(try await service.call(.post, "/api/v1/users", ["email": "ann@example.com", "totp": ["secret": secret]]).status == .created)
            #expect(try await service.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": "000000"])["valid"] as? Bool == false)
            // The account holder signs in at the pages, through the proxy.
            let browser = Browser(client)
            browser.userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
            try await browser.signUp("bob@example.com")

            let audit = APIClient(client: client, token: auditor)
            let reply = try await audit.call(.get, "/api/v1/audit")
            #expect(reply.status == .ok, "\(reply.text)")
            let events = try #require(reply["events"] as? [[String: Any]])
            func event(_ kind: String, _ email: String) -> [String: Any]? {
                events.first { $0["kind"] as? String == kind && ($0["user"] as? [String: Any])?["email"] as? String == email }
            }
            let failed = try #require(event("second_factor_failed", "ann@example.com"), "\(events)")
            #expect(failed["outcome"] as? String == "failure")
            #expect(failed["actor"] as? [String: String] == ["kind": "api_key", "name": "portal"])
            #expect(failed["client_address"] as? String == "127.0.0.1")
            #expect(failed["user_agent"] as? String == "curl/8.5.0")
            #expect((failed["request_id"] as? String)?.count == 32)
            let enabled = try #require(event("two_factor_enabled", "ann@example.com"))
            #expect(enabled["actor"] as? [String: String] == ["kind": "api_key", "name": "portal"])
            let signedUp = try #require(event("signed_up", "bob@example.com"))
            #expect(signedUp["actor"] as? [String: String] == ["kind": "account_holder"])
            #expect((signedUp["user_agent"] as? String)?.contains("Firefox/133.0") == true && signedUp["outcome"] as? String == "success")
            // Both keys were made by an operator command in this process? No: by the test, outside any
            // request or command: the server itself.
            let created = try #require(
                events.first { $0["kind"] as? String == "api_key_created" && ($0["detail"] as? String)?.hasPrefix("portal:") == true }
            )
            #expect(created["user"] == nil && created["actor"] as? [String: String] == ["kind": "system"])

            // Paging: two at a time, no event twice, none lost.
            var seen: [Int] = []
            var before: Int?
            repeat {
                let page = try await audit.call(.get, "/api/v1/audit?limit=2" + (before.map { "&before=\($0)" } ?? ""))
                seen += (page["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                before = page["next_before"] as? Int
            } while before != nil
            #expect(seen == events.compactMap { $0["id"] as? Int })
            let ann = try await audit.call(.get, "/api/v1/audit?user=ann@example.com")
            #expect(
                (ann["events"] as? [[String: Any]])?.allSatisfy { ($0["user"] as? [String: Any])?["email"] as? String == "ann@example.com" } == true
            )
            #expect(try await audit.call(.get, "/api/v1/audit?user=nobody@example.com").status == .notFound)
            #expect(try await audit.call(.get, "/api/v1/audit?since=yesterday").errorCode == "invalid_field")
            #expect((try await audit.call(.get, "/api/v1/audit?since=2099-01-01T00:00:00Z")["events"] as? [[String: Any]])?.isEmpty == true)

            // Without the scope, or with a reach of its own accounts only: refused.
            #expect(try await service.call(.get, "/api/v1/audit").errorCode == "scope_missing")
            let ownAuditor = try await server.apiKey("own-auditor", scopes: [.audit], reach: .own)
            #expect(try await APIClient(client: client, token: ownAuditor).call(.get, "/api/v1/audit").errorCode == "reach_insufficient")
        }
    }

    @Test func pruningRemovesOnlyOldEvents() async throws {
        let server = try await TestServer.make()
        let store = server.store
        let user = try await store.createUser(email: "old@example.com", passwordHash: "x", at: server.clock.now.unixTime)
        let old = server.clock.now.unixTime
        try await store.recordEvent(userID: user.id, kind: .signedIn, detail: "old", at: old)
        try await store.recordEvent(userID: user.id, kind: .signedIn, detail: "new", at: old + 401 * 86_400)
        server.clock.advance(401 * 86_400 + 60)
        let deleted = try await server.services.audit.prune(olderThan: 400 * 86_400)
        #expect(deleted == 1)
        let left = try await store.auditEvents(userID: user.id, since: nil, beforeID: nil, limit: 10)
        #expect(left.map(\.detail) == ["new"])
        try await server.parts.database.close()
        try? FileManager.default.removeItem(at: server.directory)
    }
}
