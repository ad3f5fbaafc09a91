import Foundation
import SQLKit
import Testing
import TwoStepStore

/// Security keys' storage (issue 17): every rule that must hold under concurrency is one statement.
@Suite("WebAuthn store")
struct WebAuthnStoreTests {
    static func credential(_ userID: Int64, id: String, signCount: Int64 = 0) -> NewWebAuthnCredential {
        NewWebAuthnCredential(
            userID: userID,
            credentialID: id,
            publicKey: "pk",
            algorithm: -7,
            signCount: signCount,
            name: "YubiKey",
            isPasskey: false,
            transports: "usb",
            aaguid: String(repeating: "0", count: 32)
        )
    }

    static func challenge(_ hash: String, binding: String = "session:a", userID: Int64? = 1, expiresAt: UnixTime = 1_300) -> WebAuthnChallenge {
        WebAuthnChallenge(challengeHash: hash, purpose: .authenticate, binding: binding, userID: userID, createdAt: 1_000, expiresAt: expiresAt)
    }

    /// W3C WebAuthn §13.4.3: of 20 concurrent finishes of one ceremony, exactly one gets the challenge.
    @Test func aChallengeIsUsedOnceUnderConcurrency() async throws {
        try await SQLStoreTests.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            try await store.createWebAuthnChallenge(Self.challenge("c1", userID: user.id))
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.consumeWebAuthnChallenge(hash: "c1", purpose: .authenticate, binding: "session:a", at: 1_100) != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    /// Another browser's finish, another ceremony's, or a late one leaves the challenge unused.
    @Test func aChallengeNeedsItsBindingPurposeAndTime() async throws {
        try await SQLStoreTests.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            try await store.createWebAuthnChallenge(Self.challenge("c1", userID: user.id))
            #expect(try await store.consumeWebAuthnChallenge(hash: "c1", purpose: .authenticate, binding: "session:b", at: 1_100) == nil)
            #expect(try await store.consumeWebAuthnChallenge(hash: "c1", purpose: .passkey, binding: "session:a", at: 1_100) == nil)
            #expect(try await store.consumeWebAuthnChallenge(hash: "c1", purpose: .authenticate, binding: "session:a", at: 1_300) == nil, "expired")
            try await store.deleteExpiredWebAuthnChallenges(before: 1_301)
            try await store.createWebAuthnChallenge(Self.challenge("c2", userID: user.id))
            let used = try await store.consumeWebAuthnChallenge(hash: "c2", purpose: .authenticate, binding: "session:a", at: 1_299)
            #expect(used?.userID == user.id && used?.purpose == .authenticate)
        }
    }

    /// §7.1 step 22: one credential id, one account, whoever registers it second.
    @Test func aCredentialIDBelongsToOneAccount() async throws {
        try await SQLStoreTests.withStore { store in
            let ann = try await store.createUser(email: "ann@example.com", passwordHash: "h", at: 1)
            let bob = try await store.createUser(email: "bob@example.com", passwordHash: "h", at: 1)
            let stored = try await store.createWebAuthnCredential(Self.credential(ann.id, id: "AAAA"), at: 5)
            #expect(stored.userID == ann.id && stored.createdAt == 5 && stored.lastUsedAt == nil && !stored.isPasskey)
            await #expect(throws: StoreError.duplicate) { try await store.createWebAuthnCredential(Self.credential(bob.id, id: "AAAA"), at: 6) }
            #expect(try await store.webAuthnCredentials(userID: bob.id).isEmpty)
            #expect(try await store.webAuthnCredential(credentialID: "AAAA")?.userID == ann.id)
        }
    }

    /// The counter moves only from the value that was read: two uses racing cannot roll it back.
    @Test func theCounterIsUpdatedOnlyFromWhatWasRead() async throws {
        try await SQLStoreTests.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            let key = try await store.createWebAuthnCredential(Self.credential(user.id, id: "K", signCount: 5), at: 1)
            #expect(try await store.recordWebAuthnUse(id: key.id, expectedSignCount: 5, signCount: 9, at: 10))
            #expect(try await !store.recordWebAuthnUse(id: key.id, expectedSignCount: 5, signCount: 7, at: 11), "a stale read loses")
            let after = try #require(try await store.webAuthnCredential(credentialID: "K"))
            #expect(after.signCount == 9 && after.lastUsedAt == 10)
        }
    }

    /// Removing the last two keys of an account at once cannot leave it with none (2FA off without Disable).
    @Test func concurrentRemovalsKeepOneMethod() async throws {
        try await SQLStoreTests.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            let first = try await store.createWebAuthnCredential(Self.credential(user.id, id: "K1"), at: 1)
            let second = try await store.createWebAuthnCredential(Self.credential(user.id, id: "K2"), at: 1)
            async let a = store.deleteWebAuthnCredential(id: first.id, userID: user.id, keepingAnotherMethod: true)
            async let b = store.deleteWebAuthnCredential(id: second.id, userID: user.id, keepingAnotherMethod: true)
            let removed = [try await a, try await b].filter { $0 }.count
            #expect(removed == 1)
            #expect(try await store.webAuthnCredentials(userID: user.id).count == 1)
            // Another account's key is not this one's to remove.
            let other = try await store.createUser(email: "b@example.com", passwordHash: "h", at: 1)
            let left = try #require(try await store.webAuthnCredentials(userID: user.id).first)
            #expect(try await !store.deleteWebAuthnCredential(id: left.id, userID: other.id, keepingAnotherMethod: false))
            #expect(try await store.deleteWebAuthnCredential(id: left.id, userID: user.id, keepingAnotherMethod: false))
        }
    }

    /// One user handle per account, whoever asks first; found again by the handle.
    @Test func theUserHandleIsMadeOnce() async throws {
        try await SQLStoreTests.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            async let a = store.webAuthnUserHandle(userID: user.id, proposed: "first")
            async let b = store.webAuthnUserHandle(userID: user.id, proposed: "second")
            let (x, y) = (try await a, try await b)
            #expect(x == y)
            #expect(try await store.webAuthnUserHandle(userID: user.id, proposed: "third") == x)
            #expect(try await store.userID(webAuthnUserHandle: x) == user.id)
            #expect(try await store.userID(webAuthnUserHandle: "nobody") == nil)
        }
    }
}
