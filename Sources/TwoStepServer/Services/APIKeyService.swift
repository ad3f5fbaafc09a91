import Foundation
import Synchronization
import TwoStepCore
import TwoStepStore

/// Keys for relying services (SPEC §3): `twostep apikey create` prints one once; the server keeps
/// only its SHA-256. A key is `tsk_` and 43 base64url characters (256 bits).
struct APIKeyService: Sendable {
    /// Keys; linking an account also records a security event for its holder.
    typealias Storage = APIKeyRepository & SecurityEventRepository
    let store: any Storage
    let now: Now
    /// Keys found live in the last `cacheLifetime`, by hash: a relying service sends its key with
    /// every check, and the validate path should not read the key table each time.
    private let cache = KeyCache()

    /// How long a revocation by another process (`twostep apikey revoke`) may take to reach this server.
    static let cacheLifetime: TimeInterval = 10

    init(store: any Storage, now: @escaping Now) {
        self.store = store
        self.now = now
    }

    static let prefix = "tsk_"

    enum CreateError: Error, Equatable { case invalidName, nameTaken }

    /// Makes a key named `name` (1–64 letters, digits, `.`, `_`, `-`) and returns it: the only time it is seen.
    /// - Parameters:
    ///   - scopes: The routes it may call (by default everything but reading security activity).
    ///   - reach: Which accounts it may act on (by default only those it provisions or is linked to).
    func create(
        name: String,
        scopes: Set<APIKeyScope> = APIKeyScope.defaults,
        reach: APIKeyReach = .own
    ) async throws -> Result<String, CreateError> {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            return .failure(.invalidName)
        }
        let key = Self.prefix + RandomToken.generate()
        do {
            _ = try await store.createAPIKey(name: name, keyHash: RandomToken.hash(key), scopes: scopes, reach: reach, at: now().unixTime)
        } catch let error as StoreError where error == .duplicate {
            return .failure(.nameTaken)
        }
        try await store.recordEvent(
            userID: nil,
            kind: .apiKeyCreated,
            detail: "\(name): scopes \(APIKeyScope.text(scopes)), reach \(reach.rawValue)",
            outcome: .success,
            at: now().unixTime
        )
        return .success(key)
    }

    /// The live key a request presents, or `nil`. Lookup is by the key's hash: nothing secret is
    /// compared byte by byte, so there is no timing to measure.
    func authenticate(_ key: String) async throws -> APIKey? {
        guard key.hasPrefix(Self.prefix), key.utf8.count == Self.prefix.utf8.count + 43 else { return nil }
        let hash = RandomToken.hash(key)
        let time = now()
        if let cached = cache.key(hash, at: time) { return cached }
        guard let found = try await store.apiKey(keyHash: hash) else { return nil }
        cache.store(found, until: time.addingTimeInterval(Self.cacheLifetime))
        return found
    }

    func revoke(name: String) async throws -> Bool {
        cache.removeAll()
        guard try await store.revokeAPIKey(name: name, at: now().unixTime) else { return false }
        try await store.recordEvent(userID: nil, kind: .apiKeyRevoked, detail: name, outcome: .success, at: now().unixTime)
        return true
    }

    func list() async throws -> [APIKey] {
        try await store.apiKeys()
    }

    enum LinkError: Error, Equatable { case noSuchKey, alreadyLinked }

    /// Puts an account in a reach-limited key's reach (an operator's decision, after checking who holds it).
    func link(name: String, user: User) async throws -> Result<Void, LinkError> {
        guard let key = try await store.apiKeys().first(where: { $0.name == name && $0.revokedAt == nil }) else { return .failure(.noSuchKey) }
        guard try await store.linkAPIKey(id: key.id, userID: user.id, at: now().unixTime) else { return .failure(.alreadyLinked) }
        try await store.recordEvent(userID: user.id, kind: .apiKeyLinked, detail: "API key \(name)", at: now().unixTime)
        return .success(())
    }
}

/// Live keys by hash with the time each may be trusted until. Only keys found in the table get in,
/// so the cache holds at most as many entries as there are keys.
private final class KeyCache: Sendable {
    private let entries = Mutex<[String: (key: APIKey, until: Date)]>([:])

    func key(_ hash: String, at time: Date) -> APIKey? {
        entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            if entry.until > time { return entry.key }
            entries[hash] = nil
            return nil
        }
    }

    func store(_ key: APIKey, until time: Date) {
        entries.withLock { $0[key.keyHash] = (key, time) }
    }

    func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
