import Foundation
import TwoStepCore
import TwoStepStore

/// The help-desk console (issue 18): who may use it, what staff see of an account, and the actions
/// they take on it. Every rule of the console is here; its pages only render the answers.
///
/// Staff see what the account holder sees on their own Two-Factor Authentication page, never more:
/// masked phone numbers, counts of recovery codes, browsers and times — no secret, code, recovery
/// code, full number, session id or device token is ever read into a view.
struct HelpDeskService: Sendable {
    let store: any StaffRepository & UserRepository & SecurityEventRepository
    let accounts: AccountService
    let sessions: SessionService
    let devices: TrustedDeviceService
    let recoveryCodes: RecoveryCodeService
    let twoFactor: TwoFactorService
    let lockout: LockoutService
    let audit: AuditService
    /// Security keys and passkeys (issue 17), listed by name only.
    let keys: WebAuthnService

    /// At most this many accounts answer one search, so the console cannot list every account.
    static let searchLimit = 20
    /// Shorter searches match too much to be a look-up (a letter would page through every account).
    static let shortestSearch = 3
    static let activityLimit = 20
    static let auditPageSize = 50
    /// What a reason may hold: a ticket number and a sentence, not a document.
    static let longestReason = 200

    /// Why the console refuses.
    enum Refusal: Error, Equatable {
        /// Not a support or admin account: the console is not theirs at all.
        case notStaff
        /// Staff must have a second factor on (issue 18): the console can reset other people's
        /// second factors, so a password alone must never reach it.
        case twoFactorRequired
        /// Every action needs the password or a code from the last 10 minutes (`SessionService`).
        case reauthenticationRequired
        case noSuchAccount
        /// Staff do not act on their own account here: a stolen staff session must not strip its
        /// own second factor or raise its own role; the profile has the holder's own tools.
        case ownAccount
        /// Support acts on account holders only: resetting a staff account's second factor is the
        /// first step of taking it over, so only an admin may touch another staff account.
        case staffAccount
        /// Only admins change roles and read the audit trail.
        case adminOnly
        /// A reset removes every second factor of someone else's account: the trail must say why.
        case reasonRequired
    }

    /// What a staff member can do at the console.
    enum Action: Sendable, Equatable {
        /// Clears the waits and the 100-failure lock; the factors stay (`twostep user unlock`).
        case unlock
        /// Ends every session and API token of the account.
        case signOutEverywhere
        /// Forgets every trusted browser, so each asks for a code again.
        case revokeTrustedDevices
        /// Removes every second factor; the next sign-in must enrol one (`twostep user reset-2fa`).
        case resetTwoFactor
        /// Gives or takes a help-desk role (admins only).
        case setRole(AccountRole)
    }

    // MARK: Who may use it

    /// The staff member, if `user` may use the console now.
    func admit(_ user: User) async throws -> Result<User, Refusal> {
        guard user.role.isStaff else { return .failure(.notStaff) }
        guard try await twoFactor.isEnabled(for: user) else { return .failure(.twoFactorRequired) }
        return .success(user)
    }

    /// Whether `staff` may take `action` on `target`, before reason and re-authentication.
    static func permission(_ action: Action, staff: User, target: User) -> Refusal? {
        if case .setRole = action, staff.role != .admin { return .adminOnly }
        if staff.id == target.id { return .ownAccount }
        if target.role.isStaff, staff.role != .admin { return .staffAccount }
        return nil
    }

    // MARK: Looking accounts up

    struct Search: Sendable {
        let staff: User
        /// The search as understood (trimmed, lower case); empty when none was made.
        let query: String
        let accounts: [User]
        /// More accounts matched than are shown: the search should be narrowed.
        let more: Bool
        /// The query was too short to run.
        let tooShort: Bool
    }

    /// Accounts whose address contains `query`, at most ``searchLimit``.
    func search(_ query: String?, by user: User) async throws -> Result<Search, Refusal> {
        let staff: User
        switch try await admit(user) {
        case .success(let admitted): staff = admitted
        case .failure(let refusal): return .failure(refusal)
        }
        let text = (query ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard text.count >= Self.shortestSearch else {
            return .success(Search(staff: staff, query: text, accounts: [], more: false, tooShort: !text.isEmpty))
        }
        let found = try await store.users(addressContaining: String(text.prefix(254)), limit: Self.searchLimit + 1)
        return .success(
            Search(staff: staff, query: text, accounts: Array(found.prefix(Self.searchLimit)), more: found.count > Self.searchLimit, tooShort: false)
        )
    }

    // MARK: An account

    /// One attempt budget's state, as the console shows it.
    struct Lock: Sendable {
        enum Budget: Sendable { case codes, recoveryCodes, password }
        let budget: Budget
        let consecutiveFailures: Int
        let decision: LockoutPolicy.Decision
    }

    /// A security key as staff see it: what its holder named it and when it was used; never its
    /// credential id or public key.
    struct SecurityKey: Sendable {
        let name: String
        let passkey: Bool
        let createdAt: UnixTime
        let lastUsedAt: UnixTime?
    }

    struct AccountView: Sendable {
        let staff: User
        let account: User
        /// Masked numbers only (`TwoFactorService.status`).
        let twoFactor: TwoFactorService.Status
        let securityKeys: [SecurityKey]
        let recovery: RecoveryCodeService.Status
        let devices: [TrustedDevice]
        /// Live sessions and API tokens (the view never shows their ids).
        let sessions: [Session]
        let locks: [Lock]
        let activity: [AuditEvent]
        /// Why the staff member may not act on this account, or `nil`.
        let actionRefusal: Refusal?
        /// Why they may not change its role, or `nil`.
        let roleRefusal: Refusal?
        /// Whether actions go ahead without "Confirm it’s you" first.
        let reauthenticated: Bool
    }

    func account(id: Int64, by user: User, session: Session) async throws -> Result<AccountView, Refusal> {
        let staff: User
        switch try await admit(user) {
        case .success(let admitted): staff = admitted
        case .failure(let refusal): return .failure(refusal)
        }
        guard let account = try await store.user(id: id) else { return .failure(.noSuchAccount) }
        let now = lockout.now()
        var locks: [Lock] = []
        for (budget, stored) in [
            (Lock.Budget.codes, LockoutService.Budget.codes(userID: account.id)),
            (.recoveryCodes, .recoveryCodes(userID: account.id)),
            (.password, .password(of: account)),
        ] {
            let failures = try await lockout.failures(stored)
            locks.append(
                Lock(budget: budget, consecutiveFailures: failures.consecutive, decision: lockout.policy(stored).decision(failures, now: now))
            )
        }
        return .success(
            AccountView(
                staff: staff,
                account: account,
                twoFactor: try await twoFactor.status(of: account),
                securityKeys: try await keys.credentials(of: account).map {
                    SecurityKey(name: $0.name, passkey: $0.isPasskey, createdAt: $0.createdAt, lastUsedAt: $0.lastUsedAt)
                },
                recovery: try await recoveryCodes.status(of: account),
                devices: try await devices.devices(of: account),
                sessions: try await store.sessions(userID: account.id).filter(sessions.isLive),
                locks: locks,
                activity: try await audit.events(userID: account.id, limit: Self.activityLimit),
                actionRefusal: Self.permission(.unlock, staff: staff, target: account),
                roleRefusal: Self.permission(.setRole(.none), staff: staff, target: account),
                reauthenticated: sessions.access(for: .staffAction, in: session) == .allowed
            )
        )
    }

    // MARK: Actions

    /// Takes `action` on the account `id` for the staff member signed in with `session`, recorded
    /// in the audit trail with the staff member as actor, the reason, and the client address.
    func perform(_ action: Action, accountID id: Int64, reason: String?, by user: User, session: Session) async throws -> Result<User, Refusal> {
        let staff: User
        switch try await admit(user) {
        case .success(let admitted): staff = admitted
        case .failure(let refusal): return .failure(refusal)
        }
        guard sessions.access(for: .staffAction, in: session) == .allowed else { return .failure(.reauthenticationRequired) }
        guard let target = try await store.user(id: id) else { return .failure(.noSuchAccount) }
        if let refusal = Self.permission(action, staff: staff, target: target) { return .failure(refusal) }
        let reason = Self.cleaned(reason)
        if action == .resetTwoFactor, reason == nil { return .failure(.reasonRequired) }
        let actor = "\(staff.role.rawValue) \(staff.name)"
        try await RequestOrigin.$staffName.withValue(staff.name) {
            switch action {
            case .unlock: try await twoFactor.operatorUnlock(user: target, by: actor, reason: reason)
            case .signOutEverywhere: try await accounts.signOutEverywhere(user: target, by: actor, reason: reason)
            case .revokeTrustedDevices:
                try await devices.revokeAll(user: target, reason: "all devices, by \(actor)" + TwoFactorService.because(reason))
            case .resetTwoFactor: try await twoFactor.operatorReset(user: target, by: actor, reason: reason)
            case .setRole(let role): try await changeRole(of: target, to: role, by: actor, reason: reason)
            }
        }
        return .success(target)
    }

    /// Gives the account a role, recorded as `role_changed` (also `twostep user grant|revoke`).
    /// - Parameter actor: Who did it, as the activity list names them (`operator alice`, `admin ann@example.com`).
    func changeRole(of user: User, to role: AccountRole, by actor: String, reason: String? = nil) async throws {
        guard user.role != role else { return }
        try await store.setRole(role, userID: user.id)
        try await store.recordEvent(
            userID: user.id,
            kind: .roleChanged,
            detail: "help-desk role \(user.role.rawValue) → \(role.rawValue) by \(actor)" + TwoFactorService.because(reason),
            at: lockout.now().unixTime
        )
    }

    /// A reason as recorded: one line (it goes into events, logs and alert mail), trimmed and cut
    /// to ``longestReason``; `nil` when empty.
    static func cleaned(_ reason: String?) -> String? {
        guard let reason else { return nil }
        let line = reason.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : String($0) }.joined()
            .trimmingCharacters(in: .whitespaces)
        return line.isEmpty ? nil : String(line.prefix(longestReason))
    }

    // MARK: The audit trail

    struct AuditTrail: Sendable {
        let staff: User
        let events: [AuditEvent]
        /// The `before` of the next (older) page, if there may be one.
        let nextBefore: Int64?
    }

    /// One page of the whole audit trail, newest first (admins only; `GET /api/v1/audit` reads the same).
    func auditTrail(before: Int64?, by user: User) async throws -> Result<AuditTrail, Refusal> {
        let staff: User
        switch try await admit(user) {
        case .success(let admitted): staff = admitted
        case .failure(let refusal): return .failure(refusal)
        }
        guard staff.role == .admin else { return .failure(.adminOnly) }
        guard case .success(let events) = try await audit.page(email: nil, since: nil, before: before, limit: Self.auditPageSize) else {
            return .success(AuditTrail(staff: staff, events: [], nextBefore: nil))
        }
        return .success(AuditTrail(staff: staff, events: events, nextBefore: events.count == Self.auditPageSize ? events.last?.id : nil))
    }
}
