import Foundation
import TwoStepCore
import TwoStepStore

/// Browser sessions (SPEC §2): 256-bit random ids, stored only as their SHA-256, replaced by a new
/// id at every change of privilege, ended after 30 idle minutes or 12 hours.
struct SessionService: Sendable {
    let store: any SessionRepository
    let now: Now

    static let idleTimeout: TimeInterval = 30 * 60
    static let absoluteTimeout: TimeInterval = 12 * 60 * 60
    /// Between the password and the code: long enough to find the phone, short enough to be useless if stolen.
    static let secondFactorTimeout: TimeInterval = 10 * 60
    /// Writes of `last_seen_at` are skipped within this, so a page load is not always a write.
    static let touchInterval: UnixTime = 60

    /// Starts a session and returns the id for the cookie. Any session the browser had is ended
    /// first, so the id changes at sign-in (session fixation).
    func start(userID: Int64, stage: SessionStage, userAgent: String, replacing old: Session?) async throws -> String {
        if let old { try await store.deleteSession(idHash: old.idHash) }
        let id = RandomToken.generate()
        let time = now().unixTime
        try await store.createSession(
            Session(
                idHash: RandomToken.hash(id),
                userID: userID,
                stage: stage,
                createdAt: time,
                lastSeenAt: time,
                userAgent: String(userAgent.prefix(256))
            )
        )
        return id
    }

    /// The live session for a cookie value, or `nil` (an expired one is deleted).
    func resolve(_ id: String) async throws -> Session? {
        guard let session = try await store.session(idHash: RandomToken.hash(id)) else { return nil }
        let time = now()
        let created = Date(unixTime: session.createdAt)
        let lifetime = session.stage == .signedIn ? Self.absoluteTimeout : Self.secondFactorTimeout
        if time.timeIntervalSince(Date(unixTime: session.lastSeenAt)) > Self.idleTimeout || time.timeIntervalSince(created) > lifetime {
            try await store.deleteSession(idHash: session.idHash)
            return nil
        }
        if time.unixTime - session.lastSeenAt >= Self.touchInterval {
            try await store.touchSession(idHash: session.idHash, at: time.unixTime)
        }
        return session
    }

    /// How long a password or code re-entered for a sensitive change lasts (SPEC §2: "sudo mode").
    static let reauthenticationLifetime: TimeInterval = 10 * 60

    func markReauthenticated(_ session: Session) async throws {
        try await store.setReauthenticated(idHash: session.idHash, until: now().addingTimeInterval(Self.reauthenticationLifetime).unixTime)
    }

    func isReauthenticated(_ session: Session) -> Bool {
        (session.reauthenticatedUntil ?? 0) > now().unixTime
    }

    func end(_ session: Session) async throws {
        try await store.deleteSession(idHash: session.idHash)
    }
}
