import Foundation
import Logging
import TwoStepCore
import TwoStepStore

/// Security keys and passkeys (issue 17, SPEC F11): the ceremonies' options, their challenges, and
/// what a verified response changes. The verification itself is `WebAuthnRelyingParty` (TwoStepCore);
/// this is every rule around it, once, for the pages and the API.
///
/// A challenge is 32 random bytes, used once, bound to the browser that asked and valid for five
/// minutes (W3C WebAuthn §13.4.3); it is found again by the SHA-256 of the challenge the browser
/// echoes in `clientDataJSON`, and used up by one conditional DELETE before anything is verified.
struct WebAuthnService: Sendable {
    typealias Storage = WebAuthnRepository & UserRepository & SecurityEventRepository
    let store: any Storage
    let relyingParty: WebAuthnRelyingParty
    /// `rp.name` in the options: what authenticators show beside the account (the issuer).
    let relyingPartyName: String
    let twoFactor: TwoFactorService
    let sessions: SessionService
    let devices: TrustedDeviceService
    let metrics: ServerMetrics
    let now: Now
    let logger: Logger

    static let challengeLifetime: TimeInterval = 5 * 60
    /// `timeout` in the options, in milliseconds: the same five minutes.
    static let timeout = 300_000
    /// Random bytes per challenge (§13.4.3 asks for at least 16).
    static let challengeLength = 32
    /// A browser's response is a few kilobytes at most (an attestation with a certificate chain);
    /// anything larger is refused before it is parsed.
    static let maximumResponseSize = 32 * 1024
    static let maximumNameLength = 64

    // MARK: Binding

    /// What a challenge is bound to: only the same browser can finish the ceremony, so a response
    /// captured or phished for one browser's challenge is useless in another.
    enum Binding: Sendable, Equatable {
        /// A session, signed in (adding a key) or waiting for its second factor: its stored id hash.
        /// A session's id changes at sign-in and re-authentication; a ceremony spanning that simply starts again.
        case session(Session)
        /// A browser with no session yet (passkey sign-in): a secret only that browser holds. On the
        /// pages that is the CSRF cookie: 256 random bits in a `__Host-` cookie that another site can
        /// neither read nor set (CSRFMiddleware). There is no anonymous session to use instead (every
        /// session belongs to an account), and the cookie exists from the first page the browser saw.
        /// On the API it is the `ceremony` token the options answer hands out.
        case browser(secret: String)
        /// A password-reset link (its second factor, issue 15): the link's token.
        case resetLink(token: String)

        /// The stored form, hashed: the database holds no usable secret.
        var key: String {
            switch self {
            case .session(let session): "session:" + session.idHash
            case .browser(let secret): "browser:" + RandomToken.hash(secret)
            case .resetLink(let token): "reset:" + RandomToken.hash(token)
            }
        }
    }

    // MARK: Registration

    enum RegistrationStart: Equatable {
        /// `PublicKeyCredentialCreationOptionsJSON` (WebAuthn L3 §5.4), for
        /// `PublicKeyCredential.parseCreationOptionsFromJSON`.
        case options(String)
        /// Adding a method needs the password or an existing factor from the last 10 minutes (SPEC §2).
        case reauthenticationRequired
        /// The operator does not allow security keys (`--allowed-methods`, issue 18).
        case methodNotAllowed
    }

    /// The options for adding a security key (`passkey` false: a second factor) or a passkey.
    func registrationOptions(user: User, session: Session, passkey: Bool) async throws -> RegistrationStart {
        guard twoFactor.allowedMethods.contains(.key) else { return .methodNotAllowed }
        guard sessions.access(for: .addSecurityKey, in: session) == .allowed else { return .reauthenticationRequired }
        let handle = try await userHandle(of: user)
        let existing = try await store.webAuthnCredentials(userID: user.id)
        let challenge = try await issueChallenge(passkey ? .registerPasskey : .register, binding: .session(session), userID: user.id)
        let options = CreationOptions(
            rp: .init(id: relyingParty.id, name: relyingPartyName),
            user: .init(id: handle, name: user.name, displayName: user.name),
            challenge: challenge,
            pubKeyCredParams: relyingParty.algorithms.map { .init(alg: $0.rawValue) },
            timeout: Self.timeout,
            // The account's keys are excluded, so the browser says "already registered" rather than
            // making a second credential on the same key (§5.4 excludeCredentials).
            excludeCredentials: existing.map(Descriptor.init),
            authenticatorSelection: passkey
                // A passkey replaces password and code: it must be discoverable and verify its user
                // (NIST SP 800-63B §5.1.9, multi-factor cryptographic authenticator).
                ? .init(residentKey: "required", requireResidentKey: true, userVerification: "required")
                // A second factor beside the password: a touch is enough, no PIN prompt.
                : .init(residentKey: "discouraged", requireResidentKey: false, userVerification: "discouraged"),
            attestation: "none",
            extensions: .init(credProps: true)
        )
        return .options(try Self.json(options))
    }

    enum RegistrationResult: Equatable {
        /// Stored. `turnedOn`: it was the account's first method, so two-factor authentication is now
        /// on (offer recovery codes, as after the app or SMS). `deviceToken`: "Trust this device" was asked.
        case registered(WebAuthnCredential, turnedOn: Bool, deviceToken: String?)
        /// The name is empty, too long or has control characters; the message says which.
        case invalidName(String)
        /// Not a registration response (bad JSON, base64url or CBOR, too large): a 400.
        case malformed(String)
        /// No such challenge for this session: never issued, used already, expired, or another browser's.
        case challengeInvalid
        /// A check of W3C WebAuthn §7.1 failed (origin, RP ID, flags, algorithm …).
        case refused(WebAuthnError)
        /// This credential is registered already (to this or another account).
        case alreadyRegistered
        /// The operator does not allow security keys (`--allowed-methods`, issue 18): also for a
        /// challenge issued before the setting changed.
        case methodNotAllowed
    }

    /// Verifies a `RegistrationResponseJSON` (what `credential.toJSON()` gives) against the challenge
    /// this session was given, and stores the key under `name`.
    func finishRegistration(
        user: User,
        session: Session,
        name: String,
        responseJSON: String,
        trustDevice: Bool = false
    ) async throws
        -> RegistrationResult
    {
        let response: RegistrationResponse
        switch Self.decode(RegistrationResponse.self, responseJSON) {
        case .success(let decoded): response = decoded
        case .failure(let failure): return .malformed(failure.why)
        }
        return try await finishRegistration(user: user, session: session, name: name, response: response, trustDevice: trustDevice)
    }

    /// The same, with the response already decoded from a JSON body (the API).
    func finishRegistration(
        user: User,
        session: Session,
        name rawName: String,
        response: RegistrationResponse,
        trustDevice: Bool = false
    )
        async throws -> RegistrationResult
    {
        guard twoFactor.allowedMethods.contains(.key) else { return .methodNotAllowed }
        let name: String
        switch Self.checkName(rawName) {
        case .success(let valid): name = valid
        case .failure(let problem): return .invalidName(problem.why)
        }
        let parts: RegistrationResponse.Parts
        let clientData: CollectedClientData
        do {
            parts = try response.parts()
            clientData = try CollectedClientData(json: parts.clientDataJSON)
        } catch let failure as Malformed {
            return .malformed(failure.why)
        } catch {
            return .malformed("clientDataJSON is not the JSON object a browser writes")
        }
        let time = now()
        let hash = Self.challengeHash(clientData.challenge)
        let binding = Binding.session(session).key
        // The challenge says which was asked for, a security key or a passkey; the client cannot choose.
        var passkey = false
        var challenge = try await store.consumeWebAuthnChallenge(hash: hash, purpose: .register, binding: binding, at: time.unixTime)
        if challenge == nil {
            challenge = try await store.consumeWebAuthnChallenge(hash: hash, purpose: .registerPasskey, binding: binding, at: time.unixTime)
            passkey = challenge != nil
        }
        guard let challenge, challenge.userID == user.id else { return .challengeInvalid }
        let registration: WebAuthnRelyingParty.Registration
        do {
            registration = try relyingParty.verifyRegistration(
                attestationObject: parts.attestationObject,
                clientDataJSON: parts.clientDataJSON,
                credentialID: parts.rawID,
                challenge: clientData.challenge,
                requireUserVerification: passkey
            )
        } catch {
            return .refused(error)
        }
        // credProps (L3 §10.1.3) reports whether the key made a discoverable credential; a passkey
        // that is not one could never sign in without a name being typed.
        if passkey, response.clientExtensionResults?.credProps?.rk == false {
            return .refused(.malformedAttestationObject("the authenticator did not make a discoverable credential"))
        }
        let wasOn = try await twoFactor.isEnabled(for: user)
        let stored: WebAuthnCredential
        do {
            stored = try await store.createWebAuthnCredential(
                NewWebAuthnCredential(
                    userID: user.id,
                    credentialID: Base64URL.encode(registration.credentialID),
                    publicKey: Base64URL.encode(registration.publicKey.encoded),
                    algorithm: registration.publicKey.algorithm.rawValue,
                    signCount: Int64(registration.signCount),
                    name: name,
                    isPasskey: passkey,
                    transports: Self.transports(response.response.transports),
                    aaguid: registration.aaguid.hexEncoded()
                ),
                at: time.unixTime
            )
        } catch let error as StoreError where error == .duplicate {
            return .alreadyRegistered
        }
        let what = (passkey ? "passkey" : "security key") + " \u{201C}\(name)\u{201D}"
        if wasOn {
            // A key added to switch away from methods the operator no longer allows (issue 18) removes them.
            try await twoFactor.methodEnrolled(user, method: .key)
            try await store.recordEvent(userID: user.id, kind: .securityKeyAdded, detail: what, at: time.unixTime)
        } else {
            // The first method turns 2FA on exactly as the app or SMS does (TwoFactorService.activateApp).
            try await twoFactor.attempts.clear([.codes(userID: user.id)])
            try await twoFactor.methodEnrolled(user, method: .key)
            try await store.recordEvent(userID: user.id, kind: .twoFactorEnabled, detail: what, at: time.unixTime)
        }
        metrics.enrolled(.securityKey)
        let deviceToken = trustDevice ? try await devices.trust(user: user, userAgent: session.userAgent) : nil
        return .registered(stored, turnedOn: !wasOn, deviceToken: deviceToken)
    }

    // MARK: Assertions

    /// `PublicKeyCredentialRequestOptionsJSON` for the second step of a sign-in: the account's keys,
    /// a touch (no PIN). `nil` when the account has no key.
    func authenticationOptions(user: User, session: Session) async throws -> String? {
        try await authenticationOptions(user: user, binding: .session(session))
    }

    /// The same, bound to something other than a session (a password-reset link).
    func authenticationOptions(user: User, binding: Binding) async throws -> String? {
        let keys = try await store.webAuthnCredentials(userID: user.id)
        guard !keys.isEmpty else { return nil }
        let challenge = try await issueChallenge(.authenticate, binding: binding, userID: user.id)
        return try Self.json(
            RequestOptions(
                challenge: challenge,
                timeout: Self.timeout,
                rpId: relyingParty.id,
                allowCredentials: keys.map(Descriptor.init),
                userVerification: "discouraged"
            )
        )
    }

    /// Options for signing in with a passkey alone: no credentials listed (the authenticator offers
    /// its discoverable ones), user verification required.
    /// - Parameter secret: The browser's secret the challenge is bound to (see ``Binding/browser(secret:)``).
    func passkeyOptions(browserSecret secret: String) async throws -> String {
        let challenge = try await issueChallenge(.passkey, binding: .browser(secret: secret), userID: nil)
        return try Self.json(
            RequestOptions(challenge: challenge, timeout: Self.timeout, rpId: relyingParty.id, allowCredentials: [], userVerification: "required")
        )
    }

    enum AssertionResult: Equatable {
        /// Verified; the counter and last use are stored.
        case accepted(User, WebAuthnCredential, TwoFactorService.Method)
        /// Not an authentication response (bad JSON, base64url, too large): a 400, nothing counted.
        case malformed(String)
        /// Refused, and counted as a failed second-factor attempt (the lockout of wrong codes).
        case refused(TwoFactorService.Verification)
    }

    /// The second factor with a key: the session's (or reset link's) challenge, a key of this
    /// account, a valid signature, a counter that moved on. Every refusal counts against the account's
    /// second-factor budget exactly as a wrong code does (`TwoFactorService.attempt`).
    func verifyAssertion(user: User, binding: Binding, responseJSON: String) async throws -> AssertionResult {
        switch Self.decode(AuthenticationResponse.self, responseJSON) {
        case .success(let response): return try await verifyAssertion(user: user, binding: binding, response: response)
        case .failure(let failure): return .malformed(failure.why)
        }
    }

    func verifyAssertion(user: User, binding: Binding, response: AuthenticationResponse) async throws -> AssertionResult {
        let parts: AuthenticationResponse.Parts
        let challengeHash: String
        switch Self.parse(response) {
        case .success(let parsed): (parts, challengeHash) = parsed
        case .failure(let failure): return .malformed(failure.why)
        }
        var used: WebAuthnCredential?
        var method = TwoFactorService.Method.securityKey(synced: false)
        let verification = try await twoFactor.attempt(user: user, kind: .securityKey) { time, _ in
            guard
                let challenge = try await store.consumeWebAuthnChallenge(
                    hash: challengeHash,
                    purpose: .authenticate,
                    binding: binding.key,
                    at: time.unixTime
                ),
                challenge.userID == user.id
            else { return .rejected(detail: "no such challenge for this sign-in (used, expired or another browser's)") }
            // Only a key of this account: another account's key proves nothing about this one.
            guard let credential = try await store.webAuthnCredential(credentialID: parts.credentialID), credential.userID == user.id else {
                return .rejected(detail: "not a key of this account")
            }
            let check = try await verify(parts, credential: credential, user: user, requireUserVerification: false, at: time)
            if case .accepted(let passed, _) = check {
                used = credential
                method = passed
            }
            return check
        }
        guard case .accepted = verification, let used else { return .refused(verification) }
        return .accepted(user, used, method)
    }

    /// A passkey sign-in: the credential names the account; its user handle must be that account's,
    /// and the authenticator must have verified the person (it replaces password and code).
    func verifyPasskey(binding: Binding, responseJSON: String) async throws -> AssertionResult {
        switch Self.decode(AuthenticationResponse.self, responseJSON) {
        case .success(let response): return try await verifyPasskey(binding: binding, response: response)
        case .failure(let failure): return .malformed(failure.why)
        }
    }

    func verifyPasskey(binding: Binding, response: AuthenticationResponse) async throws -> AssertionResult {
        let parts: AuthenticationResponse.Parts
        let challengeHash: String
        switch Self.parse(response) {
        case .success(let parsed): (parts, challengeHash) = parsed
        case .failure(let failure): return .malformed(failure.why)
        }
        guard let credential = try await store.webAuthnCredential(credentialID: parts.credentialID),
            let user = try await store.user(id: credential.userID)
        else {
            // Nobody to count it against: the challenge is used up all the same, and the client
            // address pays a token, as for a wrong code (OWASP: throttle per source too).
            let time = now()
            _ = try await store.consumeWebAuthnChallenge(hash: challengeHash, purpose: .passkey, binding: binding.key, at: time.unixTime)
            let address = RequestOrigin.clientAddress
            if !address.isEmpty, let retryAt = try await twoFactor.attempts.take(.codesFromAddress(address), at: time) {
                return .refused(.wait(retryAt: retryAt))
            }
            return .refused(.rejected(retryAt: nil))
        }
        var method = TwoFactorService.Method.securityKey(synced: false)
        let verification = try await twoFactor.attempt(user: user, kind: .securityKey) { time, _ in
            guard
                let challenge = try await store.consumeWebAuthnChallenge(
                    hash: challengeHash,
                    purpose: .passkey,
                    binding: binding.key,
                    at: time.unixTime
                ),
                challenge.userID == nil
            else { return .rejected(detail: "no such challenge for this sign-in (used, expired or another browser's)") }
            // A key registered as a second factor may not be discoverable or verify its user: it
            // never signs in alone.
            guard credential.isPasskey else { return .rejected(detail: "a security key, not a passkey") }
            // §7.2 step 6: the user handle the authenticator returns must be the credential's account's.
            guard let handle = parts.userHandle, try await store.userID(webAuthnUserHandle: handle) == user.id else {
                return .rejected(detail: "the passkey belongs to another account")
            }
            let check = try await verify(parts, credential: credential, user: user, requireUserVerification: true, at: time)
            if case .accepted(let passed, _) = check { method = passed }
            return check
        }
        guard case .accepted = verification else { return .refused(verification) }
        return .accepted(user, credential, method)
    }

    /// §7.2 steps 10–21 with the stored key and counter, then the conditional counter update.
    private func verify(
        _ parts: AuthenticationResponse.Parts,
        credential: WebAuthnCredential,
        user: User,
        requireUserVerification: Bool,
        at time: Date
    ) async throws -> TwoFactorService.AttemptCheck {
        guard let encoded = Base64URL.decode(credential.publicKey), let publicKey = try? COSEKey(encoded: encoded) else {
            return .rejected(detail: "the stored key cannot be read")
        }
        let assertion: WebAuthnRelyingParty.Assertion
        do {
            assertion = try relyingParty.verifyAssertion(
                authenticatorData: parts.authenticatorData,
                clientDataJSON: parts.clientDataJSON,
                signature: parts.signature,
                publicKey: publicKey,
                storedSignCount: UInt32(clamping: credential.signCount),
                challenge: parts.challenge,
                requireUserVerification: requireUserVerification
            )
        } catch {
            if error == .counterDidNotIncrease {
                // §7.2 step 21: two copies of the private key may exist. The signature was valid, so
                // this is the key or its copy, not a forgery: tell the holder and the operator.
                logger.warning(
                    "security key counter did not increase: possible cloned authenticator",
                    metadata: ["user_id": "\(user.id)", "key_id": "\(credential.id)"]
                )
                try await store.recordEvent(
                    userID: user.id,
                    kind: .securityKeyCloneSuspected,
                    detail: "\u{201C}\(credential.name)\u{201D}: counter \(credential.signCount) stored, lower or equal received",
                    at: time.unixTime
                )
            }
            return .rejected(detail: error.description)
        }
        // Only if the counter is still what was read: a concurrent use cannot roll it back.
        guard
            try await store.recordWebAuthnUse(
                id: credential.id,
                expectedSignCount: credential.signCount,
                signCount: Int64(assertion.signCount),
                at: time.unixTime
            )
        else { return .replayed }
        return .accepted(.securityKey(synced: assertion.backedUp), clearing: [.codes(userID: user.id)])
    }

    // MARK: Managing keys

    /// The account's keys and passkeys, oldest first.
    func credentials(of user: User) async throws -> [WebAuthnCredential] {
        try await store.webAuthnCredentials(userID: user.id)
    }

    enum RenameResult: Equatable {
        case renamed
        case invalidName(String)
        case notFound
    }

    func rename(credentialID id: Int64, user: User, name rawName: String) async throws -> RenameResult {
        let name: String
        switch Self.checkName(rawName) {
        case .success(let valid): name = valid
        case .failure(let problem): return .invalidName(problem.why)
        }
        guard try await store.renameWebAuthnCredential(id: id, userID: user.id, name: name) else { return .notFound }
        try await store.recordEvent(userID: user.id, kind: .securityKeyRenamed, detail: "\u{201C}\(name)\u{201D}", at: now().unixTime)
        return .renamed
    }

    enum RemoveResult: Equatable {
        case removed
        /// Removing a method needs the password or an existing factor from the last 10 minutes.
        case reauthenticationRequired
        case notFound
        /// The account's only method: two-factor authentication is turned off with **Disable**, which
        /// asks for the password or a code and removes the recovery codes and trusted devices too
        /// (SPEC F7); removing the last method one by one would skip that.
        case lastMethod
    }

    func remove(credentialID id: Int64, user: User, session: Session) async throws -> RemoveResult {
        guard sessions.access(for: .removeSecurityKey, in: session) == .allowed else { return .reauthenticationRequired }
        guard let key = try await store.webAuthnCredentials(userID: user.id).first(where: { $0.id == id }) else { return .notFound }
        guard try await store.deleteWebAuthnCredential(id: id, userID: user.id, keepingAnotherMethod: true) else {
            // Gone meanwhile, or the last method.
            return try await store.webAuthnCredentials(userID: user.id).contains { $0.id == id } ? .lastMethod : .notFound
        }
        let what = (key.isPasskey ? "passkey" : "security key") + " \u{201C}\(key.name)\u{201D}"
        try await store.recordEvent(userID: user.id, kind: .securityKeyRemoved, detail: what, at: now().unixTime)
        return .removed
    }

    // MARK: Parts

    /// The account's user handle (§5.4.3 `user.id`): 32 random bytes made once, never the address,
    /// so a passkey on a shared authenticator says nothing about whose it is.
    private func userHandle(of user: User) async throws -> String {
        try await store.webAuthnUserHandle(userID: user.id, proposed: Base64URL.encode(SecureRandom.bytes(32)))
    }

    private func issueChallenge(_ purpose: WebAuthnChallengePurpose, binding: Binding, userID: Int64?) async throws -> String {
        let bytes = SecureRandom.bytes(Self.challengeLength)
        let time = now()
        try await store.createWebAuthnChallenge(
            WebAuthnChallenge(
                challengeHash: Self.challengeHash(bytes),
                purpose: purpose,
                binding: binding.key,
                userID: userID,
                createdAt: time.unixTime,
                expiresAt: time.addingTimeInterval(Self.challengeLifetime).unixTime
            )
        )
        return Base64URL.encode(bytes)
    }

    /// SHA-256 (hex) of the challenge's canonical base64url form.
    static func challengeHash(_ bytes: [UInt8]) -> String { RandomToken.hash(Base64URL.encode(bytes)) }

    static func transports(_ names: [String]?) -> String {
        // The browser's words (`usb`, `nfc`, `ble`, `hybrid`, `internal`, `smart-card`); anything else is dropped.
        let known: Set<String> = ["usb", "nfc", "ble", "hybrid", "internal", "smart-card"]
        return (names ?? []).filter(known.contains).prefix(8).joined(separator: ",")
    }

    /// Why a name is refused.
    struct NameProblem: Error { let why: String }

    /// A key's name: trimmed, 1 to 64 characters, no control characters (it is shown in lists and mail).
    static func checkName(_ raw: String) -> Result<String, NameProblem> {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return .failure(NameProblem(why: "give the key a name, such as \u{201C}YubiKey 5\u{201D}")) }
        guard name.count <= maximumNameLength else { return .failure(NameProblem(why: "must be at most \(maximumNameLength) characters")) }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        else { return .failure(NameProblem(why: "must not contain control characters")) }
        return .success(name)
    }

    /// Why a response is not one: a 400 with this text.
    struct Malformed: Error { let why: String }

    /// Decodes a response the browser sent, refusing oversized or non-JSON input before anything else.
    static func decode<T: Decodable>(_ type: T.Type, _ json: String) -> Result<T, Malformed> {
        guard json.utf8.count <= maximumResponseSize else {
            return .failure(Malformed(why: "the response is larger than \(maximumResponseSize) bytes"))
        }
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(json.utf8)))
        } catch {
            return .failure(Malformed(why: "the response is not a WebAuthn credential in JSON (credential.toJSON())"))
        }
    }

    private static func parse(_ response: AuthenticationResponse) -> Result<(AuthenticationResponse.Parts, String), Malformed> {
        do {
            let parts = try response.parts()
            return .success((parts, challengeHash(parts.challenge)))
        } catch let failure as Malformed {
            return .failure(failure)
        } catch {
            return .failure(Malformed(why: "the response is not a WebAuthn credential"))
        }
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

// MARK: - The JSON forms (WebAuthn Level 3 §5.1.8–5.1.11, §5.4, §5.5)

extension WebAuthnService {
    private struct CreationOptions: Encodable {
        struct RelyingParty: Encodable {
            let id: String
            let name: String
        }
        struct UserEntity: Encodable {
            let id: String
            let name: String
            let displayName: String
        }
        struct Parameter: Encodable {
            var type = "public-key"
            let alg: Int64
        }
        struct Selection: Encodable {
            let residentKey: String
            let requireResidentKey: Bool
            let userVerification: String
        }
        struct Extensions: Encodable {
            let credProps: Bool
        }
        let rp: RelyingParty
        let user: UserEntity
        let challenge: String
        let pubKeyCredParams: [Parameter]
        let timeout: Int
        let excludeCredentials: [Descriptor]
        let authenticatorSelection: Selection
        let attestation: String
        let extensions: Extensions
    }

    private struct RequestOptions: Encodable {
        let challenge: String
        let timeout: Int
        let rpId: String
        let allowCredentials: [Descriptor]
        let userVerification: String
    }

    /// `PublicKeyCredentialDescriptorJSON`.
    private struct Descriptor: Encodable {
        var type = "public-key"
        let id: String
        let transports: [String]?

        init(_ credential: WebAuthnCredential) {
            id = credential.credentialID
            let names = credential.transports.split(separator: ",").map(String.init)
            transports = names.isEmpty ? nil : names
        }
    }

    /// What `PublicKeyCredential.toJSON()` gives for a registration (`RegistrationResponseJSON`).
    struct RegistrationResponse: Decodable, Sendable {
        struct Response: Decodable, Sendable {
            let clientDataJSON: String
            let attestationObject: String
            let transports: [String]?
        }
        struct Extensions: Decodable, Sendable {
            struct CredentialProperties: Decodable, Sendable { let rk: Bool? }
            let credProps: CredentialProperties?
        }
        let id: String
        let rawId: String
        let type: String
        let response: Response
        let clientExtensionResults: Extensions?

        struct Parts {
            let rawID: [UInt8]
            let clientDataJSON: [UInt8]
            let attestationObject: [UInt8]
        }

        func parts() throws(Malformed) -> Parts {
            let rawID = try checkIdentity(id: id, rawId: rawId, type: type)
            guard let clientData = Base64URL.decode(response.clientDataJSON) else { throw Malformed(why: "response.clientDataJSON is not base64url") }
            guard let attestation = Base64URL.decode(response.attestationObject), !attestation.isEmpty else {
                throw Malformed(why: "response.attestationObject is not base64url")
            }
            return Parts(rawID: rawID, clientDataJSON: clientData, attestationObject: attestation)
        }
    }

    /// What `PublicKeyCredential.toJSON()` gives for an assertion (`AuthenticationResponseJSON`).
    struct AuthenticationResponse: Decodable, Sendable {
        struct Response: Decodable, Sendable {
            let clientDataJSON: String
            let authenticatorData: String
            let signature: String
            let userHandle: String?
        }
        let id: String
        let rawId: String
        let type: String
        let response: Response

        struct Parts {
            /// The credential id, base64url as stored.
            let credentialID: String
            let clientDataJSON: [UInt8]
            let authenticatorData: [UInt8]
            let signature: [UInt8]
            /// base64url, as stored; `nil` when the authenticator sent none.
            let userHandle: String?
            /// The challenge the client data carries (which challenge row to use up).
            let challenge: [UInt8]
        }

        func parts() throws(Malformed) -> Parts {
            _ = try checkIdentity(id: id, rawId: rawId, type: type)
            guard let clientData = Base64URL.decode(response.clientDataJSON) else { throw Malformed(why: "response.clientDataJSON is not base64url") }
            guard let authData = Base64URL.decode(response.authenticatorData) else {
                throw Malformed(why: "response.authenticatorData is not base64url")
            }
            guard let signature = Base64URL.decode(response.signature), !signature.isEmpty else {
                throw Malformed(why: "response.signature is not base64url")
            }
            let handle = response.userHandle.flatMap { $0.isEmpty ? nil : $0 }
            if let handle, Base64URL.decode(handle) == nil { throw Malformed(why: "response.userHandle is not base64url") }
            let challenge: [UInt8]
            do { challenge = try CollectedClientData(json: clientData).challenge } catch {
                throw Malformed(why: "clientDataJSON is not the JSON object a browser writes")
            }
            return Parts(
                credentialID: rawId,
                clientDataJSON: clientData,
                authenticatorData: authData,
                signature: signature,
                userHandle: handle,
                challenge: challenge
            )
        }
    }
}

/// `id` and `rawId` are the same credential id (L3 §5.1: `id` is `rawId` in base64url), 1–1023 bytes (§4).
private func checkIdentity(id: String, rawId: String, type: String) throws(WebAuthnService.Malformed) -> [UInt8] {
    guard type == "public-key" else { throw WebAuthnService.Malformed(why: "type must be \"public-key\"") }
    guard let raw = Base64URL.decode(rawId), (1...1023).contains(raw.count) else {
        throw WebAuthnService.Malformed(why: "rawId is not a base64url credential id of 1 to 1023 bytes")
    }
    guard id == rawId else { throw WebAuthnService.Malformed(why: "id and rawId differ") }
    return raw
}
