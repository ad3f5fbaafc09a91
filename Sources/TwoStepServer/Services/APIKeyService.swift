import Foundation
import TwoStepCore
import TwoStepStore

/// Keys for relying services (SPEC §3): `twostep apikey create` prints one once; the server keeps
/// only its SHA-256. A key is `tsk_` and 43 base64url characters (256 bits).
struct APIKeyService: Sendable {
    let store: any Store
    let now: Now

    static let prefix = "tsk_"

    enum CreateError: Error, Equatable { case invalidName, nameTaken }

    /// Makes a key named `name` (1–64 letters, digits, `.`, `_`, `-`) and returns it: the only time it is seen.
    func create(name: String) async throws -> Result<String, CreateError> {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            return .failure(.invalidName)
        }
        let key = Self.prefix + RandomToken.generate()
        do {
            _ = try await store.createAPIKey(name: name, keyHash: RandomToken.hash(key), at: now().unixTime)
        } catch let error as StoreError where error == .duplicate {
            return .failure(.nameTaken)
        }
        return .success(key)
    }

    /// The live key a request presents, or `nil`. Lookup is by the key's hash: nothing secret is
    /// compared byte by byte, so there is no timing to measure.
    func authenticate(_ key: String) async throws -> APIKey? {
        guard key.hasPrefix(Self.prefix), key.utf8.count == Self.prefix.utf8.count + 43 else { return nil }
        return try await store.apiKey(keyHash: RandomToken.hash(key))
    }

    func revoke(name: String) async throws -> Bool {
        try await store.revokeAPIKey(name: name, at: now().unixTime)
    }

    func list() async throws -> [APIKey] {
        try await store.apiKeys()
    }
}
