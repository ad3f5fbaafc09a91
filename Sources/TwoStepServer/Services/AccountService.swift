public import Foundation
import Synchronization
import TwoStepCore
import TwoStepStore

/// The current time; the server passes `Date.init`, tests a clock they move.
public typealias Now = @Sendable () -> Date

extension Date {
    var unixTime: UnixTime { UnixTime(timeIntervalSince1970.rounded(.down)) }
    init(unixTime: UnixTime) { self.init(timeIntervalSince1970: TimeInterval(unixTime)) }
}

/// Accounts and passwords (SPEC F1).
struct AccountService: Sendable {
    /// Accounts and their events; a password change also forgets trusted devices.
    typealias Storage = UserRepository & TrustedDeviceRepository & SecurityEventRepository & SessionRepository
    let store: any Storage
    let hasher: SecretHasher
    /// Every password check goes through it (throttled, counted, logged).
    let passwords: PasswordCheckService
    let now: Now
    /// Whether people may make their own accounts (`--signup open|off`). Off, accounts come only
    /// from operators and relying services, so nobody can claim an address in advance.
    let signUpOpen: Bool
    let sessions: SessionService

    /// A hash of nothing anyone knows, checked when an e-mail address is unknown, so a wrong
    /// address takes as long as a wrong password and answers do not reveal who has an account.
    private let decoy: Decoy

    init(store: any Storage, hasher: SecretHasher, lockout: LockoutService, metrics: ServerMetrics, now: @escaping Now, signUpOpen: Bool = true) {
        self.store = store
        self.hasher = hasher
        self.passwords = PasswordCheckService(store: store, hasher: hasher, lockout: lockout, metrics: metrics, now: now)
        self.now = now
        self.signUpOpen = signUpOpen
        self.sessions = SessionService(store: store, now: now)
        self.decoy = Decoy(hasher: hasher)
    }

    /// NIST SP 800-63B §5.1.1.2: at least 8 characters, at least 64 allowed, no composition rules;
    /// each Unicode code point counts as one character. Counted in scalars, not in what a person
    /// sees as characters: one "character" can carry thousands of combining marks, and a 48 KB
    /// password of 8 of them is not a password (issue 12).
    static let passwordLengths = 8...256

    /// How the pages and the API state the rule.
    static let passwordRule = "\(passwordLengths.lowerBound) to \(passwordLengths.upperBound) characters"

    static func isAcceptable(password: String) -> Bool {
        passwordLengths.contains(password.unicodeScalars.count)
    }

    enum SignUpError: Error, Equatable {
        case invalidEmail, passwordLength, emailTaken
        /// Self sign-up is off (`--signup off`).
        case closed
    }

    /// A person making their own account, on the pages or the account API.
    func signUp(email: String, password: String) async throws -> Result<User, SignUpError> {
        guard signUpOpen else { return .failure(.closed) }
        return try await create(.email(email), password: password, origin: .signUp)
    }

    /// The stored "hash" of an account made without a password (by a relying service that checks
    /// passwords itself): no PHC string, so no password matches it.
    static let noPassword = "!"

    /// How a new account is named: by address, or by a provisioning key's own id for it.
    enum AccountName {
        case email(String)
        case external(String, apiKeyID: Int64)
    }

    /// Makes an account, with or without a password, recording where it came from.
    /// - Parameter apiKey: The key that provisions it, if a relying service does.
    func create(_ name: AccountName, password: String?, origin: AccountOrigin, apiKey: APIKey? = nil) async throws -> Result<User, SignUpError> {
        var email: String?
        var externalID: String?
        switch name {
        case .email(let raw):
            guard let normalized = Self.normalizedEmail(raw) else { return .failure(.invalidEmail) }
            email = normalized
        case .external(let id, _):
            externalID = id
        }
        if let password, !Self.isAcceptable(password: password) { return .failure(.passwordLength) }
        do {
            let user = try await store.createUser(
                email: email,
                passwordHash: password.map(hasher.hash) ?? Self.noPassword,
                origin: origin,
                apiKeyID: apiKey?.id,
                externalID: externalID,
                at: now().unixTime
            )
            let detail =
                switch origin {
                case .signUp: ""
                case .operator: "added by an operator"
                case .import: "imported by an operator"
                case .apiKey: "provisioned by API key \(apiKey?.name ?? "")"
                }
            try await store.recordEvent(userID: user.id, kind: .signedUp, detail: detail, at: now().unixTime)
            return .success(user)
        } catch let error as StoreError where error == .duplicate {
            return .failure(.emailTaken)
        }
    }

    enum Authentication {
        case authenticated(User)
        /// Wrong address or password: never which (SPEC F1).
        case refused
        /// Not checked (`PasswordCheckService`): the same for every address, known or not.
        case tooManyAttempts(retryAt: Date?)
    }

    /// The account whose password this is — the same answers, after the same work, for an unknown
    /// address and a wrong password, throttled alike.
    func authenticate(email: String, password: String) async throws -> Authentication {
        var user: User?
        if let email = Self.normalizedEmail(email), password.unicodeScalars.count <= Self.passwordLengths.upperBound,
            let found = try await store.user(email: email), found.passwordHash != Self.noPassword
        {
            user = found
        }
        // A password over the length limit is nobody's: only its first part is hashed, against the
        // decoy, so a 48 KB "password" costs what any other costs.
        let checked = user == nil ? String(password.unicodeScalars.prefix(Self.passwordLengths.upperBound)) : password
        switch try await passwords.check(checked, against: user?.passwordHash ?? decoy.hash, email: email, user: user, purpose: .signIn) {
        case .correct:
            guard let user else { return .refused }
            if hasher.needsRehash(user.passwordHash) {
                try await store.setPasswordHash(hasher.hash(password), userID: user.id)
            }
            return .authenticated(user)
        case .wrong: return .refused
        case .tooManyAttempts(let retryAt): return .tooManyAttempts(retryAt: retryAt)
        }
    }

    /// The current password of a signed-in account, for re-authentication, a password change or
    /// turning two-factor authentication off.
    func checkPassword(_ password: String, of user: User, for purpose: PasswordCheckService.Purpose) async throws -> PasswordCheckService.Result {
        try await passwords.check(password, against: user.passwordHash, email: user.email ?? "", user: user, purpose: purpose)
    }

    /// Makes the decoy hash now, so that even the first unknown address takes a password check's time.
    func prepareDecoy() {
        _ = decoy.hash
    }

    /// The account with this address, if the address is well formed and taken.
    func user(email: String) async throws -> User? {
        guard let email = Self.normalizedEmail(email) else { return nil }
        return try await store.user(email: email)
    }

    func user(id: Int64) async throws -> User? {
        try await store.user(id: id)
    }

    /// The account's security activity (SPEC F10), newest first.
    func events(of user: User, limit: Int) async throws -> [SecurityEvent] {
        try await store.events(userID: user.id, limit: limit)
    }

    func recordSignIn(_ user: User, method: String) async throws {
        try await store.recordEvent(userID: user.id, kind: .signedIn, detail: method, at: now().unixTime)
    }

    enum ChangePasswordError: Error, Equatable {
        case wrongPassword, passwordLength
        case tooManyAttempts(retryAt: Date?)
    }

    /// Changes the password after checking the current one; every trusted device is forgotten and
    /// every other session and API token ended, since whoever knew the old password may hold them.
    /// - Returns: The current session's new id.
    func changePassword(session: Session, user: User, current: String, new: String) async throws -> Result<String, ChangePasswordError> {
        switch try await checkPassword(current, of: user, for: .passwordChange) {
        case .correct: break
        case .wrong: return .failure(.wrongPassword)
        case .tooManyAttempts(let retryAt): return .failure(.tooManyAttempts(retryAt: retryAt))
        }
        guard Self.isAcceptable(password: new) else { return .failure(.passwordLength) }
        try await store.setPasswordHash(hasher.hash(new), userID: user.id)
        try await store.deleteTrustedDevices(userID: user.id)
        try await store.recordEvent(
            userID: user.id,
            kind: .passwordChanged,
            detail: "trusted devices revoked, other sessions ended",
            at: now().unixTime
        )
        return .success(try await sessions.endOthers(keeping: session))
    }

    /// "Sign out everywhere" (SPEC F14): ends every session and API token of the account, this one included.
    /// - Parameters:
    ///   - actor: Who did it when not the holder (the help desk, issue 18), as the activity list names them.
    ///   - reason: Why, when they gave one.
    func signOutEverywhere(user: User, by actor: String? = nil, reason: String? = nil) async throws {
        try await sessions.endAll(userID: user.id)
        let detail = "every session and API token ended" + (actor.map { " by \($0)" } ?? "") + TwoFactorService.because(reason)
        try await store.recordEvent(userID: user.id, kind: .signedOutEverywhere, detail: detail, at: now().unixTime)
    }

    /// The one spelling of an address (`EmailAddress`), or `nil` if it is not one.
    static func normalizedEmail(_ input: String) -> String? {
        EmailAddress.normalized(input)
    }
}

/// The decoy hash, made on first use: a command-line tool that never checks a password does not
/// pay for an scrypt hash at start.
private final class Decoy: Sendable {
    private let hasher: SecretHasher
    private let made = Mutex<String?>(nil)

    init(hasher: SecretHasher) { self.hasher = hasher }

    var hash: String {
        made.withLock { made in
            if let made { return made }
            let hash = hasher.hash(RandomToken.generate())
            made = hash
            return hash
        }
    }
}
