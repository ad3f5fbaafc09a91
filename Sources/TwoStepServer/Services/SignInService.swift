import Foundation
import TwoStepCore
import TwoStepStore

/// The two-step sign-in and re-authentication (SPEC F1, F2, F6, §2), once for the pages (session
/// in a cookie) and the JSON API (session as a bearer token): the same session ids, the same rules.
struct SignInService: Sendable {
    let accounts: AccountService
    let sessions: SessionService
    let twoFactor: TwoFactorService
    let devices: TrustedDeviceService
    /// Security keys and passkeys (issue 17).
    let keys: WebAuthnService
    /// The operator's 2FA policy (issue 18), asked after every sign-in that gets this far.
    let policy: TwoFactorPolicyService

    /// What the 2FA policy asks of an account that signed in without a method it allows (issue 18),
    /// or after an operator reset.
    struct EnrolmentDemand: Equatable, Sendable {
        let reason: TwoFactorPolicy.Reason
        /// The end of the grace period: until then the person may go on (**Not now**). `nil`: no way
        /// past enrolment (`EnrolmentGate`).
        let deadline: Date?

        init(reason: TwoFactorPolicy.Reason, deadline: Date?) {
            self.reason = reason
            self.deadline = deadline
        }

        init?(_ standing: TwoFactorPolicy.Standing) {
            switch standing {
            case .satisfied: return nil
            case .grace(let reason, let deadline): self.init(reason: reason, deadline: deadline)
            case .enrolmentRequired(let reason): self.init(reason: reason, deadline: nil)
            }
        }
    }

    enum Outcome {
        /// Wrong e-mail address or password: never which (SPEC F1).
        case refused
        /// Too many wrong passwords for this address or from this client: not checked (SPEC §2).
        case tooManyAttempts(retryAt: Date?)
        /// Signed in: `sessionID` is the new session's secret id.
        case signedIn(User, sessionID: String)
        /// The password was right; the half-way session `sessionID` now needs a second factor.
        case secondFactorRequired(User, sessionID: String)
        /// Signed in, but the account must set up a method it is allowed (after an operator reset, or
        /// by the 2FA policy): within a grace period the session may go on; after it, it may only
        /// enrol (`EnrolmentGate`), so the account never runs on what the policy refuses.
        case enrolmentRequired(User, sessionID: String, demand: EnrolmentDemand)
    }

    /// Checks the password; signs in at once when 2FA is off or `deviceToken` marks a trusted device
    /// of this account. Any earlier session of the client is replaced (session fixation).
    func signIn(email: String, password: String, deviceToken: String?, userAgent: String, replacing old: Session?) async throws -> Outcome {
        let user: User
        switch try await accounts.authenticate(email: email, password: password) {
        case .authenticated(let authenticated): user = authenticated
        case .refused: return .refused
        case .tooManyAttempts(let retryAt): return .tooManyAttempts(retryAt: retryAt)
        }
        let enabled = try await twoFactor.isEnabled(for: user)
        let trusted = enabled ? try await devices.isTrusted(token: deviceToken, user: user) : false
        if enabled && !trusted {
            let id = try await sessions.start(
                userID: user.id,
                stage: .awaitingSecondFactor,
                methods: Self.passwordOnly,
                userAgent: userAgent,
                replacing: old
            )
            return .secondFactorRequired(user, sessionID: id)
        }
        // Right after the password (or the trusted device), before any page: the policy's question (issue 18).
        let demand = EnrolmentDemand(try await policy.standingAtSignIn(of: user))
        let id: String
        if trusted {
            // The device was trusted after a second factor (SPEC F6): the session counts as two-factor,
            // but claims no specific method it did not see.
            id = try await signedIn(
                user,
                methods: ["pwd", Self.multiFactor],
                describe: "password and trusted device",
                userAgent: userAgent,
                replacing: old,
                demand: demand
            )
        } else {
            let describe = demand == nil ? "password" : "password; must set up two-factor authentication"
            id = try await signedIn(user, methods: Self.passwordOnly, describe: describe, userAgent: userAgent, replacing: old, demand: demand)
        }
        if let demand { return .enrolmentRequired(user, sessionID: id, demand: demand) }
        return .signedIn(user, sessionID: id)
    }

    /// RFC 8176 method references: `pwd`, then `otp` for an app or recovery code (both one-time
    /// passwords), `sms` for a texted code, and `mfa` whenever a second factor was passed.
    static let passwordOnly = ["pwd"]
    static let multiFactor = "mfa"

    static func methods(_ method: TwoFactorService.Method) -> [String] {
        switch method {
        case .factor(.totp), .recoveryCode: ["pwd", "otp", multiFactor]
        case .factor(.sms), .factor(.recoveryPhone): ["pwd", "sms", multiFactor]
        case .securityKey(let synced): ["pwd", keyMethod(synced: synced), multiFactor]
        }
    }

    /// RFC 8176 §2: `hwk` is proof of possession of a hardware-secured key, `swk` of a software-secured
    /// one. A key the authenticator reports as backed up (synced passkeys) exists outside any one piece
    /// of hardware, so it is `swk`; every other key is `hwk`.
    static func keyMethod(synced: Bool) -> String { synced ? "swk" : "hwk" }

    /// A passkey sign-in (no password, no code): the key, `user`, and `mfa`. The authenticator verified
    /// the person (PIN or biometric: the UV flag) but does not say how, so neither `pin` nor `fpt` can
    /// be claimed; `user` (RFC 8176: a user presence test, which the UP flag proves) is the most that
    /// can be said. It is `mfa` because a key that verifies its user is a multi-factor cryptographic
    /// authenticator (NIST SP 800-63B §5.1.9): something you have unlocked by something you know or are.
    static func passkeyMethods(synced: Bool) -> [String] { [keyMethod(synced: synced), "user", multiFactor] }

    enum Return: Equatable {
        /// Show the sign-in form (not signed in, or a second factor is owed for this address).
        case signIn
        /// Signed in with two factors already: go on to the address.
        case continueNow
        /// Signed in on the password alone and the account has no second factor: set one up first
        /// (forward-auth and clients that demand two factors will not take the password alone).
        case enrolFirst
    }

    /// What the sign-in page does when it is given a return address (issue 14).
    func returning(session: Session?, user: User?) async throws -> Return {
        guard let session, session.stage == .signedIn, let user else { return .signIn }
        // Past the 2FA policy's grace (issue 18) no application is reached until a method is on.
        if try await policy.standing(of: user).isEnrolmentOnly { return .enrolFirst }
        if session.methods.contains(Self.multiFactor) { return .continueNow }
        return try await twoFactor.isEnabled(for: user) ? .signIn : .enrolFirst
    }

    enum CodeOutcome {
        /// Signed in with `method`; `deviceToken` is set when the client asked to be trusted; `demand`
        /// when the 2FA policy asks the account to switch to a method it allows (issue 18).
        case signedIn(sessionID: String, method: TwoFactorService.Method, deviceToken: String?, demand: EnrolmentDemand?)
        case refused(TwoFactorService.Verification)
    }

    /// The second step: a code of any kind the account has, with the lockout and replay guard.
    func completeSecondFactor(session: Session, user: User, code: String, trustDevice: Bool, userAgent: String) async throws -> CodeOutcome {
        let verification = try await twoFactor.verify(code, user: user)
        guard case .accepted(let method) = verification else { return .refused(verification) }
        return try await secondFactorPassed(session: session, user: user, method: method, trustDevice: trustDevice, userAgent: userAgent)
    }

    /// The session is signed in with a second factor: a new id, the method references, the activity
    /// entry, and "Trust this device" if asked. Codes and security keys end here alike.
    private func secondFactorPassed(
        session: Session,
        user: User,
        method: TwoFactorService.Method,
        trustDevice: Bool,
        userAgent: String
    )
        async throws -> CodeOutcome
    {
        let demand = EnrolmentDemand(try await policy.standingAtSignIn(of: user))
        let id = try await signedIn(
            user,
            methods: Self.methods(method),
            describe: "password and " + Self.describe(method),
            userAgent: userAgent,
            replacing: session,
            demand: demand
        )
        let deviceToken = trustDevice ? try await devices.trust(user: user, userAgent: userAgent) : nil
        return .signedIn(sessionID: id, method: method, deviceToken: deviceToken, demand: demand)
    }

    /// A signed-in session in place of `old` (session fixation), and the sign-in in the activity list.
    /// - Parameter demand: What the 2FA policy asks (issue 18). A session sent to enrolment was made by
    ///   the password typed in this very request: that is the proof adding a method needs (SPEC §2), so
    ///   the person is not asked for it again on the next page.
    private func signedIn(
        _ user: User,
        methods: [String],
        describe: String,
        userAgent: String,
        replacing old: Session?,
        demand: EnrolmentDemand? = nil
    ) async throws -> String {
        let id = try await sessions.start(
            userID: user.id,
            stage: .signedIn,
            methods: methods,
            userAgent: userAgent,
            replacing: old,
            reauthenticated: demand != nil
        )
        try await accounts.recordSignIn(user, method: describe)
        return id
    }

    enum KeyOutcome {
        /// Signed in, as with a code (`CodeOutcome.signedIn`).
        case signedIn(sessionID: String, method: TwoFactorService.Method, deviceToken: String?, demand: EnrolmentDemand?)
        /// Not an authentication response at all: a 400 or form error; nothing was counted.
        case malformed(String)
        /// Refused, counted like a wrong code.
        case refused(TwoFactorService.Verification)
    }

    /// The second step with a security key: the assertion for the challenge this half-way session was
    /// given (`WebAuthnService.authenticationOptions(user:session:)`).
    /// - Parameter responseJSON: `credential.toJSON()` of `navigator.credentials.get`, as JSON text.
    func completeSecondFactorWithKey(
        session: Session,
        user: User,
        responseJSON: String,
        trustDevice: Bool,
        userAgent: String
    ) async throws
        -> KeyOutcome
    {
        try await keyOutcome(try await keys.verifyAssertion(user: user, binding: .session(session), responseJSON: responseJSON)) { method in
            try await secondFactorPassed(session: session, user: user, method: method, trustDevice: trustDevice, userAgent: userAgent)
        }
    }

    /// The same with the response decoded from a JSON body (the API).
    func completeSecondFactorWithKey(
        session: Session,
        user: User,
        response: WebAuthnService.AuthenticationResponse,
        trustDevice: Bool,
        userAgent: String
    ) async throws -> KeyOutcome {
        try await keyOutcome(try await keys.verifyAssertion(user: user, binding: .session(session), response: response)) { method in
            try await secondFactorPassed(session: session, user: user, method: method, trustDevice: trustDevice, userAgent: userAgent)
        }
    }

    private func keyOutcome(
        _ result: WebAuthnService.AssertionResult,
        passed: (TwoFactorService.Method) async throws -> CodeOutcome
    ) async throws
        -> KeyOutcome
    {
        switch result {
        case .malformed(let why): return .malformed(why)
        case .refused(let verification): return .refused(verification)
        case .accepted(_, _, let method):
            switch try await passed(method) {
            case .signedIn(let id, let method, let deviceToken, let demand):
                return .signedIn(sessionID: id, method: method, deviceToken: deviceToken, demand: demand)
            case .refused(let verification): return .refused(verification)
            }
        }
    }

    enum PasskeyOutcome {
        /// Signed in without password or code; `sessionID` is the new session's secret id.
        case signedIn(User, sessionID: String)
        case malformed(String)
        case refused(TwoFactorService.Verification)
    }

    /// Signs in with a passkey alone (issue 17): the signed-in session a completed second factor
    /// makes, in place of any session the browser had.
    /// - Parameters:
    ///   - binding: What the options were bound to (`.browser(secret:)`: the CSRF cookie on the pages,
    ///     the API's ceremony token).
    ///   - responseJSON: `credential.toJSON()` of `navigator.credentials.get`, as JSON text.
    func signInWithPasskey(
        binding: WebAuthnService.Binding,
        responseJSON: String,
        userAgent: String,
        replacing old: Session?
    ) async throws
        -> PasskeyOutcome
    {
        try await passkeyOutcome(try await keys.verifyPasskey(binding: binding, responseJSON: responseJSON), userAgent: userAgent, replacing: old)
    }

    /// The same with the response decoded from a JSON body (the API).
    func signInWithPasskey(
        binding: WebAuthnService.Binding,
        response: WebAuthnService.AuthenticationResponse,
        userAgent: String,
        replacing old: Session?
    )
        async throws -> PasskeyOutcome
    {
        try await passkeyOutcome(try await keys.verifyPasskey(binding: binding, response: response), userAgent: userAgent, replacing: old)
    }

    private func passkeyOutcome(_ result: WebAuthnService.AssertionResult, userAgent: String, replacing old: Session?) async throws -> PasskeyOutcome
    {
        switch result {
        case .malformed(let why): return .malformed(why)
        case .refused(let verification): return .refused(verification)
        case .accepted(let user, _, let method):
            guard case .securityKey(let synced) = method else { return .refused(.rejected(retryAt: nil)) }
            // The policy's grace starts at this sign-in too (issue 18); past it, the gate closes every page.
            _ = try await policy.standingAtSignIn(of: user)
            let id = try await signedIn(user, methods: Self.passkeyMethods(synced: synced), describe: "passkey", userAgent: userAgent, replacing: old)
            return .signedIn(user, sessionID: id)
        }
    }

    static func describe(_ method: TwoFactorService.Method) -> String {
        switch method {
        case .factor(.totp): "security code (app)"
        case .factor(.sms): "security code (SMS)"
        case .factor(.recoveryPhone): "security code (recovery phone)"
        case .recoveryCode: "recovery code"
        case .securityKey: "security key"
        }
    }

    enum ReauthenticationResult: Equatable {
        /// "Sudo mode" is open; the session now has the id `sessionID` (the old one is gone).
        case confirmed(sessionID: String)
        case refused(TwoFactorService.Proof)
    }

    /// "Sudo mode" (SPEC §2): the password or a code from a confirmed factor opens 10 minutes of
    /// sensitive changes, under a new session id. A factor still being enrolled is never asked
    /// (`verify` checks confirmed factors only), so it cannot vouch for itself.
    func reauthenticate(session: Session, user: User, password: String?, code: String?) async throws -> ReauthenticationResult {
        let proof = try await twoFactor.prove(user: user, password: password, code: code, for: .reauthentication)
        guard proof == .confirmed else { return .refused(proof) }
        return .confirmed(sessionID: try await sessions.reauthenticated(session))
    }
}
