import SQLKit
import SQLiteNIO

/// The store on SQL: the same statements for SQLite and PostgreSQL, through SQLKit's bindings;
/// the hottest are fixed texts (`Database.rows(fixed:)`: a wrong code's budget and event), and
/// validate's two each database runs in its own words (`PostgresValidation`: batched and prepared;
/// `SQLiteValidation`: fixed texts on the worker).
public struct SQLStore: Store {
    public let database: Database
    /// On PostgreSQL, concurrent validate lookups share one query, and so do their step claims
    /// (see `StatementBatcher`).
    private let validationReads: StatementBatcher<[String], [String], [String: UserAndFactors]>
    private let stepClaims: StatementBatcher<Int64, StepClaim, Bool>

    /// The kinds of event the holder may be mailed about (`SecurityAlertService`); every other
    /// kind is recorded as needing no alert, so the alert dispatcher never reads it.
    private let alerting: Set<SecurityEventKind>

    public init(database: Database, alerting: Set<SecurityEventKind> = Set(SecurityEventKind.allCases)) {
        self.database = database
        self.alerting = alerting
        validationReads = StatementBatcher(duplicates: .share, absent: [:]) { lookups in
            let found = try await Self.usersWithConfirmedFactors(keys: Array(Set(lookups.values.joined()))) { emails, external in
                try await database.execute(PostgresValidation.Lookup(emails: emails, external: external))
            }
            return lookups.mapValues { keys in
                Dictionary(keys.compactMap { key in found[key].map { (key, $0) } }, uniquingKeysWith: { first, _ in first })
            }
        }
        stepClaims = StatementBatcher(duplicates: .nextRound, absent: false) { claims in
            try await Self.claimSteps(Array(claims.values), database: database)
        }
    }

    struct UserAndFactors: Sendable {
        var user: User
        var factors: [Factor]
    }

    /// Reads spread over the reader connections; every write goes through the one writer (see `Database`).
    private var sql: any SQLDatabase { database.sql }
    private var writer: any SQLDatabase { database.writer }

    // MARK: Users

    static let userColumns =
        "id, email, password_hash, created_at, origin, api_key_id, external_id, enrolment_required, email_verified_at, role, two_factor_grace_from"

    public func createUser(
        email: String?,
        passwordHash: String,
        origin: AccountOrigin,
        apiKeyID: Int64?,
        externalID: String?,
        at time: UnixTime
    ) async throws -> User {
        let row = try await writer.raw(
            """
            INSERT INTO users (email, password_hash, created_at, origin, api_key_id, external_id)
            VALUES (\(bind: email), \(bind: passwordHash), \(bind: time), \(bind: origin.rawValue), \(bind: apiKeyID), \(bind: externalID))
            ON CONFLICT DO NOTHING RETURNING \(unsafeRaw: Self.userColumns)
            """
        ).first().map(User.init(row:))
        guard let row else { throw StoreError.duplicate }
        return row
    }

    public func user(id: Int64) async throws -> User? {
        try await sql.raw("SELECT \(unsafeRaw: Self.userColumns) FROM users WHERE id = \(bind: id)").first().map(User.init(row:))
    }

    public func user(email: String) async throws -> User? {
        try await sql.raw("SELECT \(unsafeRaw: Self.userColumns) FROM users WHERE email = \(bind: email)").first().map(User.init(row:))
    }

    public func user(apiKeyID: Int64, externalID: String) async throws -> User? {
        try await sql.raw(
            "SELECT \(unsafeRaw: Self.userColumns) FROM users WHERE api_key_id = \(bind: apiKeyID) AND external_id = \(bind: externalID)"
        ).first().map(User.init(row:))
    }

    public func usersWithConfirmedFactors(
        apiKeyID: Int64,
        externalID: String?,
        email: String?
    ) async throws -> (byID: (User, [Factor])?, byEmail: (User, [Factor])?) {
        let byID = externalID.map { LookupName.external(apiKeyID, $0).key }
        let byEmail = email.map { LookupName.email($0).key }
        func pair(_ found: UserAndFactors?) -> (User, [Factor])? { found.map { ($0.user, $0.factors) } }
        let keys = [byID, byEmail].compactMap { $0 }
        let found: [String: UserAndFactors]
        switch database.dialect {
        case .sqlite:
            // A read costs microseconds inline on the caller's thread (`SQLiteWorker`): batching
            // would only add tasks and hand-offs.
            found = try await Self.usersWithConfirmedFactors(keys: keys) { emails, external in
                let (sql, binds) = SQLiteValidation.lookup(emails: emails, external: external)
                return try await database.execute(sqlite: sql, binds, writing: false)
            }
        case .postgres:
            // Each statement is a round trip: concurrent requests' lookups share one.
            found = try await validationReads.answer(keys, key: keys)
        }
        return (pair(byID.flatMap { found[$0] }), pair(byEmail.flatMap { found[$0] }))
    }

    /// How an account is named in a batched validate lookup: by address, or by a key's own id
    /// for it. Both kinds share one batch, and so one query.
    private enum LookupName {
        case email(String)
        case external(Int64, String)

        var key: String {
            switch self {
            case .email(let email): "e" + email
            case .external(let keyID, let id): "x\(keyID):" + id
            }
        }

        init?(key: String) {
            if key.hasPrefix("e") {
                self = .email(String(key.dropFirst()))
            } else if let colon = key.firstIndex(of: ":"), let keyID = Int64(key.dropFirst().prefix(upTo: colon)) {
                self = .external(keyID, String(key[key.index(after: colon)...]))
            } else {
                return nil
            }
        }
    }

    /// The columns of a user joined with a factor, the factor's renamed `f_…`.
    static let joinedUserColumns = userColumns.split(separator: ", ").map { "u.\($0)" }.joined(separator: ", ")
    static let joinedFactorColumns = factorColumns.split(separator: ", ").map { "f.\($0) AS f_\($0)" }.joined(separator: ", ")

    /// Users with their confirmed factors, for a set of names, in one query.
    /// - Parameter read: Reads the accounts named by addresses and by keys' own ids (see
    ///   `SQLiteValidation.lookup` and `PostgresValidation.Lookup`).
    private static func usersWithConfirmedFactors(
        keys: [String],
        rows read: ([String], [(keyID: Int64, id: String)]) async throws -> [any SQLRow]
    ) async throws -> [String: UserAndFactors] {
        let names = keys.compactMap(LookupName.init(key:))
        var emails: [String] = []
        var external: [(keyID: Int64, id: String)] = []
        for name in names {
            switch name {
            case .email(let email): emails.append(email)
            case .external(let keyID, let id): external.append((keyID, id))
            }
        }
        guard !names.isEmpty else { return [:] }
        let rows = try await read(emails, external)
        var found: [String: UserAndFactors] = [:]
        for row in rows {
            let user = try User(row: row)
            let factor = try row.decodeNil(column: "f_id") ? nil : try Factor(row: row, prefix: "f_")
            var keys: [String] = []
            if let email = user.email { keys.append(LookupName.email(email).key) }
            if let keyID = user.apiKeyID, let id = user.externalID { keys.append(LookupName.external(keyID, id).key) }
            for key in keys {
                found[key, default: UserAndFactors(user: user, factors: [])].factors += factor.map { [$0] } ?? []
            }
        }
        // Oldest first, as everywhere: the statement has no ORDER BY (see `SQLiteValidation.lookup`).
        for key in found.keys { found[key]?.factors.sort { $0.id < $1.id } }
        return found
    }

    public func allUsers() async throws -> [User] {
        try await sql.raw("SELECT \(unsafeRaw: Self.userColumns) FROM users ORDER BY id").all().map(User.init(row:))
    }

    public func setPasswordHash(_ hash: String, userID: Int64) async throws {
        try await writer.raw("UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: userID)").run()
    }

    public func setEnrolmentRequired(_ required: Bool, userID: Int64) async throws {
        try await writer.raw("UPDATE users SET enrolment_required = \(bind: required ? 1 : 0) WHERE id = \(bind: userID)").run()
    }

    public func startTwoFactorGrace(userID: Int64, at time: UnixTime) async throws -> UnixTime {
        // One statement: two first sign-ins at once (any instance) keep the earlier start, never move it.
        let row = try await writer.raw(
            """
            UPDATE users SET two_factor_grace_from = COALESCE(two_factor_grace_from, \(bind: time)) WHERE id = \(bind: userID)
            RETURNING two_factor_grace_from
            """
        ).first()
        return try row?.decode(column: "two_factor_grace_from", as: UnixTime.self) ?? time
    }

    public func setEmailVerified(userID: Int64, email: String, at time: UnixTime) async throws -> Bool {
        try await writer.raw(
            """
            UPDATE users SET email_verified_at = \(bind: time) WHERE id = \(bind: userID) AND email = \(bind: email) RETURNING id
            """
        ).first() != nil
    }

    public func changeEmail(userID: Int64, to email: String, at time: UnixTime) async throws {
        // The UNIQUE constraint decides between two accounts moving to one address at once.
        guard
            try await writer.raw(
                """
                UPDATE users SET email = \(bind: email), email_verified_at = \(bind: time)
                WHERE id = \(bind: userID) AND NOT EXISTS (SELECT 1 FROM users WHERE email = \(bind: email)) RETURNING id
                """
            ).first() != nil
        else { throw StoreError.duplicate }
    }

    public func importUsers(
        _ users: [UserImport],
        seal: @Sendable (Int64, [UInt8]) -> String,
        eventDetail: String,
        at time: UnixTime
    ) async throws -> Int {
        try await database.transaction { connection in
            var added = 0
            // Some hundred rows per statement: few round trips, well under SQLite's 32,766 bound values.
            for start in stride(from: 0, to: users.count, by: 500) {
                let chunk = users[start..<min(start + 500, users.count)]
                let values = chunk.map { user -> SQLQueryString in
                    "(\(bind: user.email), \(bind: user.passwordHash), \(bind: time), \(bind: AccountOrigin.import.rawValue))"
                }
                let rows = try await connection.raw(
                    """
                    INSERT INTO users (email, password_hash, created_at, origin) VALUES \(values.joined(separator: ", "))
                    ON CONFLICT (email) DO NOTHING RETURNING id, email
                    """
                ).all()
                let ids = Dictionary(
                    uniqueKeysWithValues: try rows.map {
                        (try $0.decode(column: "email", as: String.self), try $0.decode(column: "id", as: Int64.self))
                    }
                )
                let imported = chunk.compactMap { user in ids[user.email].map { (id: $0, user: user) } }
                guard !imported.isEmpty else { continue }
                let factors = imported.map { id, user -> SQLQueryString in
                    """
                    (\(bind: id), \(bind: FactorKind.totp.rawValue), \(bind: seal(id, user.secret)), \(bind: user.algorithm), \(bind: user.digits), \(bind: user.period), \(bind: time), \(bind: time))
                    """
                }
                try await connection.raw(
                    """
                    INSERT INTO factors (user_id, kind, sealed_secret, algorithm, digits, period, created_at, confirmed_at)
                    VALUES \(factors.joined(separator: ", "))
                    """
                ).run()
                // The same columns as `recordEvent`, in bulk. No alert: an imported account has no
                // confirmed address, which an alert needs (`SecurityAlertService`), and its holder
                // keeps the key they already had; nor is a million-line import a million events for
                // the dispatcher to read at the next start.
                let actor = RequestOrigin.actor
                let events = imported.map { id, _ -> SQLQueryString in
                    """
                    (\(bind: id), \(bind: SecurityEventKind.twoFactorEnabled.rawValue), \(bind: eventDetail), \(bind: time), \(bind: actor.kind.rawValue),
                    \(bind: actor.name), 'none')
                    """
                }
                try await connection.raw(
                    """
                    INSERT INTO security_events (user_id, kind, detail, created_at, actor_kind, actor_name, alert_state)
                    VALUES \(events.joined(separator: ", "))
                    """
                ).run()
                added += imported.count
            }
            return added
        }
    }

    // MARK: Factors

    static let factorColumns = "id, user_id, kind, sealed_secret, phone, algorithm, digits, period, last_used_step, created_at, confirmed_at"

    public func createFactor(
        userID: Int64,
        kind: FactorKind,
        sealedSecret: String?,
        phone: String?,
        algorithm: String,
        digits: Int,
        period: Int,
        at time: UnixTime
    ) async throws -> Factor {
        try await writer.raw(
            """
            INSERT INTO factors (user_id, kind, sealed_secret, phone, algorithm, digits, period, created_at)
            VALUES (\(bind: userID), \(bind: kind.rawValue), \(bind: sealedSecret), \(bind: phone), \(bind: algorithm), \(bind: digits),
            \(bind: period), \(bind: time))
            RETURNING \(unsafeRaw: Self.factorColumns)
            """
        ).first().map { try Factor(row: $0) }!
    }

    public func factors(userID: Int64) async throws -> [Factor] {
        try await sql.raw("SELECT \(unsafeRaw: Self.factorColumns) FROM factors WHERE user_id = \(bind: userID) ORDER BY id")
            .all().map { try Factor(row: $0) }
    }

    public func confirmFactor(id: Int64, lastUsedStep: Int64?, at time: UnixTime) async throws {
        try await writer.raw("UPDATE factors SET confirmed_at = \(bind: time), last_used_step = \(bind: lastUsedStep) WHERE id = \(bind: id)").run()
    }

    public func claimStep(_ step: Int64, factorID: Int64) async throws -> Bool {
        try await writer.raw(
            """
            UPDATE factors SET last_used_step = \(bind: step)
            WHERE id = \(bind: factorID) AND (last_used_step IS NULL OR last_used_step < \(bind: step)) RETURNING id
            """
        ).first() != nil
    }

    public func claimStep(_ step: Int64, factorID: Int64, unlessBudgetHasRow budgetKey: String) async throws -> Bool {
        let claim = StepClaim(factorID: factorID, step: step, budgetKey: budgetKey)
        if database.dialect == .postgres { return try await stepClaims.answer(claim, key: factorID) }
        let (sql, binds) = SQLiteValidation.claim(claim)
        return try await !database.execute(sqlite: sql, binds, writing: true).isEmpty
    }

    struct StepClaim: Sendable {
        var factorID: Int64
        var step: Int64
        var budgetKey: String
    }

    /// Concurrent claims in one statement (PostgreSQL, issue 19): each row is still decided by its
    /// own conditional update, re-checked on the latest row when another instance changed it first;
    /// a batch never holds two claims on one factor (`StatementBatcher.Duplicates.nextRound`). The
    /// claims go in ordered by factor id, and the plan (a nested loop over the `unnest`, see
    /// `PostgresValidation.Claim`) locks rows in that order, so two instances' batches do not deadlock on
    /// shared rows (test: `batchedClaimsDecideEachFactorOnceAcrossInstances`); should PostgreSQL
    /// still break one, nothing of it took effect and it runs again.
    private static func claimSteps(_ claims: [StepClaim], database: Database) async throws -> [Int64: Bool] {
        let claims = claims.sorted { $0.factorID < $1.factorID }
        var attempt = 1
        while true {
            do {
                let won = try await database.execute(PostgresValidation.Claim(claims: claims))
                return Dictionary(won.map { ($0, true) }, uniquingKeysWith: { won, _ in won })
            } catch  where attempt < 3 && Database.isDeadlock(error) {
                attempt += 1
            }
        }
    }

    public func deleteFactor(id: Int64) async throws {
        try await writer.raw("DELETE FROM factors WHERE id = \(bind: id)").run()
    }

    public func setFactorSecret(_ sealed: String, factorID: Int64) async throws {
        try await writer.raw("UPDATE factors SET sealed_secret = \(bind: sealed) WHERE id = \(bind: factorID)").run()
    }

    public func deleteFactors(userID: Int64) async throws {
        try await writer.raw("DELETE FROM factors WHERE user_id = \(bind: userID)").run()
    }

    // MARK: Sessions

    static let sessionColumns = "id_hash, user_id, stage, created_at, last_seen_at, user_agent, reauthenticated_until, amr"

    public func createSession(_ session: Session) async throws {
        try await writer.raw(
            """
            INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen_at, user_agent, amr, reauthenticated_until)
            VALUES (\(bind: session.idHash), \(bind: session.userID), \(bind: session.stage.rawValue), \(bind: session.createdAt),
            \(bind: session.lastSeenAt), \(bind: session.userAgent), \(bind: session.amr), \(bind: session.reauthenticatedUntil))
            """
        ).run()
    }

    public func session(idHash: String) async throws -> Session? {
        try await sql.raw("SELECT \(unsafeRaw: Self.sessionColumns) FROM sessions WHERE id_hash = \(bind: idHash)").first(decoding: Session.self)
    }

    public func touchSession(idHash: String, at time: UnixTime) async throws {
        try await writer.raw("UPDATE sessions SET last_seen_at = \(bind: time) WHERE id_hash = \(bind: idHash)").run()
    }

    public func setReauthenticated(idHash: String, until time: UnixTime) async throws {
        try await writer.raw("UPDATE sessions SET reauthenticated_until = \(bind: time) WHERE id_hash = \(bind: idHash)").run()
    }

    public func rotateSession(idHash: String, to newIDHash: String, reauthenticatedUntil: UnixTime?, at time: UnixTime) async throws -> Bool {
        try await writer.raw(
            """
            UPDATE sessions SET id_hash = \(bind: newIDHash), last_seen_at = \(bind: time),
            reauthenticated_until = COALESCE(\(bind: reauthenticatedUntil), reauthenticated_until)
            WHERE id_hash = \(bind: idHash) RETURNING id_hash
            """
        ).first() != nil
    }

    public func deleteSessions(userID: Int64, except idHash: String) async throws {
        try await writer.raw("DELETE FROM sessions WHERE user_id = \(bind: userID) AND id_hash <> \(bind: idHash)").run()
    }

    public func deleteSession(idHash: String) async throws {
        try await writer.raw("DELETE FROM sessions WHERE id_hash = \(bind: idHash)").run()
    }

    public func deleteSessions(userID: Int64) async throws {
        try await writer.raw("DELETE FROM sessions WHERE user_id = \(bind: userID)").run()
    }

    public func deleteExpiredSessions(idleBefore: UnixTime, createdBefore: UnixTime) async throws {
        try await writer.raw("DELETE FROM sessions WHERE last_seen_at < \(bind: idleBefore) OR created_at < \(bind: createdBefore)").run()
    }

    // MARK: Trusted devices

    private static let deviceColumns = "id, user_id, token_hash, user_agent, created_at, last_used_at, expires_at"

    public func createTrustedDevice(
        userID: Int64,
        tokenHash: String,
        userAgent: String,
        at time: UnixTime,
        expiresAt: UnixTime
    ) async throws -> TrustedDevice {
        try await writer.raw(
            """
            INSERT INTO trusted_devices (user_id, token_hash, user_agent, created_at, last_used_at, expires_at)
            VALUES (\(bind: userID), \(bind: tokenHash), \(bind: userAgent), \(bind: time), \(bind: time), \(bind: expiresAt))
            RETURNING \(unsafeRaw: Self.deviceColumns)
            """
        ).first(decoding: TrustedDevice.self)!
    }

    public func trustedDevice(tokenHash: String) async throws -> TrustedDevice? {
        try await sql.raw("SELECT \(unsafeRaw: Self.deviceColumns) FROM trusted_devices WHERE token_hash = \(bind: tokenHash)")
            .first(decoding: TrustedDevice.self)
    }

    public func touchTrustedDevice(id: Int64, at time: UnixTime) async throws {
        try await writer.raw("UPDATE trusted_devices SET last_used_at = \(bind: time) WHERE id = \(bind: id)").run()
    }

    public func trustedDevices(userID: Int64) async throws -> [TrustedDevice] {
        try await sql.raw("SELECT \(unsafeRaw: Self.deviceColumns) FROM trusted_devices WHERE user_id = \(bind: userID) ORDER BY id")
            .all(decoding: TrustedDevice.self)
    }

    public func deleteTrustedDevice(id: Int64, userID: Int64) async throws -> Bool {
        try await writer.raw("DELETE FROM trusted_devices WHERE id = \(bind: id) AND user_id = \(bind: userID) RETURNING id").first() != nil
    }

    public func deleteExpiredTrustedDevices(before time: UnixTime) async throws {
        try await writer.raw("DELETE FROM trusted_devices WHERE expires_at <= \(bind: time)").run()
    }

    public func deleteTrustedDevices(userID: Int64) async throws {
        try await writer.raw("DELETE FROM trusted_devices WHERE user_id = \(bind: userID)").run()
    }

    // MARK: Recovery codes

    private static let recoveryColumns = "id, user_id, code_hash, sealed_code, created_at, used_at"

    public func replaceRecoveryCodes(userID: Int64, codes: [(hash: String, sealed: String)], at time: UnixTime) async throws {
        try await deleteRecoveryCodes(userID: userID)
        for code in codes {
            try await writer.raw(
                """
                INSERT INTO recovery_codes (user_id, code_hash, sealed_code, created_at)
                VALUES (\(bind: userID), \(bind: code.hash), \(bind: code.sealed), \(bind: time))
                """
            ).run()
        }
    }

    public func recoveryCodes(userID: Int64) async throws -> [StoredRecoveryCode] {
        try await sql.raw("SELECT \(unsafeRaw: Self.recoveryColumns) FROM recovery_codes WHERE user_id = \(bind: userID) ORDER BY id")
            .all(decoding: StoredRecoveryCode.self)
    }

    public func consumeRecoveryCode(id: Int64, at time: UnixTime) async throws -> Bool {
        try await writer.raw("UPDATE recovery_codes SET used_at = \(bind: time) WHERE id = \(bind: id) AND used_at IS NULL RETURNING id")
            .first() != nil
    }

    public func deleteRecoveryCodes(userID: Int64) async throws {
        try await writer.raw("DELETE FROM recovery_codes WHERE user_id = \(bind: userID)").run()
    }

    public func setSealedRecoveryCode(_ sealed: String, id: Int64) async throws {
        try await writer.raw("UPDATE recovery_codes SET sealed_code = \(bind: sealed) WHERE id = \(bind: id)").run()
    }

    // MARK: SMS challenges

    private static let challengeColumns = "id, user_id, factor_id, phone, sealed_code, created_at, expires_at, attempts, used_at"

    public func createSMSChallenge(
        userID: Int64,
        factorID: Int64,
        phone: String,
        sealedCode: String,
        at time: UnixTime,
        expiresAt: UnixTime
    ) async throws -> SMSChallenge {
        try await writer.raw(
            """
            INSERT INTO sms_challenges (user_id, factor_id, phone, sealed_code, created_at, expires_at)
            VALUES (\(bind: userID), \(bind: factorID), \(bind: phone), \(bind: sealedCode), \(bind: time), \(bind: expiresAt))
            RETURNING \(unsafeRaw: Self.challengeColumns)
            """
        ).first(decoding: SMSChallenge.self)!
    }

    public func latestSMSChallenge(factorID: Int64) async throws -> SMSChallenge? {
        try await sql.raw(
            "SELECT \(unsafeRaw: Self.challengeColumns) FROM sms_challenges WHERE factor_id = \(bind: factorID) ORDER BY id DESC LIMIT 1"
        ).first(decoding: SMSChallenge.self)
    }

    public func recordSMSGuess(challengeID: Int64, maximum: Int) async throws -> Bool {
        try await writer.raw(
            "UPDATE sms_challenges SET attempts = attempts + 1 WHERE id = \(bind: challengeID) AND attempts < \(bind: maximum) RETURNING id"
        ).first() != nil
    }

    public func consumeSMSChallenge(id: Int64, at time: UnixTime) async throws -> Bool {
        try await writer.raw("UPDATE sms_challenges SET used_at = \(bind: time) WHERE id = \(bind: id) AND used_at IS NULL RETURNING id").first()
            != nil
    }

    public func deleteSMSChallenges(createdBefore time: UnixTime) async throws {
        try await writer.raw("DELETE FROM sms_challenges WHERE created_at < \(bind: time)").run()
    }

    public func deleteSMSChallenge(id: Int64) async throws {
        try await writer.raw("DELETE FROM sms_challenges WHERE id = \(bind: id)").run()
    }

    // MARK: SMS send log

    public func recordSMSSend(userID: Int64, phone: String, purpose: String, at time: UnixTime, limits: SMSLimits) async throws -> SMSLimit? {
        // One statement, run `exclusively`: the counts and the insert happen under SQLite's single
        // writer, and on PostgreSQL after the previous send committed (an advisory lock), so a burst
        // of requests on any number of instances cannot all see "4 sent".
        let recorded = try await database.exclusively { writer in
            try await writer.raw(
                """
                INSERT INTO sms_sends (user_id, phone, purpose, sent_at)
                SELECT \(bind: userID), \(bind: phone), \(bind: purpose), \(bind: time)
                WHERE NOT EXISTS (SELECT 1 FROM sms_sends WHERE user_id = \(bind: userID) AND sent_at > \(bind: time - limits.cooldown))
                AND (SELECT COUNT(*) FROM sms_sends WHERE user_id = \(bind: userID) AND sent_at > \(bind: time - limits.accountWindow))
                    < \(bind: limits.perAccountPerHour)
                AND (SELECT COUNT(*) FROM sms_sends WHERE phone = \(bind: phone) AND sent_at > \(bind: time - limits.phoneWindow))
                    < \(bind: limits.perPhonePerDay)
                AND (SELECT COUNT(*) FROM sms_sends WHERE sent_at > \(bind: time - limits.serverHourWindow)) < \(bind: limits.serverPerHour)
                AND (SELECT COUNT(*) FROM sms_sends WHERE sent_at > \(bind: time - limits.serverDayWindow)) < \(bind: limits.serverPerDay)
                RETURNING id
                """
            ).first()
        }
        if recorded != nil { return nil }

        // Refused: say which limit, and when it lifts (the moment the oldest counted message leaves the window).
        func nth(_ count: Int, window: Int64, _ filter: SQLQueryString) async throws -> UnixTime? {
            try await sql.raw(
                """
                SELECT sent_at FROM sms_sends WHERE \(filter) AND sent_at > \(bind: time - window)
                ORDER BY sent_at DESC LIMIT 1 OFFSET \(bind: max(0, count - 1))
                """
            ).first(decodingColumn: "sent_at", as: Int64.self)
        }
        if let last = try await nth(1, window: limits.cooldown, "user_id = \(bind: userID)") {
            return .cooldown(retryAt: last + limits.cooldown)
        }
        if let oldest = try await nth(limits.perAccountPerHour, window: limits.accountWindow, "user_id = \(bind: userID)") {
            return .accountHourly(retryAt: oldest + limits.accountWindow)
        }
        if let oldest = try await nth(limits.perPhonePerDay, window: limits.phoneWindow, "phone = \(bind: phone)") {
            return .phoneDaily(retryAt: oldest + limits.phoneWindow)
        }
        if let oldest = try await nth(limits.serverPerHour, window: limits.serverHourWindow, "1 = 1") {
            return .serverHourly(retryAt: oldest + limits.serverHourWindow)
        }
        if let oldest = try await nth(limits.serverPerDay, window: limits.serverDayWindow, "1 = 1") {
            return .serverDaily(retryAt: oldest + limits.serverDayWindow)
        }
        // A limit that held a moment ago has lifted since: ask again in a second.
        return .cooldown(retryAt: time + 1)
    }

    public func smsSendCount(phone: String, since time: UnixTime) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM sms_sends WHERE phone = \(bind: phone) AND sent_at >= \(bind: time)")
            .first(decodingColumn: "n", as: Int.self) ?? 0
    }

    public func deleteSMSSends(sentBefore time: UnixTime) async throws {
        try await writer.raw("DELETE FROM sms_sends WHERE sent_at < \(bind: time)").run()
    }

    // MARK: E-mail tokens

    private static let emailTokenColumns = "id, user_id, purpose, token_hash, email, created_at, expires_at, second_factor_at, used_at"

    public func createEmailToken(
        userID: Int64,
        purpose: EmailTokenPurpose,
        tokenHash: String,
        email: String,
        at time: UnixTime,
        expiresAt: UnixTime
    ) async throws -> EmailToken {
        try await writer.raw(
            """
            INSERT INTO email_tokens (user_id, purpose, token_hash, email, created_at, expires_at)
            VALUES (\(bind: userID), \(bind: purpose.rawValue), \(bind: tokenHash), \(bind: email), \(bind: time), \(bind: expiresAt))
            RETURNING \(unsafeRaw: Self.emailTokenColumns)
            """
        ).first(decoding: EmailToken.self)!
    }

    public func usableEmailToken(hash: String, purpose: EmailTokenPurpose, at time: UnixTime) async throws -> EmailToken? {
        try await writer.raw(
            """
            SELECT \(unsafeRaw: Self.emailTokenColumns) FROM email_tokens
            WHERE token_hash = \(bind: hash) AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL AND expires_at > \(bind: time)
            """
        ).first(decoding: EmailToken.self)
    }

    public func markSecondFactor(emailTokenID: Int64, at time: UnixTime) async throws -> Bool {
        try await writer.raw(
            """
            UPDATE email_tokens SET second_factor_at = \(bind: time)
            WHERE id = \(bind: emailTokenID) AND used_at IS NULL AND expires_at > \(bind: time) RETURNING id
            """
        ).first() != nil
    }

    public func consumeEmailToken(hash: String, purpose: EmailTokenPurpose, at time: UnixTime, requireSecondFactor: Bool) async throws -> EmailToken?
    {
        // One conditional UPDATE: two concurrent uses of one link cannot both pass (OWASP Forgot
        // Password cheat sheet: single use), on any number of instances sharing the database.
        try await writer.raw(
            """
            UPDATE email_tokens SET used_at = \(bind: time)
            WHERE token_hash = \(bind: hash) AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL AND expires_at > \(bind: time)
            \(unsafeRaw: requireSecondFactor ? "AND second_factor_at IS NOT NULL" : "")
            RETURNING \(unsafeRaw: Self.emailTokenColumns)
            """
        ).first(decoding: EmailToken.self)
    }

    public func deleteEmailToken(id: Int64) async throws {
        try await writer.raw("DELETE FROM email_tokens WHERE id = \(bind: id)").run()
    }

    public func deleteEmailTokens(userID: Int64, purpose: EmailTokenPurpose, except id: Int64?) async throws {
        try await writer.raw(
            """
            DELETE FROM email_tokens WHERE user_id = \(bind: userID) AND purpose = \(bind: purpose.rawValue) AND id <> \(bind: id ?? -1)
            """
        ).run()
    }

    public func deleteExpiredEmailTokens(before time: UnixTime) async throws {
        try await writer.raw("DELETE FROM email_tokens WHERE expires_at < \(bind: time)").run()
    }

    // MARK: Security events

    /// Every wrong code records one (issue 19): a fixed text (`Database.rows(fixed:)`).
    private static let insertEvent = """
        INSERT INTO security_events
            (user_id, kind, detail, created_at, client_address, actor_kind, actor_name, user_agent, outcome, request_id, alert_state)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """

    public func recordEvent(userID: Int64?, kind: SecurityEventKind, detail: String, outcome: EventOutcome, at time: UnixTime) async throws {
        let actor = RequestOrigin.actor
        let trace = RequestOrigin.trace
        let binds: [SQLiteData] = [
            userID.map { .integer(Int($0)) } ?? .null, .text(kind.rawValue), .text(detail), .integer(Int(time)),
            .text(RequestOrigin.clientAddress), .text(actor.kind.rawValue), .text(actor.name), .text(trace?.userAgent ?? ""),
            .text(outcome.rawValue), .text(trace?.requestID ?? ""), alerting.contains(kind) ? .null : .text("none"),
        ]
        _ = try await database.rows(fixed: Self.insertEvent, binds, writing: true)
    }

    public func auditEvents(userID: Int64?, since: UnixTime?, beforeID: Int64?, limit: Int) async throws -> [AuditEvent] {
        var conditions: [SQLQueryString] = ["1 = 1"]
        if let userID { conditions.append("e.user_id = \(bind: userID)") }
        if let since { conditions.append("e.created_at >= \(bind: since)") }
        if let beforeID { conditions.append("e.id < \(bind: beforeID)") }
        return try await sql.raw(
            """
            SELECT e.id, e.user_id, u.email, e.kind, e.detail, e.created_at, e.client_address, e.user_agent, e.actor_kind,
                e.actor_name, e.outcome, e.request_id
            FROM security_events e LEFT JOIN users u ON u.id = e.user_id
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY e.id DESC LIMIT \(bind: limit)
            """
        ).all(decoding: AuditEvent.self)
    }

    public func deleteEvents(createdBefore time: UnixTime) async throws -> Int {
        try await writer.raw("DELETE FROM security_events WHERE created_at < \(bind: time) RETURNING id").all().count
    }

    public func events(userID: Int64, limit: Int) async throws -> [SecurityEvent] {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.eventColumns) FROM security_events
            WHERE user_id = \(bind: userID) ORDER BY id DESC LIMIT \(bind: limit)
            """
        ).all(decoding: SecurityEvent.self)
    }

    private static let eventColumns = "id, user_id, kind, detail, created_at, client_address, user_agent"

    // MARK: Security alerts

    public func claimEventsForAlerts(limit: Int) async throws -> [SecurityEvent] {
        // `alert_state IS NULL` is checked again on the row itself: on PostgreSQL a second instance
        // that picked the same ids waits for the first one's row lock, then finds the row claimed.
        try await writer.raw(
            """
            UPDATE security_events SET alert_state = 'claimed'
            WHERE alert_state IS NULL AND user_id IS NOT NULL AND id IN (
                SELECT id FROM security_events WHERE alert_state IS NULL AND user_id IS NOT NULL ORDER BY id LIMIT \(bind: limit)
            )
            RETURNING \(unsafeRaw: Self.eventColumns)
            """
        ).all(decoding: SecurityEvent.self).sorted { $0.id < $1.id }
    }

    public func setAlertState(_ state: String, eventID: Int64) async throws {
        try await writer.raw("UPDATE security_events SET alert_state = \(bind: state) WHERE id = \(bind: eventID)").run()
    }

    public func alertSent(userID: Int64, kind: SecurityEventKind, since time: UnixTime) async throws -> Bool {
        try await sql.raw(
            """
            SELECT 1 AS sent FROM security_events WHERE user_id = \(bind: userID) AND kind = \(bind: kind.rawValue)
            AND alert_state = 'sent' AND created_at >= \(bind: time) LIMIT 1
            """
        ).first() != nil
    }

    // MARK: API keys

    private static let apiKeyColumns = "id, name, key_hash, created_at, revoked_at, scopes, reach"

    public func createAPIKey(name: String, keyHash: String, scopes: Set<APIKeyScope>, reach: APIKeyReach, at time: UnixTime) async throws -> APIKey {
        let row = try await writer.raw(
            """
            INSERT INTO api_keys (name, key_hash, created_at, scopes, reach)
            VALUES (\(bind: name), \(bind: keyHash), \(bind: time), \(bind: APIKeyScope.text(scopes)), \(bind: reach.rawValue))
            ON CONFLICT (name) DO NOTHING RETURNING \(unsafeRaw: Self.apiKeyColumns)
            """
        ).first(decoding: APIKey.self)
        guard let row else { throw StoreError.duplicate }
        return row
    }

    public func apiKey(keyHash: String) async throws -> APIKey? {
        try await sql.raw(
            "SELECT \(unsafeRaw: Self.apiKeyColumns) FROM api_keys WHERE key_hash = \(bind: keyHash) AND revoked_at IS NULL"
        ).first(decoding: APIKey.self)
    }

    public func apiKeys() async throws -> [APIKey] {
        try await sql.raw("SELECT \(unsafeRaw: Self.apiKeyColumns) FROM api_keys ORDER BY id").all(decoding: APIKey.self)
    }

    public func revokeAPIKey(name: String, at time: UnixTime) async throws -> Bool {
        try await writer.raw(
            "UPDATE api_keys SET revoked_at = \(bind: time) WHERE name = \(bind: name) AND revoked_at IS NULL RETURNING id"
        ).first() != nil
    }

    public func linkAPIKey(id: Int64, userID: Int64, at time: UnixTime) async throws -> Bool {
        try await writer.raw(
            """
            INSERT INTO api_key_links (api_key_id, user_id, created_at) VALUES (\(bind: id), \(bind: userID), \(bind: time))
            ON CONFLICT DO NOTHING RETURNING user_id
            """
        ).first() != nil
    }

    public func isLinked(apiKeyID: Int64, userID: Int64) async throws -> Bool {
        try await sql.raw("SELECT 1 AS linked FROM api_key_links WHERE api_key_id = \(bind: apiKeyID) AND user_id = \(bind: userID)").first() != nil
    }
}
