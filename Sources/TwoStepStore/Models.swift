import Foundation
import SQLKit

/// Seconds since the Unix epoch: how every moment is stored, identically in SQLite and PostgreSQL.
public typealias UnixTime = Int64

/// An account holder.
public struct User: Sendable, Equatable {
    public var id: Int64
    /// `nil` for an account a relying service named by its own id (``externalID``) only.
    public var email: String?
    /// A PHC string from `SecretHasher.passwords`.
    public var passwordHash: String
    public var createdAt: UnixTime
    /// Where the account came from; `nil` for accounts made before this was recorded.
    public var origin: AccountOrigin?
    /// The API key that provisioned the account, if one did.
    public var apiKeyID: Int64?
    /// The provisioning service's own name for the account (`jdoe`), unique per key: a separate
    /// namespace from e-mail addresses, so neither a sign-up nor another service can take it.
    public var externalID: String?

    /// How the account is named to people: its address, or the service's id for it.
    public var name: String { email ?? externalID ?? "#\(id)" }

    /// Set by an operator reset: the next sign-in must enrol a method before anything else.
    public var enrolmentRequired: Bool

    /// When the holder proved the address is theirs by following the link sent to it; `nil` until then.
    public var emailVerifiedAt: UnixTime?

    /// What the account may do at the help-desk console (issue 18).
    public var role: AccountRole = .none
    /// When the operator's 2FA policy first applied to the account at a sign-in (issue 18): its grace
    /// period counts from here. `nil` until then.
    public var twoFactorGraceFrom: UnixTime?
}

extension User {
    /// A row of `SQLStore.userColumns`, read column by column: SQLKit's `Codable` row decoder is
    /// about 5 % of a validate's CPU (issue 19). Flags are stored as INTEGER 0/1, the one boolean spelling
    /// SQLite and PostgreSQL share (a PostgreSQL INTEGER does not decode as `Bool`).
    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: Int64.self)
        email = try row.decodeIfPresent(column: "email")
        passwordHash = try row.decode(column: "password_hash", as: String.self)
        createdAt = try row.decode(column: "created_at", as: UnixTime.self)
        origin = try row.decodeIfPresent(column: "origin").map { try AccountOrigin.named($0) }
        apiKeyID = try row.decodeIfPresent(column: "api_key_id")
        externalID = try row.decodeIfPresent(column: "external_id")
        enrolmentRequired = try row.decode(column: "enrolment_required", as: Int.self) != 0
        emailVerifiedAt = try row.decodeIfPresent(column: "email_verified_at")
        // A role this version does not know grants nothing (fail closed).
        role = try row.decodeIfPresent(column: "role").flatMap(AccountRole.init(rawValue:)) ?? .none
        twoFactorGraceFrom = try row.decodeIfPresent(column: "two_factor_grace_from")
    }
}

/// Help-desk roles (issue 18): who may use the console at `/admin`, and for what.
public enum AccountRole: String, Sendable, Codable, CaseIterable {
    /// An account holder only: the console does not exist for them.
    case none
    /// The help desk: looks accounts up and unlocks, signs out, revokes devices, resets 2FA.
    case support
    /// The help desk, and also changes roles and reads the audit trail.
    case admin

    /// Whether the role opens the console at all.
    public var isStaff: Bool { self != .none }
}

/// Why a link was sent by e-mail.
public enum EmailTokenPurpose: String, Sendable, Codable {
    /// Proves an address (at sign-up, "Send again", or a new address before it takes effect).
    case verify
    /// "Forgot your password?".
    case reset
}

/// A link sent by e-mail, single use, stored as the SHA-256 of its token.
public struct EmailToken: Sendable, Equatable, Decodable {
    public var id: Int64
    public var userID: Int64
    public var purpose: EmailTokenPurpose
    public var tokenHash: String
    /// The address the link went to.
    public var email: String
    public var createdAt: UnixTime
    public var expiresAt: UnixTime
    /// A reset link of an account with 2FA: when its second factor was given.
    public var secondFactorAt: UnixTime?
    public var usedAt: UnixTime?

    enum CodingKeys: String, CodingKey {
        case id, purpose, email
        case userID = "user_id"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case secondFactorAt = "second_factor_at"
        case usedAt = "used_at"
    }
}

/// How an account came to exist (issue 12: relying services must not trust an address anyone could sign up with).
public enum AccountOrigin: String, Sendable, Codable {
    /// The person signed up on the pages or the account API.
    case signUp = "signup"
    /// `twostep user add`.
    case `operator`
    /// `twostep user import`.
    case `import`
    /// A relying service's `POST /api/v1/users`, with ``User/apiKeyID``.
    case apiKey = "api_key"
}

/// What kind of second factor a `Factor` is. New methods (SMS) are new cases, not special cases.
public enum FactorKind: String, Sendable, Codable, CaseIterable {
    /// An authenticator app (TOTP).
    case totp
    /// Codes sent by SMS to `phone`.
    case sms
    /// A fallback number that receives a code only when asked for at sign-in.
    case recoveryPhone = "recovery_phone"
}

/// A second factor of a user. It is pending (being enrolled) until `confirmedAt` is set.
public struct Factor: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var kind: FactorKind
    /// The secret, sealed by the server's `KeyRing` with the context `totp:user:<id>`.
    public var sealedSecret: String?
    /// The E.164 number of an SMS factor or recovery phone.
    public var phone: String?
    public var algorithm: String
    public var digits: Int
    public var period: Int
    /// The last TOTP step accepted: that step and earlier ones are replays (RFC 6238 §5.2).
    public var lastUsedStep: Int64?
    public var createdAt: UnixTime
    public var confirmedAt: UnixTime?

    public var isConfirmed: Bool { confirmedAt != nil }

    /// A row of `SQLStore.factorColumns`, each name after `prefix` (`f_` where a join renames
    /// them), read column by column as ``User/init(row:)`` is.
    init(row: any SQLRow, prefix: String = "") throws {
        func name(_ column: String) -> String { prefix.isEmpty ? column : prefix + column }
        id = try row.decode(column: name("id"), as: Int64.self)
        userID = try row.decode(column: name("user_id"), as: Int64.self)
        kind = try FactorKind.named(row.decode(column: name("kind"), as: String.self))
        sealedSecret = try row.decodeIfPresent(column: name("sealed_secret"))
        phone = try row.decodeIfPresent(column: name("phone"))
        algorithm = try row.decode(column: name("algorithm"), as: String.self)
        digits = try row.decode(column: name("digits"), as: Int.self)
        period = try row.decode(column: name("period"), as: Int.self)
        lastUsedStep = try row.decodeIfPresent(column: name("last_used_step"))
        createdAt = try row.decode(column: name("created_at"), as: UnixTime.self)
        confirmedAt = try row.decodeIfPresent(column: name("confirmed_at"))
    }
}

extension SQLRow {
    /// A column that may be NULL.
    func decodeIfPresent<T: Decodable>(column: String) throws -> T? {
        try decodeNil(column: column) ? nil : decode(column: column, as: T.self)
    }
}

extension RawRepresentable where RawValue == String {
    /// A stored name matched to its case: an unknown one is an error, never a default.
    static func named(_ raw: String) throws -> Self {
        guard let value = Self(rawValue: raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown \(Self.self) \(raw)"))
        }
        return value
    }
}

/// How far a browser session has got.
public enum SessionStage: String, Sendable, Codable {
    /// The password was right; a second factor is still owed.
    case awaitingSecondFactor = "awaiting_second_factor"
    /// Fully signed in.
    case signedIn = "signed_in"
}

/// A browser session. Only the SHA-256 of its id is stored, so a database dump yields no usable cookie.
public struct Session: Sendable, Equatable, Decodable {
    public var idHash: String
    public var userID: Int64
    public var stage: SessionStage
    public var createdAt: UnixTime
    public var lastSeenAt: UnixTime
    public var userAgent: String
    /// Until when sensitive changes are allowed without asking for the password again ("sudo mode").
    public var reauthenticatedUntil: UnixTime?
    /// How the sign-in that made the session was proven, as RFC 8176 method references separated
    /// by spaces (`pwd otp mfa`); empty for sessions made before this was recorded. ID tokens
    /// (`amr`) and forward-auth (`Remote-Methods`) report it, and both refuse a session without a
    /// second factor where two are demanded.
    public var amr: String

    /// The method references as a list.
    public var methods: [String] { amr.split(separator: " ").map(String.init) }

    public init(
        idHash: String,
        userID: Int64,
        stage: SessionStage,
        createdAt: UnixTime,
        lastSeenAt: UnixTime,
        userAgent: String,
        reauthenticatedUntil: UnixTime? = nil,
        methods: [String] = []
    ) {
        self.idHash = idHash
        self.userID = userID
        self.stage = stage
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.userAgent = userAgent
        self.reauthenticatedUntil = reauthenticatedUntil
        self.amr = methods.joined(separator: " ")
    }

    enum CodingKeys: String, CodingKey {
        case stage
        case idHash = "id_hash"
        case userID = "user_id"
        case createdAt = "created_at"
        case lastSeenAt = "last_seen_at"
        case userAgent = "user_agent"
        case reauthenticatedUntil = "reauthenticated_until"
        case amr
    }
}

/// A code sent by SMS, waiting to be typed back (SPEC §2: 6 digits, 5 minutes, single use, 5 guesses).
public struct SMSChallenge: Sendable, Equatable, Decodable {
    public var id: Int64
    public var userID: Int64
    public var factorID: Int64
    public var phone: String
    /// The code, sealed: a database dump taken within the five minutes does not reveal it.
    public var sealedCode: String
    public var createdAt: UnixTime
    public var expiresAt: UnixTime
    public var attempts: Int
    public var usedAt: UnixTime?

    enum CodingKeys: String, CodingKey {
        case id, phone, attempts
        case userID = "user_id"
        case factorID = "factor_id"
        case sealedCode = "sealed_code"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case usedAt = "used_at"
    }
}

/// One single-use recovery code of a user's current set.
public struct StoredRecoveryCode: Sendable, Equatable, Decodable {
    public var id: Int64
    public var userID: Int64
    /// Salted scrypt hash (a PHC string) for checking a typed code.
    public var codeHash: String
    /// The code sealed by the server's `KeyRing`, only so that **Show** can reveal it again.
    public var sealedCode: String
    public var createdAt: UnixTime
    public var usedAt: UnixTime?

    enum CodingKeys: String, CodingKey {
        case id
        case userID = "user_id"
        case codeHash = "code_hash"
        case sealedCode = "sealed_code"
        case createdAt = "created_at"
        case usedAt = "used_at"
    }
}

/// A browser that may skip the second factor until `expiresAt` ("Trust this device").
public struct TrustedDevice: Sendable, Equatable, Decodable {
    public var id: Int64
    public var userID: Int64
    /// SHA-256 of the device cookie's token.
    public var tokenHash: String
    public var userAgent: String
    public var createdAt: UnixTime
    public var lastUsedAt: UnixTime
    public var expiresAt: UnixTime

    enum CodingKeys: String, CodingKey {
        case id
        case userID = "user_id"
        case tokenHash = "token_hash"
        case userAgent = "user_agent"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case expiresAt = "expires_at"
    }
}

/// Something that changed an account's security, shown to its holder (SPEC F10).
public struct SecurityEvent: Sendable, Equatable, Decodable {
    public var id: Int64
    public var userID: Int64
    public var kind: SecurityEventKind
    public var detail: String
    public var createdAt: UnixTime
    /// Where the request came from (`RequestOrigin`); empty for an operator's command.
    public var clientAddress: String
    /// The browser's `User-Agent` (`RequestOrigin`); empty for an operator's command.
    public var userAgent: String

    enum CodingKeys: String, CodingKey {
        case id, kind, detail
        case userID = "user_id"
        case createdAt = "created_at"
        case clientAddress = "client_address"
        case userAgent = "user_agent"
    }
}

public enum SecurityEventKind: String, Sendable, Codable, CaseIterable {
    case signedUp = "signed_up"
    case signedIn = "signed_in"
    case signInFailed = "sign_in_failed"
    /// A wrong password at re-authentication, password change or disabling (sign-in has its own kind).
    case passwordFailed = "password_failed"
    case twoFactorEnabled = "two_factor_enabled"
    case twoFactorDisabled = "two_factor_disabled"
    case secondFactorFailed = "second_factor_failed"
    case secondFactorReplayed = "second_factor_replayed"
    case lockedOut = "locked_out"
    case deviceTrusted = "device_trusted"
    case deviceRevoked = "device_revoked"
    case passwordChanged = "password_changed"
    case operatorReset = "operator_reset"
    case recoveryCodesGenerated = "recovery_codes_generated"
    case recoveryCodeUsed = "recovery_code_used"
    case recoveryCodesShown = "recovery_codes_shown"
    case recoveryPhoneAdded = "recovery_phone_added"
    case recoveryPhoneChanged = "recovery_phone_changed"
    case recoveryPhoneRemoved = "recovery_phone_removed"
    /// An operator let a relying service's key act on the account.
    case apiKeyLinked = "api_key_linked"
    case signedOutEverywhere = "signed_out_everywhere"
    case operatorUnlock = "operator_unlock"
    /// The holder followed the link sent to the address.
    case emailVerified = "email_verified"
    /// A verified new address replaced the old one.
    case emailChanged = "email_changed"
    /// "Forgot your password?" set a new password.
    case passwordReset = "password_reset"
    /// Operator actions on no account (issue 16: the audit trail).
    case apiKeyCreated = "api_key_created"
    case apiKeyRevoked = "api_key_revoked"
    case masterKeyRotated = "master_key_rotated"
    case usersImported = "users_imported"
    case databaseBackedUp = "database_backed_up"
    case databaseRestored = "database_restored"
    /// A security key or passkey was registered (issue 17).
    case securityKeyAdded = "security_key_added"
    case securityKeyRenamed = "security_key_renamed"
    case securityKeyRemoved = "security_key_removed"
    /// A key's signature counter did not increase (W3C WebAuthn §7.2 step 21): two copies of its
    /// private key may exist. The sign-in was refused.
    case securityKeyCloneSuspected = "security_key_clone_suspected"
    /// An operator or admin gave the account a help-desk role or took it away (issue 18).
    case roleChanged = "role_changed"

    /// How an event of this kind ended unless the recorder says otherwise: refusals and failures
    /// are what an auditor filters for.
    public var defaultOutcome: EventOutcome {
        switch self {
        case .signInFailed, .passwordFailed, .secondFactorFailed, .secondFactorReplayed, .securityKeyCloneSuspected: .failure
        case .lockedOut: .refused
        default: .success
        }
    }
}

/// How a recorded action ended.
public enum EventOutcome: String, Sendable, Codable, CaseIterable {
    case success
    /// A wrong password or code.
    case failure
    /// Not attempted: a wait or a lock.
    case refused
}

/// Who acted, for the audit trail.
public enum ActorKind: String, Sendable, Codable, CaseIterable {
    /// Someone at the pages or the account API, as the account holder (signed in or signing in).
    case accountHolder = "account_holder"
    /// A relying service, by its key's name.
    case apiKey = "api_key"
    /// `twostep …` on the server, by the operator's login or `--operator` name.
    case `operator`
    /// A support or admin account at the help-desk console (issue 18), by its address.
    case staff
    /// The server itself (no request, no operator).
    case system
}

/// A row of the audit trail: a security event with everything recorded about it.
public struct AuditEvent: Sendable, Equatable, Decodable {
    public var id: Int64
    /// `nil` for operator actions on no account.
    public var userID: Int64?
    /// The account's address at the time of reading, if it has one.
    public var email: String?
    public var kind: String
    public var detail: String
    public var createdAt: UnixTime
    public var clientAddress: String
    public var userAgent: String
    public var actorKind: String
    public var actorName: String
    public var outcome: String
    public var requestID: String

    enum CodingKeys: String, CodingKey {
        case id, email, kind, detail, outcome
        case userID = "user_id"
        case createdAt = "created_at"
        case clientAddress = "client_address"
        case userAgent = "user_agent"
        case actorKind = "actor_kind"
        case actorName = "actor_name"
        case requestID = "request_id"
    }
}

/// What an API key may do: each service route belongs to one scope.
public enum APIKeyScope: String, Sendable, CaseIterable, Comparable {
    /// `POST /validate` and texting a sign-in code (`POST /users/{user}/sms`).
    case validate
    /// `POST /users` and `GET /users/{user}`.
    case users
    /// `POST /users/{user}/totp` and its confirmation.
    case enrol
    /// `POST /users/{user}/recovery-codes`.
    case recoveryCodes = "recovery-codes"
    /// `GET /users/{user}/events`: the account's security activity.
    case audit

    /// What a new key gets unless told otherwise: everything a relying service needs for its own
    /// accounts; reading security activity is opt-in.
    public static let defaults: Set<APIKeyScope> = [.validate, .users, .enrol, .recoveryCodes]

    /// `validate,users` (in a fixed order) as stored.
    public static func text(_ scopes: Set<APIKeyScope>) -> String {
        scopes.sorted().map(\.rawValue).joined(separator: ",")
    }

    /// Reads `validate,users`; `nil` when a name is unknown.
    public static func parse(_ text: String) -> Set<APIKeyScope>? {
        var scopes: Set<APIKeyScope> = []
        for name in text.split(separator: ",") {
            guard let scope = APIKeyScope(rawValue: name.trimmingCharacters(in: .whitespaces)) else { return nil }
            scopes.insert(scope)
        }
        return scopes
    }

    public static func < (lhs: APIKeyScope, rhs: APIKeyScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Which accounts an API key may act on.
public enum APIKeyReach: String, Sendable, Codable, CaseIterable {
    /// Every account (what keys made before scopes had).
    case all
    /// Only accounts the key provisioned, or that an operator linked to it.
    case own
}

/// A relying service's key for the service API. Only the key's SHA-256 is stored: the key is 256
/// random bits, so a fast one-way hash is enough (NIST SP 800-63B §5.1.2.2: ≥ 112 bits needs no
/// salt or slow KDF).
public struct APIKey: Sendable, Equatable, Decodable {
    public var id: Int64
    public var name: String
    public var keyHash: String
    public var createdAt: UnixTime
    public var revokedAt: UnixTime?
    public var scopes: Set<APIKeyScope>
    public var reach: APIKeyReach

    enum CodingKeys: String, CodingKey {
        case id, name, scopes, reach
        case keyHash = "key_hash"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        keyHash = try container.decode(String.self, forKey: .keyHash)
        createdAt = try container.decode(UnixTime.self, forKey: .createdAt)
        revokedAt = try container.decodeIfPresent(UnixTime.self, forKey: .revokedAt)
        // An unknown scope name (from a newer version) grants nothing rather than failing the key.
        scopes = Set(try container.decode(String.self, forKey: .scopes).split(separator: ",").compactMap { APIKeyScope(rawValue: String($0)) })
        reach = APIKeyReach(rawValue: try container.decode(String.self, forKey: .reach)) ?? .own
    }
}

/// A security key or passkey registered to an account (W3C WebAuthn §7.1 step 22). Nothing here is
/// secret: the public key verifies, it cannot sign, so a database dump yields nothing usable.
public struct WebAuthnCredential: Sendable, Equatable, Decodable {
    public var id: Int64
    public var userID: Int64
    /// The credential id as base64url (RFC 4648 §5, no padding), as browsers report it.
    public var credentialID: String
    /// The COSE_Key encoding of the public key, base64url.
    public var publicKey: String
    /// The COSE algorithm identifier (-7 ES256, -8 EdDSA, -257 RS256).
    public var algorithm: Int64
    /// The signature counter after the last accepted use (§6.1.1); 0 for authenticators without one.
    public var signCount: Int64
    /// What the holder called it ("YubiKey 5").
    public var name: String
    /// A discoverable credential with user verification: signs in without password or code.
    public var isPasskey: Bool
    /// `response.getTransports()` at registration, comma-separated (`usb,nfc`): hints for the browser.
    public var transports: String
    /// The authenticator model's AAGUID as hex (all zeros for "none" attestation).
    public var aaguid: String
    public var createdAt: UnixTime
    public var lastUsedAt: UnixTime?

    enum CodingKeys: String, CodingKey {
        case id, algorithm, name, transports, aaguid
        case userID = "user_id"
        case credentialID = "credential_id"
        case publicKey = "public_key"
        case signCount = "sign_count"
        case isPasskey = "is_passkey"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        id = try values.decode(Int64.self, forKey: .id)
        userID = try values.decode(Int64.self, forKey: .userID)
        credentialID = try values.decode(String.self, forKey: .credentialID)
        publicKey = try values.decode(String.self, forKey: .publicKey)
        algorithm = try values.decode(Int64.self, forKey: .algorithm)
        signCount = try values.decode(Int64.self, forKey: .signCount)
        name = try values.decode(String.self, forKey: .name)
        // INTEGER 0/1, the boolean both databases share (see `User`).
        isPasskey = try values.decode(Int.self, forKey: .isPasskey) != 0
        transports = try values.decode(String.self, forKey: .transports)
        aaguid = try values.decode(String.self, forKey: .aaguid)
        createdAt = try values.decode(UnixTime.self, forKey: .createdAt)
        lastUsedAt = try values.decodeIfPresent(UnixTime.self, forKey: .lastUsedAt)
    }
}

/// What ``WebAuthnRepository/createWebAuthnCredential(_:at:)`` stores.
public struct NewWebAuthnCredential: Sendable, Equatable {
    public var userID: Int64
    public var credentialID: String
    public var publicKey: String
    public var algorithm: Int64
    public var signCount: Int64
    public var name: String
    public var isPasskey: Bool
    public var transports: String
    public var aaguid: String

    public init(
        userID: Int64,
        credentialID: String,
        publicKey: String,
        algorithm: Int64,
        signCount: Int64,
        name: String,
        isPasskey: Bool,
        transports: String,
        aaguid: String
    ) {
        self.userID = userID
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.signCount = signCount
        self.name = name
        self.isPasskey = isPasskey
        self.transports = transports
        self.aaguid = aaguid
    }
}

/// Which ceremony a WebAuthn challenge was issued for: a response made for one can never finish another.
public enum WebAuthnChallengePurpose: String, Sendable, Codable, CaseIterable {
    /// Adding a security key (a second factor).
    case register
    /// Adding a passkey (discoverable, user verification required).
    case registerPasskey = "register_passkey"
    /// The second step of a sign-in (or of a password reset) with a registered key.
    case authenticate
    /// Signing in with a passkey alone, before anyone is known.
    case passkey
}

/// A challenge issued for one ceremony: single use, bound to the browser that asked, five minutes.
public struct WebAuthnChallenge: Sendable, Equatable, Decodable {
    /// SHA-256 of the challenge bytes, hex: the browser returns the challenge inside `clientDataJSON`,
    /// which is how it is found again; a database dump holds no pending challenge.
    public var challengeHash: String
    public var purpose: WebAuthnChallengePurpose
    /// What the challenge is bound to (a session, a browser's secret, a reset link), already hashed:
    /// only the same browser can finish the ceremony.
    public var binding: String
    /// The account the ceremony is for; `nil` for passkey sign-in, where nobody is known yet.
    public var userID: Int64?
    public var createdAt: UnixTime
    public var expiresAt: UnixTime

    public init(challengeHash: String, purpose: WebAuthnChallengePurpose, binding: String, userID: Int64?, createdAt: UnixTime, expiresAt: UnixTime) {
        self.challengeHash = challengeHash
        self.purpose = purpose
        self.binding = binding
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case purpose, binding
        case challengeHash = "challenge_hash"
        case userID = "user_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }
}
