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
    /// - Parameter methods: How the sign-in was proven (RFC 8176 `amr` values, see `SignInService.methods`).
    /// - Parameter reauthenticated: Opens "sudo mode" at once: the password was typed in this very request.
    func start(
        userID: Int64,
        stage: SessionStage,
        methods: [String] = [],
        userAgent: String,
        replacing old: Session?,
        reauthenticated: Bool = false
    ) async throws -> String {
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
                userAgent: String(userAgent.prefix(256)),
                reauthenticatedUntil: reauthenticated ? time + UnixTime(Self.reauthenticationLifetime) : nil,
                methods: methods
            )
        )
        return id
    }

    /// The live session for a cookie value, or `nil` (an expired one is deleted).
    func resolve(_ id: String) async throws -> Session? {
        guard let session = try await store.session(idHash: RandomToken.hash(id)) else { return nil }
        let time = now()
        guard isLive(session) else {
            try await store.deleteSession(idHash: session.idHash)
            return nil
        }
        if time.unixTime - session.lastSeenAt >= Self.touchInterval {
            try await store.touchSession(idHash: session.idHash, at: time.unixTime)
        }
        return session
    }

    /// Whether a session is neither idle too long nor too old (the sweeper deletes the others later).
    func isLive(_ session: Session) -> Bool {
        let time = now()
        let lifetime = session.stage == .signedIn ? Self.absoluteTimeout : Self.secondFactorTimeout
        return time.timeIntervalSince(Date(unixTime: session.lastSeenAt)) <= Self.idleTimeout
            && time.timeIntervalSince(Date(unixTime: session.createdAt)) <= lifetime
    }

    /// How long a password or code re-entered for a sensitive change lasts (SPEC §2: "sudo mode").
    static let reauthenticationLifetime: TimeInterval = 10 * 60

    /// Opens "sudo mode" and gives the session a new id (SPEC §2: rotated at re-authentication), so an
    /// id copied before the password was typed again never carries the new privilege.
    /// - Returns: The new id for the cookie or bearer token.
    func reauthenticated(_ session: Session) async throws -> String {
        try await rotate(session, reauthenticatedUntil: now().addingTimeInterval(Self.reauthenticationLifetime).unixTime)
    }

    /// A new id for the same session (account, stage, age and "sudo mode" kept).
    func rotate(_ session: Session, reauthenticatedUntil: UnixTime? = nil) async throws -> String {
        let id = RandomToken.generate()
        let time = now().unixTime
        guard try await store.rotateSession(idHash: session.idHash, to: RandomToken.hash(id), reauthenticatedUntil: reauthenticatedUntil, at: time)
        else {
            // Ended meanwhile (signed out elsewhere): nothing to rotate, and nothing is revived.
            throw SessionEnded()
        }
        return id
    }

    /// Thrown when a session ended while a request of it was running.
    struct SessionEnded: Error {}

    /// Changes that need the password or a current code from the last 10 minutes (SPEC §2 "sudo mode").
    enum SensitiveChange: Sendable, Equatable {
        /// Adding a sign-in method: the app, SMS, security keys later. NIST SP 800-63B §6.1.2.1: a new
        /// authenticator is bound only after the holder proves an existing one; the one being added
        /// never counts (issue 12: a stolen session added the attacker's phone).
        case addMethod(FactorKind)
        /// Adding, changing or removing the recovery phone (SPEC F8).
        case recoveryPhone
        /// Show, Print and Download of the recovery codes (SPEC F9).
        case revealRecoveryCodes
        /// Generate tokens: replaces the set (SPEC F9).
        case generateRecoveryCodes
        /// A new e-mail address: it receives reset links, so it is a way into the account (issue 15).
        case changeEmail
        /// Adding a security key or passkey (issue 17): a new method, as `addMethod`.
        case addSecurityKey
        /// Removing one: a method less, as the recovery phone's removal.
        case removeSecurityKey
        /// Any action at the help-desk console (issue 18): it changes someone else's account, so a
        /// stolen staff session alone must not be enough.
        case staffAction
    }

    enum SensitiveChangeAccess: Equatable {
        case allowed
        /// Ask for the password or a code from a factor the account already has, then continue.
        case reauthenticationRequired
    }

    /// The one place that decides whether a sensitive change may go ahead in this session; the
    /// pages and the API render the answer their own way.
    func access(for change: SensitiveChange, in session: Session) -> SensitiveChangeAccess {
        switch change {
        case .addMethod, .recoveryPhone, .revealRecoveryCodes, .generateRecoveryCodes, .changeEmail, .addSecurityKey, .removeSecurityKey,
            .staffAction:
            (session.reauthenticatedUntil ?? 0) > now().unixTime ? .allowed : .reauthenticationRequired
        }
    }

    func end(_ session: Session) async throws {
        try await store.deleteSession(idHash: session.idHash)
    }

    /// Ends every other session and API token of the account and gives the current one a new id
    /// (after a password change or disabling 2FA: whoever held the old proof may hold a session).
    /// - Returns: The current session's new id.
    func endOthers(keeping session: Session) async throws -> String {
        try await store.deleteSessions(userID: session.userID, except: session.idHash)
        return try await rotate(session)
    }

    /// "Sign out everywhere" and the operator's reset (SPEC F14): every session and API token of the account.
    func endAll(userID: Int64) async throws {
        try await store.deleteSessions(userID: userID)
    }
}
