import Foundation
import TwoStepCore
import TwoStepStore

/// What every help-desk page reads besides its own data: the menu's entries for this staff member.
struct HelpDeskFrame: Sendable {
    /// Admins see the audit trail in the menu.
    let admin: Bool
    let onSearch: Bool
    let onAudit: Bool
}

/// The console's first page: search accounts by address (issue 18).
struct HelpDeskSearchPage: PageContent {
    var template: Template { .helpDeskSearch }
    let frame: PageFrame
    let desk: HelpDeskFrame
    let query: String
    let searched: Bool
    let tooShort: Bool
    let more: Bool
    let shortest: Int
    let limit: Int
    let accounts: [Row]

    struct Row: Sendable {
        let id: Int64
        let name: String
        let role: String?
    }

    init(_ search: HelpDeskService.Search, csrf: String) {
        frame = PageFrame(title: "Help desk", csrf: csrf, signedInAs: search.staff.name)
        desk = HelpDeskFrame(admin: search.staff.role == .admin, onSearch: true, onAudit: false)
        query = search.query
        searched = !search.query.isEmpty && !search.tooShort
        tooShort = search.tooShort
        more = search.more
        shortest = HelpDeskService.shortestSearch
        limit = HelpDeskService.searchLimit
        accounts = search.accounts.map { Row(id: $0.id, name: $0.name, role: $0.role.isStaff ? $0.role.rawValue : nil) }
    }
}

/// One account as the help desk sees it: what its holder sees on their own page, never a secret,
/// code or full phone number, and the actions staff may take (issue 18).
struct HelpDeskAccountPage: PageContent {
    var template: Template { .helpDeskAccount }
    let frame: PageFrame
    let desk: HelpDeskFrame
    let id: Int64
    let name: String
    let role: String
    let created: String
    let emailState: String
    let enrolmentRequired: Bool
    let enabled: Bool
    let methods: [String]
    let recovery: String
    let devices: [Device]
    let sessions: [SignedIn]
    let locks: [Lock]
    let locked: Bool
    let activity: [Event]
    /// Why actions are not offered, or `nil` when they are.
    let actionsRefused: String?
    let canChangeRole: Bool
    let roles: [RoleChoice]
    let reauthenticated: Bool
    let notice: String?
    let error: String?

    struct Device: Sendable {
        let browser: String
        let created: String
        let lastUsed: String
        let expires: String
    }

    struct SignedIn: Sendable {
        let browser: String
        let started: String
        let lastSeen: String
        let stage: String
    }

    struct Lock: Sendable {
        let what: String
        let failures: Int
        let state: String
        let blocked: Bool
    }

    struct Event: Sendable {
        let when: String
        let iso: String
        let what: String
        let outcome: String
        let actor: String
        let detail: String?
        let address: String?
    }

    struct RoleChoice: Sendable {
        let value: String
        let current: Bool
    }

    init(_ view: HelpDeskService.AccountView, csrf: String, notice: String?, error: String?, now: Date) {
        let account = view.account
        frame = PageFrame(title: "Help desk: \(account.name)", csrf: csrf, signedInAs: view.staff.name)
        desk = HelpDeskFrame(admin: view.staff.role == .admin, onSearch: true, onAudit: false)
        id = account.id
        name = account.name
        role = account.role.rawValue
        created = Format.minute(Date(unixTime: account.createdAt))
        emailState =
            account.email == nil
            ? "none (named by a service)" : account.emailVerifiedAt == nil ? "not confirmed: gets no security alerts" : "confirmed"
        enrolmentRequired = account.enrolmentRequired
        enabled = view.twoFactor.enabled
        var methods: [String] = []
        for kind in view.twoFactor.kinds {
            switch kind {
            case .totp: methods.append("App (authenticator app)")
            case .sms: methods.append("SMS to " + (view.twoFactor.smsPhone ?? "a phone"))
            case .recoveryPhone: methods.append("Recovery phone " + (view.twoFactor.recoveryPhone ?? ""))
            }
        }
        for key in view.securityKeys {
            let used = key.lastUsedAt.map { "last used " + Format.minute(Date(unixTime: $0)) } ?? "never used"
            methods.append(
                "\(key.passkey ? "Passkey" : "Security key") “\(key.name)”, added \(Format.minute(Date(unixTime: key.createdAt))), \(used)"
            )
        }
        self.methods = methods
        recovery =
            switch view.recovery.supply {
            case .notGenerated: "none generated"
            default: "\(view.recovery.remaining) of \(view.recovery.total) left"
            }
        devices = view.devices.map { device in
            Device(
                browser: BrowserName.describe(device.userAgent),
                created: Format.minute(Date(unixTime: device.createdAt)),
                lastUsed: Format.minute(Date(unixTime: device.lastUsedAt)),
                expires: Format.minute(Date(unixTime: device.expiresAt))
            )
        }
        sessions = view.sessions.map { session in
            SignedIn(
                browser: session.userAgent.isEmpty ? "Unknown browser" : BrowserName.describe(session.userAgent),
                started: Format.minute(Date(unixTime: session.createdAt)),
                lastSeen: Format.minute(Date(unixTime: session.lastSeenAt)),
                stage: session.stage == .signedIn ? "signed in" : "between password and code"
            )
        }
        locks = view.locks.map { lock in
            let what =
                switch lock.budget {
                case .codes: "Security codes"
                case .recoveryCodes: "Recovery codes"
                case .password: "Password"
                }
            let state =
                switch lock.decision {
                case .allowed: "may try"
                case .wait(let retryAt): "waiting until \(Format.time(retryAt))"
                case .locked: "locked (too many failures in a row)"
                }
            return Lock(what: what, failures: lock.consecutiveFailures, state: state, blocked: lock.decision != .allowed)
        }
        locked = locks.contains(where: \.blocked)
        activity = view.activity.map { event in
            let date = Date(unixTime: event.createdAt)
            let body = AuditEventBody(event)
            return Event(
                when: Format.minute(date),
                iso: date.ISO8601Format(),
                what: SecurityEventKind(rawValue: event.kind).map(TwoFactorController.describe) ?? event.kind,
                outcome: event.outcome,
                actor: [body.actor.kind.replacingOccurrences(of: "_", with: " "), body.actor.name].compactMap { $0 }.joined(separator: " "),
                detail: event.detail.nilIfEmpty,
                address: event.clientAddress == ClientAddress.unknown ? nil : event.clientAddress.nilIfEmpty
            )
        }
        actionsRefused = view.actionRefusal.map(Self.explain)
        canChangeRole = view.roleRefusal == nil
        roles = AccountRole.allCases.map { RoleChoice(value: $0.rawValue, current: $0 == account.role) }
        reauthenticated = view.reauthenticated
        self.notice = notice
        self.error = error
    }

    /// Why the console refuses, in the staff member's words.
    static func explain(_ refusal: HelpDeskService.Refusal) -> String {
        switch refusal {
        case .notStaff: "This page is for the help desk only."
        case .twoFactorRequired: "Turn on two-factor authentication for your own account first."
        case .reauthenticationRequired: "Confirm it’s you first."
        case .noSuchAccount: "No such account."
        case .ownAccount:
            "This is your own account. The help desk does not act on its own staff’s accounts (a stolen session must not remove its own second factor or raise its own role): use your profile, or ask another admin."
        case .staffAccount: "This is a help-desk account: only an admin can act on it."
        case .adminOnly: "Only admins can do this."
        case .reasonRequired: "Give a reason: it goes into the audit trail."
        }
    }
}

/// The audit trail, for admins: the same events as `twostep audit` and `GET /api/v1/audit`.
struct HelpDeskAuditPage: PageContent {
    var template: Template { .helpDeskAudit }
    let frame: PageFrame
    let desk: HelpDeskFrame
    let events: [Row]
    let older: Int64?

    struct Row: Sendable {
        let when: String
        let iso: String
        let kind: String
        let outcome: String
        let actor: String
        let account: String
        let accountID: Int64?
        let from: String
        let detail: String
    }

    init(_ trail: HelpDeskService.AuditTrail, csrf: String) {
        frame = PageFrame(title: "Audit trail", csrf: csrf, signedInAs: trail.staff.name)
        desk = HelpDeskFrame(admin: true, onSearch: false, onAudit: true)
        events = trail.events.map { event in
            let body = AuditEventBody(event)
            let date = Date(unixTime: event.createdAt)
            return Row(
                when: Format.time(date),
                iso: date.ISO8601Format(),
                kind: event.kind,
                outcome: event.outcome,
                actor: [body.actor.kind, body.actor.name].compactMap { $0 }.joined(separator: " "),
                account: event.email ?? event.userID.map { "#\($0)" } ?? "—",
                accountID: event.userID,
                from: [body.clientAddress, body.userAgent.map(BrowserName.describe)].compactMap { $0 }.joined(separator: ", "),
                detail: event.detail
            )
        }
        older = trail.nextBefore
    }
}
