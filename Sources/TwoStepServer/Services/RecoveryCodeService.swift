import Foundation
import TwoStepCore
import TwoStepStore

/// Recovery codes (SPEC F9): sets of 10 single-use codes, the last resort when the phone is gone.
///
/// Each code is stored twice, for two purposes: a salted scrypt hash to check it (NIST SP 800-63B
/// §5.1.2.2: look-up secrets under 112 bits are salted and hashed with a KDF), and sealed with the
/// master key so **Show** can reveal the unused ones again. A database dump therefore yields neither
/// a usable code nor anything cheaper to attack than 50 random bits per code behind scrypt.
struct RecoveryCodeService: Sendable {
    typealias Storage = RecoveryCodeRepository & SecurityEventRepository
    let store: any Storage
    let keyRing: KeyRing
    let hasher: SecretHasher
    let metrics: ServerMetrics
    let now: Now

    /// At or below this many unused codes (but not none) the set is low (SPEC F9: warn at ≤ 3).
    static let lowWatermark = 3

    static func sealContext(_ userID: Int64) -> String { "recovery:user:\(userID)" }

    /// Makes a new set of 10, replacing any earlier set at once, and returns it to be shown once.
    func generate(for user: User) async throws -> [RecoveryCode] {
        let codes = RecoveryCode.generateSet()
        let stored = codes.map { code in
            (hash: code.hashed(with: hasher), sealed: keyRing.seal(Array(code.normalized.utf8), context: Self.sealContext(user.id)))
        }
        try await store.replaceRecoveryCodes(userID: user.id, codes: stored, at: now().unixTime)
        try await store.recordEvent(
            userID: user.id,
            kind: .recoveryCodesGenerated,
            detail: "\(codes.count) new codes; older ones no longer work",
            at: now().unixTime
        )
        return codes
    }

    struct Status: Sendable {
        let remaining: Int
        let total: Int
        let generatedAt: Date?

        /// How the unused codes stand, the one rule the pages and the API show.
        enum Supply: Equatable {
            /// No set was ever generated (or 2FA was turned off since).
            case notGenerated
            case enough
            /// 1 to `lowWatermark` left: generate a new set soon.
            case low
            /// Every code is used: generate a new set now.
            case noneLeft
        }

        var supply: Supply {
            if total == 0 { return .notGenerated }
            switch remaining {
            case 0: return .noneLeft
            case 1...RecoveryCodeService.lowWatermark: return .low
            default: return .enough
            }
        }
    }

    func status(of user: User) async throws -> Status {
        let codes = try await store.recoveryCodes(userID: user.id)
        return Status(
            remaining: codes.filter { $0.usedAt == nil }.count,
            total: codes.count,
            generatedAt: codes.first.map { Date(unixTime: $0.createdAt) }
        )
    }

    /// The unused codes, opened for **Show**; callers require recent re-authentication.
    func unusedCodes(of user: User) async throws -> [RecoveryCode] {
        let codes = try await store.recoveryCodes(userID: user.id).filter { $0.usedAt == nil }.compactMap { stored in
            RecoveryCode(String(decoding: try keyRing.open(stored.sealedCode, context: Self.sealContext(user.id)), as: UTF8.self))
        }
        try await store.recordEvent(userID: user.id, kind: .recoveryCodesShown, detail: "", at: now().unixTime)
        return codes
    }

    /// Uses a code if it is one of the user's unused codes.
    /// - Returns: How many unused codes are left, or `nil` when the code is not (or no longer) valid.
    func use(_ code: RecoveryCode, user: User) async throws -> Int? {
        let unused = try await store.recoveryCodes(userID: user.id).filter { $0.usedAt == nil }
        guard let index = code.firstMatch(in: unused.map(\.codeHash), hasher: hasher),
            try await store.consumeRecoveryCode(id: unused[index].id, at: now().unixTime)
        else { return nil }
        let remaining = unused.count - 1
        metrics.recoveryCodeUsed()
        try await store.recordEvent(userID: user.id, kind: .recoveryCodeUsed, detail: "\(remaining) left", at: now().unixTime)
        return remaining
    }
}
