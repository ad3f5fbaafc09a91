import Foundation
import Logging
import TwoStepCore
import TwoStepStore

/// What `twostep user …` does, through the same services as the web pages.
public struct OperatorActions: Sendable {
    private let accounts: AccountService
    private let twoFactor: TwoFactorService
    private let apiKeys: APIKeyService
    private let audit: AuditService
    private let helpDesk: HelpDeskService
    private let store: SQLStore
    private let parts: ServerParts
    private let configuration: ServerConfiguration
    /// `twostep client …` (issue 14).
    let oidc: OIDCService

    public init(parts: ServerParts, configuration: ServerConfiguration = ServerConfiguration()) {
        let services = Services(configuration, parts: parts, now: { Date() }, passwordHasher: .passwords, logger: Logger(label: "twostep"))
        self.parts = parts
        self.configuration = configuration
        store = parts.store
        accounts = services.accounts
        twoFactor = services.twoFactor
        apiKeys = services.apiKeys
        oidc = services.oidc
        audit = services.audit
        helpDesk = services.helpDesk
    }

    public func addUser(email: String, password: String) async throws -> String {
        // Not a sign-up: operators add accounts also when sign-up is off.
        switch try await accounts.create(.email(email), password: password, origin: .operator) {
        case .success(let user): return "added \(user.name) (id \(user.id))"
        case .failure(.invalidEmail): throw OperatorError("'\(email)' is not an e-mail address")
        case .failure(.passwordLength): throw OperatorError("the password must be \(AccountService.passwordRule)")
        case .failure(.emailTaken): throw OperatorError("\(email) already has an account")
        case .failure(.closed): throw OperatorError("sign-up is closed")
        }
    }

    public func listUsers() async throws -> [String] {
        var lines = ["id\tname\t2fa\tfailures\torigin"]
        let keyNames = Dictionary(uniqueKeysWithValues: try await apiKeys.list().map { ($0.id, $0.name) })
        for user in try await store.allUsers() {
            let enabled = try await twoFactor.isEnabled(for: user)
            let failures = try await twoFactor.attempts.failures(.codes(userID: user.id))
            let locked = twoFactor.attempts.codes.isLocked(failures)
            let origin =
                switch user.origin {
                case .apiKey?: "api key \(user.apiKeyID.flatMap { keyNames[$0] } ?? "?")"
                case let origin?: origin.rawValue
                case nil: "unrecorded"
                }
            let name = user.email ?? "\(user.externalID ?? "") (id of the key)"
            lines.append("\(user.id)\t\(name)\t\(enabled ? "on" : "off")\t\(failures.consecutive)\(locked ? " (locked)" : "")\t\(origin)")
        }
        return lines
    }

    /// - Parameter actor: Who runs it, for the account's security activity.
    public func resetTwoFactor(email: String, actor: String) async throws -> String {
        let user = try await account(email)
        try await twoFactor.operatorReset(user: user, by: "operator \(actor)")
        return "two-factor authentication is off for \(user.name); failures cleared, trusted devices revoked, every session ended;"
            + " the next sign-in must set up a method first"
    }

    /// `twostep user unlock`: clears waits and locks only; factors, sessions and devices stay, so
    /// whoever caused the lock still needs a second factor (issue 12: unlocking must not turn 2FA off).
    public func unlock(email: String, actor: String) async throws -> String {
        let user = try await account(email)
        try await twoFactor.operatorUnlock(user: user, by: "operator \(actor)")
        return "unlocked \(user.name): waits and locks cleared; its second factors are unchanged"
    }

    /// `twostep user grant --role support|admin`: opens the help-desk console to the account (issue 18).
    /// The console itself still needs the account to have a second factor on.
    public func grantRole(_ role: String, email: String, actor: String) async throws -> String {
        guard let role = AccountRole(rawValue: role), role.isStaff else { throw OperatorError("the role is support or admin") }
        let user = try await account(email)
        try await helpDesk.changeRole(of: user, to: role, by: "operator \(actor)")
        let warning = try await twoFactor.isEnabled(for: user) ? "" : "; it cannot use the console until it turns two-factor authentication on"
        return "\(user.name) is \(role.rawValue) now" + warning
    }

    /// `twostep user revoke`: closes the console to the account; it stays an ordinary account.
    public func revokeRole(email: String, actor: String) async throws -> String {
        let user = try await account(email)
        try await helpDesk.changeRole(of: user, to: .none, by: "operator \(actor)")
        return user.role == .none ? "\(user.name) had no help-desk role" : "\(user.name) is no longer \(user.role.rawValue)"
    }

    private func account(_ email: String) async throws -> User {
        guard let normalized = AccountService.normalizedEmail(email), let user = try await store.user(email: normalized) else {
            throw OperatorError("no account has the e-mail address \(email)")
        }
        return user
    }
}

extension OperatorActions {
    /// `twostep keys rotate`: makes a new active master key and re-seals every secret with it.
    ///
    /// The key file is written with the new key first and the old ones after, before anything is
    /// re-sealed, so a crash half-way leaves every value still openable. Run it with the servers
    /// stopped (they hold the key ring in memory), then start them again.
    /// - Parameter dropRetired: Also remove the old keys from the file once nothing uses them.
    public func rotateKeys(dropRetired: Bool) async throws -> String {
        let path = configuration.masterKeyPath
        let old = try MasterKeyFile.load(at: path)
        let newKey = SealingKey.generate()
        let ring = KeyRing(active: newKey, retired: old.keys)
        try MasterKeyFile.write([newKey] + old.keys, to: path)

        var resealed = 0
        for user in try await store.allUsers() {
            for factor in try await store.factors(userID: user.id) {
                guard let sealed = factor.sealedSecret, ring.needsResealing(sealed) else { continue }
                let context = TwoFactorService.sealContext(user.id)
                try await store.setFactorSecret(ring.seal(try ring.open(sealed, context: context), context: context), factorID: factor.id)
                resealed += 1
            }
            for code in try await store.recoveryCodes(userID: user.id) where ring.needsResealing(code.sealedCode) {
                let context = RecoveryCodeService.sealContext(user.id)
                try await store.setSealedRecoveryCode(ring.seal(try ring.open(code.sealedCode, context: context), context: context), id: code.id)
                resealed += 1
            }
        }
        // The ID-token signing keys: re-sealed, then replaced by a new one; the old ones stay
        // published until the tokens they signed expire (issue 14).
        for key in try await store.signingKeys() where ring.needsResealing(key.sealedKey) {
            let context = OIDCService.sealContext(key.kid)
            try await store.setSealedSigningKey(ring.seal(try ring.open(key.sealedKey, context: context), context: context), kid: key.kid)
            resealed += 1
        }
        let policy = TwoFactorPolicyService(policy: TwoFactorPolicy(), store: store, twoFactor: twoFactor, now: { Date() })
        let signingKey = try await OIDCService(store: store, twoFactor: twoFactor, policy: policy, keyRing: ring, issuer: nil, now: { Date() })
            .rotateSigningKey()
        if dropRetired { try MasterKeyFile.write([newKey], to: path) }
        let kept = dropRetired ? "old keys removed" : "old keys kept for opening (\(old.keys.map(\.id).joined(separator: ", ")))"
        try await store.recordEvent(
            userID: nil,
            kind: .masterKeyRotated,
            detail: "new master key \(newKey.id); \(resealed) secrets re-sealed; \(kept); new ID-token signing key \(signingKey)",
            outcome: .success,
            at: Date().unixTime
        )
        return "new master key \(newKey.id); re-sealed \(resealed) secrets; \(kept); new ID-token signing key \(signingKey)"
    }
}

extension OperatorActions {
    /// `twostep user import FILE`: users moving from another system with the app keys they already
    /// have, one per line: `email,base32-secret[,algorithm,digits,period]` (`#` starts a comment).
    ///
    /// Lines go in in transactions of 10,000; an address that already has an account is skipped, so
    /// after a bad line the same file can be fixed and run again. The users get no password: the
    /// relying service checks passwords, TwoStep the second factor.
    public func importUsers(csv text: String, progress: (Int) -> Void = { _ in }) async throws -> String {
        let keyRing = parts.keyRing
        let seal: @Sendable (Int64, [UInt8]) -> String = { id, secret in keyRing.seal(secret, context: TwoFactorService.sealContext(id)) }
        var batch: [UserImport] = []
        var (read, added) = (0, 0)
        func flush() async throws {
            added += try await store.importUsers(batch, seal: seal, eventDetail: "authenticator app (key imported)", at: Date().unixTime)
            batch.removeAll(keepingCapacity: true)
            progress(added)
        }
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            guard !content.isEmpty else { continue }
            do {
                batch.append(try Self.parseImportLine(content))
            } catch {
                try await flush()
                throw OperatorError(
                    "line \(lineNumber): \(error); \(added) users added before it (fix the line and run again: added users are skipped)"
                )
            }
            read += 1
            if batch.count == 10_000 { try await flush() }
        }
        try await flush()
        try await store.recordEvent(
            userID: nil,
            kind: .usersImported,
            detail: "\(added) added, \(read - added) skipped (already had accounts)",
            outcome: .success,
            at: Date().unixTime
        )
        return "added \(added) users with authenticator apps; skipped \(read - added) that already had accounts"
    }

    private static func parseImportLine(_ line: String) throws -> UserImport {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (2...5).contains(fields.count) else { throw OperatorError("expected email,secret[,algorithm,digits,period]") }
        guard let email = AccountService.normalizedEmail(fields[0]) else { throw OperatorError("'\(fields[0])' is not an e-mail address") }
        func number(_ index: Int) throws -> Int? {
            guard fields.count > index, !fields[index].isEmpty else { return nil }
            guard let value = Int(fields[index]) else { throw OperatorError("'\(fields[index])' is not a number") }
            return value
        }
        let algorithm = fields.count > 2 && !fields[2].isEmpty ? fields[2] : nil
        do {
            let key = try TwoFactorService.ImportedKey(base32: fields[1], algorithm: algorithm, digits: try number(3), period: try number(4))
            return UserImport(
                email: email,
                passwordHash: AccountService.noPassword,
                secret: key.secret,
                algorithm: key.algorithm.rawValue,
                digits: key.digits,
                period: key.period
            )
        } catch let problem as TwoFactorService.ImportedKey.Problem {
            throw OperatorError("\(problem.field) \(problem.message)")
        }
    }

    /// `twostep apikey create`: the key, printed this once; only its hash is kept.
    /// - Parameters:
    ///   - scopes: `validate,users,…`; `nil` for the defaults (everything but `audit`).
    ///   - reach: `all` or `own`; `nil` for `own`.
    public func createAPIKey(name: String, scopes: String? = nil, reach: String? = nil) async throws -> String {
        let scopeSet = try scopes.map { text in
            guard let set = APIKeyScope.parse(text), !set.isEmpty else {
                let names = APIKeyScope.allCases.map(\.rawValue).joined(separator: ", ")
                throw OperatorError("scopes are \(names), separated by commas or given one by one")
            }
            return set
        }
        let reachValue = try reach.map { text in
            guard let value = APIKeyReach(rawValue: text) else { throw OperatorError("the reach is all or own") }
            return value
        }
        switch try await apiKeys.create(name: name, scopes: scopeSet ?? APIKeyScope.defaults, reach: reachValue ?? .own) {
        case .success(let key): return key
        case .failure(.invalidName): throw OperatorError("a key name is 1 to 64 letters, digits, '.', '_' or '-'")
        case .failure(.nameTaken): throw OperatorError("a key named \(name) already exists (revoked keys keep their names)")
        }
    }

    public func revokeAPIKey(name: String) async throws -> String {
        guard try await apiKeys.revoke(name: name) else { throw OperatorError("no live key is named \(name)") }
        return "revoked \(name): running servers refuse it within \(Int(APIKeyService.cacheLifetime)) seconds"
    }

    public func listAPIKeys() async throws -> [String] {
        ["name\tcreated\tstate\tscopes\treach"]
            + (try await apiKeys.list()).map { key in
                let state = key.revokedAt.map { "revoked \(Format.minute(Date(unixTime: $0)))" } ?? "live"
                return
                    "\(key.name)\t\(Format.minute(Date(unixTime: key.createdAt)))\t\(state)\t\(APIKeyScope.text(key.scopes))\t\(key.reach.rawValue)"
            }
    }

    /// `twostep apikey link`: lets a reach-limited key act on an existing account (one the
    /// service did not provision), after the operator has checked who holds it.
    public func linkAPIKey(name: String, email: String) async throws -> String {
        guard let normalized = AccountService.normalizedEmail(email), let user = try await store.user(email: normalized) else {
            throw OperatorError("no account has the e-mail address \(email)")
        }
        switch try await apiKeys.link(name: name, user: user) {
        case .success: return "linked \(user.name) to the key \(name)"
        case .failure(.noSuchKey): throw OperatorError("no live key is named \(name)")
        case .failure(.alreadyLinked): throw OperatorError("\(user.name) is linked to \(name) already")
        }
    }
}

extension OperatorActions {
    /// `twostep audit`: the newest events first, as text lines or JSON lines.
    /// - Parameters:
    ///   - email: Only this account's events.
    ///   - since: Only events at most this many seconds old.
    public func auditTrail(email: String?, since: Double?, limit: Int, json: Bool) async throws -> [String] {
        let events: [AuditEvent]
        switch try await audit.page(email: email, since: since.map { Date().addingTimeInterval(-$0) }, before: nil, limit: limit) {
        case .success(let page): events = page
        case .failure(.noSuchUser): throw OperatorError("no account has the e-mail address \(email ?? "")")
        }
        if json {
            return try events.map { String(decoding: try API.encoder.encode(AuditEventBody($0)), as: UTF8.self) }
        }
        return ["time\tevent\toutcome\tactor\taccount\tfrom\tdetail"]
            + events.map { event in
                let body = AuditEventBody(event)
                let actor = [body.actor.kind, body.actor.name].compactMap { $0 }.joined(separator: " ")
                let account = event.email ?? event.userID.map { "id \($0)" } ?? "-"
                let from = [body.clientAddress, body.userAgent.map(BrowserName.describe)].compactMap { $0 }.joined(separator: ", ")
                return
                    "\(Format.minute(body.at))\t\(event.kind)\t\(event.outcome)\t\(actor)\t\(account)\t\(from.isEmpty ? "-" : from)\t\(event.detail)"
            }
    }

    /// `twostep audit prune`: deletes events older than `age` seconds.
    public func pruneAuditTrail(olderThan age: Double) async throws -> String {
        let deleted = try await audit.prune(olderThan: age)
        return "deleted \(deleted) events older than \(Int(age / 86_400)) days"
    }
}

extension OperatorActions {
    /// `twostep backup FILE`: a consistent copy of the SQLite database while the server runs.
    public func backup(to path: String) async throws -> String {
        let accounts = try await parts.database.backup(to: path)
        try await store.recordEvent(userID: nil, kind: .databaseBackedUp, detail: path, outcome: .success, at: Date().unixTime)
        return "backed up \(accounts) accounts to \(path) (one consistent snapshot, integrity checked, mode 0600)."
            + " The master key is not in it: keep \(configuration.masterKeyPath) backed up separately, and apart from it."
    }

    /// After `twostep restore`: the restored database is migrated to this version, and the restore recorded.
    public func recordRestore(from path: String, kept: String?) async throws -> String {
        try await store.recordEvent(
            userID: nil,
            kind: .databaseRestored,
            detail: path + (kept.map { "; the replaced database is kept as \($0)" } ?? ""),
            outcome: .success,
            at: Date().unixTime
        )
        let accounts = try await store.allUsers().count
        return "restored \(accounts) accounts from \(path)" + (kept.map { "; the database it replaced is kept as \($0)" } ?? "")
            + ". Start the server with the master key that was in use when the backup was made."
    }
}

public struct OperatorError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
