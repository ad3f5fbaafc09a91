import Foundation
import SQLKit
import Testing
import TwoStepStore

/// Accounts named by a key's own id, and key scopes, in the store (issue 12, High 3).
@Suite("Account names and API keys in the store")
struct AccountNamesStoreTests {
    @Test func keysMadeBeforeScopesKeepFullAccess() async throws {
        try await SQLStoreTests.withStore { store in
            // As an older version wrote it: no scopes, no reach.
            try await store.database.writer.raw("INSERT INTO api_keys (name, key_hash, created_at) VALUES ('old', 'h', 1)").run()
            let old = try #require(try await store.apiKey(keyHash: "h"))
            #expect(old.scopes == Set(APIKeyScope.allCases) && old.reach == .all)
            let new = try await store.createAPIKey(name: "new", keyHash: "n", scopes: [.validate], reach: .own, at: 2)
            #expect(new.scopes == [.validate] && new.reach == .own)
        }
    }

    /// Validate looks a name up both ways in one statement, since it may be either. An account
    /// holding it both ways comes once each way with each confirmed factor once (a row read twice
    /// would list its factors twice); two accounts holding it one way each are both found; and the
    /// answers are filed by the names asked for, so another key's account of that id is not this
    /// key's.
    @Test func aNameIsLookedUpBothWaysAtOnce() async throws {
        try await SQLStoreTests.withStore { store in
            let vpn = try await store.createAPIKey(name: "vpn", keyHash: "v", scopes: APIKeyScope.defaults, reach: .own, at: 1)
            let ssh = try await store.createAPIKey(name: "ssh", keyHash: "s", scopes: APIKeyScope.defaults, reach: .own, at: 1)
            func factor(of user: User, confirmed: Bool) async throws -> Int64 {
                let id = try await SQLStoreTests.appFactor(store, userID: user.id).id
                if confirmed { try await store.confirmFactor(id: id, lastUsedStep: nil, at: 2) }
                return id
            }
            let name = "same@example.com"
            let both = try await store.createUser(email: name, passwordHash: "h", origin: .apiKey, apiKeyID: vpn.id, externalID: name, at: 1)
            let confirmed = [try await factor(of: both, confirmed: true), try await factor(of: both, confirmed: true)]
            _ = try await factor(of: both, confirmed: false)
            var (byID, byEmail) = try await store.usersWithConfirmedFactors(apiKeyID: vpn.id, externalID: name, email: name)
            #expect(byID?.0.id == both.id && byEmail?.0.id == both.id)
            #expect(byID?.1.map(\.id) == confirmed && byEmail?.1.map(\.id) == confirmed)

            let other = "split@example.com"
            let byAddress = try await store.createUser(email: other, passwordHash: "h", at: 3)
            let byOwnID = try await store.createUser(email: nil, passwordHash: "!", origin: .apiKey, apiKeyID: vpn.id, externalID: other, at: 3)
            let ownFactor = try await factor(of: byOwnID, confirmed: true)
            (byID, byEmail) = try await store.usersWithConfirmedFactors(apiKeyID: vpn.id, externalID: other, email: other)
            #expect(byID?.0.id == byOwnID.id && byID?.1.map(\.id) == [ownFactor])
            #expect(byEmail?.0.id == byAddress.id && byEmail?.1.isEmpty == true)

            (byID, byEmail) = try await store.usersWithConfirmedFactors(apiKeyID: ssh.id, externalID: other, email: other)
            #expect(byID == nil && byEmail?.0.id == byAddress.id)
            (byID, byEmail) = try await store.usersWithConfirmedFactors(apiKeyID: ssh.id, externalID: "nobody", email: "nobody@example.com")
            #expect(byID == nil && byEmail == nil)
        }
    }

    @Test func aKeysOwnIDsAreItsOwnNamespace() async throws {
        try await SQLStoreTests.withStore { store in
            let vpn = try await store.createAPIKey(name: "vpn", keyHash: "v", scopes: APIKeyScope.defaults, reach: .own, at: 1)
            let ssh = try await store.createAPIKey(name: "ssh", keyHash: "s", scopes: APIKeyScope.defaults, reach: .own, at: 1)
            func make(_ key: APIKey, _ id: String) async throws -> User {
                try await store.createUser(email: nil, passwordHash: "!", origin: .apiKey, apiKeyID: key.id, externalID: id, at: 1)
            }
            let vpnJdoe = try await make(vpn, "jdoe")
            let sshJdoe = try await make(ssh, "jdoe")
            #expect(vpnJdoe.id != sshJdoe.id && vpnJdoe.email == nil)
            await #expect(throws: StoreError.duplicate) { try await make(vpn, "jdoe") }
            let signedUp = try await store.createUser(email: "jdoe@example.com", passwordHash: "h", at: 1)
            #expect(signedUp.origin == .signUp && signedUp.apiKeyID == nil)

            #expect(try await store.user(apiKeyID: vpn.id, externalID: "jdoe")?.id == vpnJdoe.id)
            #expect(try await store.user(apiKeyID: ssh.id, externalID: "jdoe")?.id == sshJdoe.id)
            // Concurrent validate reads of both kinds of name share batches and still answer each.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<50 {
                    group.addTask {
                        let found: User?
                        let expected: Int64
                        switch round % 3 {
                        case 0: (found, expected) = (try await store.userWithConfirmedFactors(apiKeyID: vpn.id, externalID: "jdoe")?.0, vpnJdoe.id)
                        case 1: (found, expected) = (try await store.userWithConfirmedFactors(apiKeyID: ssh.id, externalID: "jdoe")?.0, sshJdoe.id)
                        default: (found, expected) = (try await store.userWithConfirmedFactors(email: "jdoe@example.com")?.0, signedUp.id)
                        }
                        #expect(found?.id == expected)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.userWithConfirmedFactors(apiKeyID: vpn.id, externalID: "nobody") == nil)

            #expect(try await store.isLinked(apiKeyID: vpn.id, userID: signedUp.id) == false)
            #expect(try await store.linkAPIKey(id: vpn.id, userID: signedUp.id, at: 2))
            #expect(try await store.linkAPIKey(id: vpn.id, userID: signedUp.id, at: 3) == false)
            #expect(try await store.isLinked(apiKeyID: vpn.id, userID: signedUp.id))
            // SQLite's schema was edited in place (dropNotNull); PostgreSQL altered the column.
            guard store.database.dialect == .sqlite else { return }
            let integrity = try await store.database.sql.raw("PRAGMA integrity_check").first(decodingColumn: "integrity_check", as: String.self)
            #expect(integrity == "ok", "the edited schema is sound")
        }
    }
}
