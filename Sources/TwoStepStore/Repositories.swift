/// Storage, one protocol per concern. `SQLStore` implements them all on SQLite and PostgreSQL;
/// the service layer sees only these.
public protocol UserRepository: Sendable {
    /// Makes an account named by an e-mail address, or by a provisioning key's own id for it
    /// (`apiKeyID` and `externalID`, with no address).
    /// - Throws: ``StoreError/duplicate`` when the address, or the key's id, is taken.
    func createUser(
        email: String?,
        passwordHash: String,
        origin: AccountOrigin,
        apiKeyID: Int64?,
        externalID: String?,
        at time: UnixTime
    ) async throws -> User
    func user(id: Int64) async throws -> User?
    func user(email: String) async throws -> User?
    /// The account a key named by its own id.
    func user(apiKeyID: Int64, externalID: String) async throws -> User?
    /// The accounts a relying service's name may mean, each with its confirmed factors, read
    /// together: by the key's own id for it, and by address (validate asks both; issue 19: one
    /// read, not two).
    func usersWithConfirmedFactors(
        apiKeyID: Int64,
        externalID: String?,
        email: String?
    ) async throws -> (byID: (User, [Factor])?, byEmail: (User, [Factor])?)
    func allUsers() async throws -> [User]
    func setPasswordHash(_ hash: String, userID: Int64) async throws
    /// Marks the account as one whose next sign-in must enrol a second factor first (after an operator reset).
    func setEnrolmentRequired(_ required: Bool, userID: Int64) async throws
    /// Starts the account's 2FA-policy grace period at `time` unless it has started already.
    /// - Returns: When it started.
    func startTwoFactorGrace(userID: Int64, at time: UnixTime) async throws -> UnixTime
    /// Marks the address verified if it is still `email` (a link to an address the account no longer has does nothing).
    /// - Returns: Whether it was.
    func setEmailVerified(userID: Int64, email: String, at time: UnixTime) async throws -> Bool
    /// Gives the account a new, verified address.
    /// - Throws: ``StoreError/duplicate`` when another account has it.
    func changeEmail(userID: Int64, to email: String, at time: UnixTime) async throws
    /// Adds users, each with a confirmed authenticator-app factor, in one transaction; addresses
    /// already taken are skipped. `seal` seals a user's secret once the user has an id.
    /// - Returns: How many users were added.
    func importUsers(_ users: [UserImport], seal: @Sendable (Int64, [UInt8]) -> String, eventDetail: String, at time: UnixTime) async throws -> Int
}

extension UserRepository {
    /// A self-signed-up account.
    public func createUser(email: String, passwordHash: String, at time: UnixTime) async throws -> User {
        try await createUser(email: email, passwordHash: passwordHash, origin: .signUp, apiKeyID: nil, externalID: nil, at: time)
    }
}

/// One user for ``UserRepository/importUsers(_:seal:eventDetail:at:)``.
public struct UserImport: Sendable {
    public var email: String
    public var passwordHash: String
    public var secret: [UInt8]
    public var algorithm: String
    public var digits: Int
    public var period: Int

    public init(email: String, passwordHash: String, secret: [UInt8], algorithm: String, digits: Int, period: Int) {
        self.email = email
        self.passwordHash = passwordHash
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }
}

public protocol FactorRepository: Sendable {
    func createFactor(
        userID: Int64,
        kind: FactorKind,
        sealedSecret: String?,
        phone: String?,
        algorithm: String,
        digits: Int,
        period: Int,
        at time: UnixTime
    ) async throws -> Factor
    func factors(userID: Int64) async throws -> [Factor]
    /// Marks a pending factor confirmed, recording the step of the code that confirmed it.
    func confirmFactor(id: Int64, lastUsedStep: Int64?, at time: UnixTime) async throws
    /// Records `step` as the factor's last used step only if it is later than the current one, in
    /// one statement, so two requests (on any number of server instances) cannot both use one code.
    /// - Returns: Whether this call claimed the step.
    func claimStep(_ step: Int64, factorID: Int64) async throws -> Bool
    /// The same, and only while the attempt budget `budgetKey` has no row: no failure and no
    /// attempt in flight, when the budget allows the attempt whatever it is (issue 19: a right code
    /// on an account without failures needs no reservation). One statement, so a reservation that
    /// lands first turns it down and the caller takes the reserving path.
    func claimStep(_ step: Int64, factorID: Int64, unlessBudgetHasRow budgetKey: String) async throws -> Bool
    func deleteFactor(id: Int64) async throws
    /// Replaces a factor's sealed secret (after a key rotation).
    func setFactorSecret(_ sealed: String, factorID: Int64) async throws
    func deleteFactors(userID: Int64) async throws
}

public protocol SessionRepository: Sendable {
    func createSession(_ session: Session) async throws
    func session(idHash: String) async throws -> Session?
    func touchSession(idHash: String, at time: UnixTime) async throws
    func setReauthenticated(idHash: String, until time: UnixTime) async throws
    /// Gives a session a new id in one statement, keeping its account, stage and age (a stolen
    /// old id stops working the moment the session gains privilege; OWASP Session Management).
    /// - Parameter reauthenticatedUntil: A new end of "sudo mode", or `nil` to keep the current one.
    /// - Returns: Whether the session still existed.
    func rotateSession(idHash: String, to newIDHash: String, reauthenticatedUntil: UnixTime?, at time: UnixTime) async throws -> Bool
    func deleteSession(idHash: String) async throws
    func deleteSessions(userID: Int64) async throws
    /// Ends every session and API token of the account but one.
    func deleteSessions(userID: Int64, except idHash: String) async throws
    /// Removes sessions idle since before `idleBefore` or created before `createdBefore`.
    func deleteExpiredSessions(idleBefore: UnixTime, createdBefore: UnixTime) async throws
}

public protocol TrustedDeviceRepository: Sendable {
    func createTrustedDevice(
        userID: Int64,
        tokenHash: String,
        userAgent: String,
        at time: UnixTime,
        expiresAt: UnixTime
    )
        async throws -> TrustedDevice
    func trustedDevice(tokenHash: String) async throws -> TrustedDevice?
    func touchTrustedDevice(id: Int64, at time: UnixTime) async throws
    func trustedDevices(userID: Int64) async throws -> [TrustedDevice]
    /// - Returns: Whether a device of that user was removed.
    func deleteTrustedDevice(id: Int64, userID: Int64) async throws -> Bool
    func deleteTrustedDevices(userID: Int64) async throws
    func deleteExpiredTrustedDevices(before time: UnixTime) async throws
}

public protocol RecoveryCodeRepository: Sendable {
    /// Replaces the user's set with new codes, each a (hash, sealed) pair, in one transaction-free
    /// order that never leaves two sets: old codes are deleted first.
    func replaceRecoveryCodes(userID: Int64, codes: [(hash: String, sealed: String)], at time: UnixTime) async throws
    /// The current set, used and unused, in the order it was made.
    func recoveryCodes(userID: Int64) async throws -> [StoredRecoveryCode]
    /// Marks an unused code used, in one conditional statement: of concurrent uses, exactly one succeeds.
    /// - Returns: Whether this call used it.
    func consumeRecoveryCode(id: Int64, at time: UnixTime) async throws -> Bool
    func deleteRecoveryCodes(userID: Int64) async throws
    /// Replaces a code's sealed copy (after a key rotation).
    func setSealedRecoveryCode(_ sealed: String, id: Int64) async throws
}

/// How many text messages may go out (SPEC §2, against SMS pumping), with the window each count
/// is taken over. Every limit is counted over the append-only send log (``SMSSendLogRepository``),
/// which no enrolment, factor or account change shortens.
public struct SMSLimits: Sendable, Equatable {
    public static let hour: Int64 = 3_600
    public static let day: Int64 = 86_400

    public var perAccountPerHour = 5
    public var accountWindow = hour
    public var perPhonePerDay = 10
    public var phoneWindow = day
    /// Seconds between two messages to one account.
    public var cooldown: Int64 = 60
    /// The whole server's budget: what an attacker with many accounts and many numbers can cost at most.
    public var serverPerHour = 200
    public var serverHourWindow = hour
    public var serverPerDay = 1_000
    public var serverDayWindow = day

    /// How long the send log must keep a message: it counts toward no limit after this.
    public var retention: Int64 { max(accountWindow, phoneWindow, serverHourWindow, serverDayWindow, cooldown) }

    public init() {}
}

/// Which SMS limit stopped a message.
public enum SMSLimit: Error, Sendable, Equatable {
    case cooldown(retryAt: UnixTime)
    case accountHourly(retryAt: UnixTime)
    case phoneDaily(retryAt: UnixTime)
    /// The server's hourly budget is spent.
    case serverHourly(retryAt: UnixTime)
    /// The server's daily budget is spent.
    case serverDaily(retryAt: UnixTime)
}

/// Every text message handed to the gateway, kept for the longest limit window whatever happens to
/// the account, its factors or its challenges: deleting a pending phone must not give an attacker
/// a fresh allowance (issue 12: 25 texts in 2 s by restarting enrolment).
public protocol SMSSendLogRepository: Sendable {
    /// Records a message only if every limit allows another, in one conditional statement, so
    /// concurrent requests (on any number of server instances) cannot slip past a limit together.
    /// - Returns: `nil` when the message was recorded and may go out, else the limit that refused it.
    func recordSMSSend(userID: Int64, phone: String, purpose: String, at time: UnixTime, limits: SMSLimits) async throws -> SMSLimit?
    /// How many messages the log holds for a number since `time` (for operators and tests).
    func smsSendCount(phone: String, since time: UnixTime) async throws -> Int
    /// Forgets messages older than `time`: only age ever shortens the log.
    func deleteSMSSends(sentBefore time: UnixTime) async throws
}

public protocol SMSChallengeRepository: Sendable {
    /// Records a code sent to a factor's phone (the limits were taken in the send log first).
    func createSMSChallenge(
        userID: Int64,
        factorID: Int64,
        phone: String,
        sealedCode: String,
        at time: UnixTime,
        expiresAt: UnixTime
    ) async throws -> SMSChallenge
    /// The newest challenge for a factor.
    func latestSMSChallenge(factorID: Int64) async throws -> SMSChallenge?
    /// Counts a guess if fewer than `maximum` were made. - Returns: whether the guess may be checked.
    func recordSMSGuess(challengeID: Int64, maximum: Int) async throws -> Bool
    /// Marks the challenge used, once. - Returns: whether this call used it.
    func consumeSMSChallenge(id: Int64, at time: UnixTime) async throws -> Bool
    /// Forgets a challenge whose message could not be sent, so it cannot be guessed.
    func deleteSMSChallenge(id: Int64) async throws
    /// Removes challenges older than `time`.
    func deleteSMSChallenges(createdBefore time: UnixTime) async throws
}

/// Links sent by e-mail (issue 15): single use, with an end, stored hashed.
public protocol EmailTokenRepository: Sendable {
    func createEmailToken(
        userID: Int64,
        purpose: EmailTokenPurpose,
        tokenHash: String,
        email: String,
        at time: UnixTime,
        expiresAt: UnixTime
    ) async throws -> EmailToken
    /// The unused, unexpired token with this hash and purpose.
    func usableEmailToken(hash: String, purpose: EmailTokenPurpose, at time: UnixTime) async throws -> EmailToken?
    /// Records that a reset link's second factor was given, if the link is still usable.
    /// - Returns: Whether it was.
    func markSecondFactor(emailTokenID: Int64, at time: UnixTime) async throws -> Bool
    /// Uses a token in one conditional statement: of concurrent uses exactly one gets it, and only
    /// while it is unused, unexpired and (when `requireSecondFactor`) past its second factor.
    /// - Returns: The token as it was, or `nil`.
    func consumeEmailToken(hash: String, purpose: EmailTokenPurpose, at time: UnixTime, requireSecondFactor: Bool) async throws -> EmailToken?
    func deleteEmailToken(id: Int64) async throws
    /// Forgets the account's tokens of a purpose but one (a newer link replaces the older ones).
    func deleteEmailTokens(userID: Int64, purpose: EmailTokenPurpose, except id: Int64?) async throws
    /// Removes tokens that ended before `time`.
    func deleteExpiredEmailTokens(before time: UnixTime) async throws
}

/// The security events: each account's activity list (SPEC F10) and, with who acted and how it
/// ended, the operator audit trail (issue 16). One table, one recording path: every event is both.
public protocol SecurityEventRepository: Sendable {
    /// Records an event. Who acted, from where and in which request come from `RequestOrigin`.
    /// - Parameter userID: The account, or `nil` for an operator action on none.
    func recordEvent(userID: Int64?, kind: SecurityEventKind, detail: String, outcome: EventOutcome, at time: UnixTime) async throws
    /// The newest events first.
    func events(userID: Int64, limit: Int) async throws -> [SecurityEvent]
    /// The audit trail, newest first, one page.
    /// - Parameters:
    ///   - userID: Only this account's events.
    ///   - since: Only events at or after this time.
    ///   - beforeID: The page after the one that ended with this id.
    func auditEvents(userID: Int64?, since: UnixTime?, beforeID: Int64?, limit: Int) async throws -> [AuditEvent]
    /// Deletes events older than `time`. - Returns: how many.
    func deleteEvents(createdBefore time: UnixTime) async throws -> Int
}

extension SecurityEventRepository {
    /// Records an event of an account with its kind's usual outcome.
    public func recordEvent(userID: Int64, kind: SecurityEventKind, detail: String, at time: UnixTime) async throws {
        try await recordEvent(userID: userID, kind: kind, detail: detail, outcome: kind.defaultOutcome, at: time)
    }
}

/// Security alerts by e-mail (issue 15), taken from the events as they are recorded.
public protocol SecurityAlertRepository: Sendable {
    /// Claims up to `limit` events no instance has looked at yet, oldest first, in one conditional
    /// statement: of any number of instances, exactly one gets each event, so each alert goes once.
    func claimEventsForAlerts(limit: Int) async throws -> [SecurityEvent]
    /// What became of a claimed event's alert (`sent`, `none`, `failed`, `repeat`).
    func setAlertState(_ state: String, eventID: Int64) async throws
    /// Whether an alert for this kind of event went to the account since `time`.
    func alertSent(userID: Int64, kind: SecurityEventKind, since time: UnixTime) async throws -> Bool
}

public protocol APIKeyRepository: Sendable {
    /// - Throws: ``StoreError/duplicate`` when the name is taken (revoked keys keep their names).
    func createAPIKey(name: String, keyHash: String, scopes: Set<APIKeyScope>, reach: APIKeyReach, at time: UnixTime) async throws -> APIKey
    /// The unrevoked key with this hash.
    func apiKey(keyHash: String) async throws -> APIKey?
    func apiKeys() async throws -> [APIKey]
    /// - Returns: Whether an unrevoked key of that name was revoked.
    func revokeAPIKey(name: String, at time: UnixTime) async throws -> Bool
    /// Puts an account within a key's reach. - Returns: whether it was not linked already.
    func linkAPIKey(id: Int64, userID: Int64, at time: UnixTime) async throws -> Bool
    /// Whether an operator linked the account to the key.
    func isLinked(apiKeyID: Int64, userID: Int64) async throws -> Bool
}

/// Everything the server stores.
public typealias Store = UserRepository & FactorRepository & SessionRepository & TrustedDeviceRepository
    & RecoveryCodeRepository & SMSChallengeRepository & SMSSendLogRepository & SecurityEventRepository & APIKeyRepository
    & ThrottleRepository & EmailTokenRepository & SecurityAlertRepository & WebAuthnRepository & StaffRepository

/// Why a storage call failed in a way callers handle.
public struct StoreError: Error, Equatable, CustomStringConvertible {
    private enum Kind { case duplicate, unsupportedDatabase }
    private let kind: Kind
    private let detail: String

    /// A unique value (such as an e-mail address) is already taken.
    public static let duplicate = StoreError(kind: .duplicate, detail: "")
    static func unsupportedDatabase(_ url: String) -> StoreError { StoreError(kind: .unsupportedDatabase, detail: url) }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.kind == rhs.kind }

    public var description: String {
        switch kind {
        case .duplicate: "the value is already taken"
        case .unsupportedDatabase: "unsupported database URL \(detail): use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        }
    }
}
