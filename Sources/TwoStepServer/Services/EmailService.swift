import Foundation
import TwoStepCore
import TwoStepStore

/// The links sent by e-mail (issue 15): proving an address, and "Forgot your password?".
///
/// Every link is 256 random bits, stored only as its SHA-256, used once in one conditional
/// statement, and ends (24 hours to verify, 30 minutes to reset: OWASP Forgot Password cheat
/// sheet). A newer link of a kind replaces the older ones, but only once it has been handed to the
/// mail server: a send that fails leaves the link that already arrived working.
struct EmailService: Sendable {
    typealias Storage = UserRepository & EmailTokenRepository & SecurityEventRepository & TrustedDeviceRepository & SessionRepository
    let store: any Storage
    let mail: MailSender
    let composer: MailComposer
    let lockout: LockoutService
    let twoFactor: TwoFactorService
    /// A security key is a second factor of a reset too (issue 17).
    let keys: WebAuthnService
    let accounts: AccountService
    let sessions: SessionService
    let now: Now

    static let verificationLifetime: TimeInterval = 24 * 3_600
    static let resetLifetime: TimeInterval = 30 * 60

    // MARK: Verifying an address

    /// A person making their own account (pages and API): the link that confirms the address goes
    /// out in the background, so signing up never waits on the mail server.
    func signUp(email: String, password: String) async throws -> Result<User, AccountService.SignUpError> {
        let result = try await accounts.signUp(email: email, password: password)
        if case .success(let user) = result { _ = try await sendVerification(to: user, background: true) }
        return result
    }

    enum SendResult: Equatable {
        case sent(to: String)
        /// "Send again" too often (the per-account budget of verification mail).
        case tooMany(retryAt: Date)
        case alreadyVerified
        /// The mail server did not take it: what it said, for the page.
        case failed(String)
    }

    /// Sends a link that proves `address` belongs to the account: at sign-up (in the background, so
    /// signing up never waits on the mail server) and on "Send again" (now, so the page can say
    /// what went wrong).
    func sendVerification(to user: User, background: Bool = false) async throws -> SendResult {
        guard let email = user.email else { return .failed("the account has no e-mail address") }
        guard user.emailVerifiedAt == nil else { return .alreadyVerified }
        // Each message costs the operator and lands in someone's inbox: a small budget per account.
        if let retryAt = try await lockout.take(.verificationMail(userID: user.id), at: now()) { return .tooMany(retryAt: retryAt) }
        return try await sendLink(.verify, user: user, to: email, background: background) { link in
            composer.verification(to: email, link: link, newAddress: false)
        }
    }

    enum VerifyResult: Equatable {
        case verified
        /// A new address now replaces the old one, which was told.
        case changed(from: String, to: String)
        /// Unknown, used, expired, or for an address the account no longer has.
        case invalid
        /// The new address was taken by another account meanwhile.
        case taken
    }

    /// Uses a verification link (from the "Confirm" button on the link's page, never on the GET
    /// itself: mail scanners open links).
    func verify(token: String) async throws -> VerifyResult {
        let time = now()
        guard
            let used = try await store.consumeEmailToken(
                hash: RandomToken.hash(token),
                purpose: .verify,
                at: time.unixTime,
                requireSecondFactor: false
            ),
            let user = try await store.user(id: used.userID)
        else { return .invalid }
        if user.email == used.email {
            guard try await store.setEmailVerified(userID: user.id, email: used.email, at: time.unixTime) else { return .invalid }
            try await store.recordEvent(userID: user.id, kind: .emailVerified, detail: used.email, at: time.unixTime)
            return .verified
        }
        // A change of address takes effect only now that the new one is proven.
        do {
            try await store.changeEmail(userID: user.id, to: used.email, at: time.unixTime)
        } catch let error as StoreError where error == .duplicate {
            return .taken
        }
        try await store.deleteEmailTokens(userID: user.id, purpose: .reset, except: nil)
        let old = user.email ?? ""
        try await store.recordEvent(userID: user.id, kind: .emailChanged, detail: "from \(old) to \(used.email)", at: time.unixTime)
        // The old address hears of it (NIST SP 800-63B §4.6): if this was not the holder, they learn
        // it from the one address the attacker could not read.
        if let oldAddress = MailAddress(old) {
            mail.sendInBackground(composer.addressChanged(to: oldAddress, newAddress: used.email, at: time))
        }
        return .changed(from: old, to: used.email)
    }

    /// Whether a verification link is still usable (its page then offers the button).
    func verificationIsUsable(token: String) async throws -> Bool {
        try await store.usableEmailToken(hash: RandomToken.hash(token), purpose: .verify, at: now().unixTime) != nil
    }

    enum ChangeResult: Equatable {
        case sent(to: String)
        case invalidAddress
        case sameAddress
        case taken
        case tooMany(retryAt: Date)
        case failed(String)
    }

    /// Starts a change of address (the caller checked re-authentication): the link goes to the new
    /// address, and nothing changes until it is used.
    func requestAddressChange(for user: User, to input: String) async throws -> ChangeResult {
        guard let email = AccountService.normalizedEmail(input), MailAddress(email) != nil else { return .invalidAddress }
        guard email != user.email else { return .sameAddress }
        // Sign-up says so too: an address that has an account is no secret here.
        guard try await store.user(email: email) == nil else { return .taken }
        if let retryAt = try await lockout.take(.verificationMail(userID: user.id), at: now()) { return .tooMany(retryAt: retryAt) }
        switch try await sendLink(
            .verify,
            user: user,
            to: email,
            background: false,
            make: { composer.verification(to: email, link: $0, newAddress: true) }
        ) {
        case .sent(let to): return .sent(to: to)
        case .failed(let reason): return .failed(reason)
        case .tooMany(let retryAt): return .tooMany(retryAt: retryAt)
        case .alreadyVerified: return .sameAddress
        }
    }

    // MARK: Forgotten password

    enum ResetRequest: Equatable {
        /// The same answer whether or not an account has the address (OWASP Forgot Password cheat sheet).
        case accepted
        /// This client asked too often.
        case tooMany(retryAt: Date)
    }

    /// "Forgot your password?": the same answer, after the same work, for any address. The message
    /// goes out in the background, so the time taken does not tell whether an account exists either.
    func requestReset(email input: String) async throws -> ResetRequest {
        let time = now()
        // Per client first: one source must not flood many addresses (OWASP: throttle per source).
        if let retryAt = try await lockout.take(.resetsFromAddress(RequestOrigin.clientAddress), at: time) { return .tooMany(retryAt: retryAt) }
        guard let email = AccountService.normalizedEmail(input) else { return .accepted }
        // Per address, known or not, so the limit says nothing about who has an account; beyond it
        // the answer stays the same and nothing is sent (no mail bombing of one inbox).
        if try await lockout.take(.resetsToAddress(email), at: time) != nil { return .accepted }
        // Only to a confirmed address: a mistyped one at sign-up must not let its real owner take the account.
        guard let user = try await store.user(email: email), user.emailVerifiedAt != nil, user.passwordHash != AccountService.noPassword,
            MailAddress(email) != nil
        else {
            return .accepted
        }
        _ = try await sendLink(.reset, user: user, to: email, background: true) { link in composer.reset(to: email, link: link) }
        return .accepted
    }

    enum ResetStage: Equatable {
        /// Unknown, used or expired.
        case invalid
        /// The account has 2FA: a second factor first (as GitHub asks), or the link alone would take
        /// over an account whose password and mailbox are both known to an attacker.
        case secondFactor(User)
        case newPassword(User)
    }

    /// Where a reset link stands. Nothing is used up by looking.
    func resetStage(token: String) async throws -> ResetStage {
        guard let link = try await store.usableEmailToken(hash: RandomToken.hash(token), purpose: .reset, at: now().unixTime),
            let user = try await store.user(id: link.userID)
        else { return .invalid }
        if link.secondFactorAt == nil, try await twoFactor.isEnabled(for: user) { return .secondFactor(user) }
        return .newPassword(user)
    }

    enum SecondFactorResult: Equatable {
        case accepted
        case invalid
        case refused(TwoFactorService.Verification)
    }

    /// The second factor of a reset: any kind the account has (app, SMS, recovery phone, recovery
    /// code), through the one verification path with its lockout and replay guard.
    func resetSecondFactor(token: String, code: String) async throws -> SecondFactorResult {
        guard let link = try await store.usableEmailToken(hash: RandomToken.hash(token), purpose: .reset, at: now().unixTime),
            let user = try await store.user(id: link.userID)
        else { return .invalid }
        let verification = try await twoFactor.verify(code, user: user)
        guard case .accepted = verification else { return .refused(verification) }
        return try await store.markSecondFactor(emailTokenID: link.id, at: now().unixTime) ? .accepted : .invalid
    }

    /// The options for giving a reset's second factor with a security key, bound to the link (the
    /// person is not signed in: the link's token is the one secret their browser holds). `nil` when the
    /// link is not usable or the account has no key.
    func resetKeyOptions(token: String) async throws -> String? {
        guard let link = try await store.usableEmailToken(hash: RandomToken.hash(token), purpose: .reset, at: now().unixTime),
            let user = try await store.user(id: link.userID)
        else { return nil }
        return try await keys.authenticationOptions(user: user, binding: .resetLink(token: token))
    }

    /// The reset's second factor with a security key (`credential.toJSON()` of the assertion), through
    /// the one key verification path with the lockout of wrong codes.
    func resetSecondFactorWithKey(token: String, responseJSON: String) async throws -> SecondFactorResult {
        guard let link = try await store.usableEmailToken(hash: RandomToken.hash(token), purpose: .reset, at: now().unixTime),
            let user = try await store.user(id: link.userID)
        else { return .invalid }
        switch try await keys.verifyAssertion(user: user, binding: .resetLink(token: token), responseJSON: responseJSON) {
        case .accepted:
            return try await store.markSecondFactor(emailTokenID: link.id, at: now().unixTime) ? .accepted : .invalid
        // Not counted (nothing was compared), and told like a wrong key.
        case .malformed: return .refused(.rejected(retryAt: nil))
        case .refused(let verification): return .refused(verification)
        }
    }

    /// Texts a code for the reset's second factor.
    func sendResetCode(token: String, recoveryPhone: Bool) async throws -> SMSCodeService.SendResult? {
        guard let link = try await store.usableEmailToken(hash: RandomToken.hash(token), purpose: .reset, at: now().unixTime),
            let user = try await store.user(id: link.userID)
        else { return nil }
        return try await twoFactor.sendSignInCode(to: user, recoveryPhone: recoveryPhone)
    }

    enum ResetResult: Equatable {
        case done
        case invalid
        case passwordLength
        case secondFactorRequired
    }

    /// Sets the new password and uses the link up. Every session and API token ends and every
    /// trusted device is forgotten: whoever knew the old password may hold them.
    func completeReset(token: String, password: String) async throws -> ResetResult {
        let time = now()
        guard AccountService.isAcceptable(password: password) else { return .passwordLength }
        let hash = RandomToken.hash(token)
        guard let link = try await store.usableEmailToken(hash: hash, purpose: .reset, at: time.unixTime),
            let user = try await store.user(id: link.userID)
        else { return .invalid }
        let needsSecondFactor = try await twoFactor.isEnabled(for: user)
        if needsSecondFactor, link.secondFactorAt == nil { return .secondFactorRequired }
        guard try await store.consumeEmailToken(hash: hash, purpose: .reset, at: time.unixTime, requireSecondFactor: needsSecondFactor) != nil else {
            return .invalid
        }
        try await store.setPasswordHash(accounts.hasher.hash(password), userID: user.id)
        try await store.deleteEmailTokens(userID: user.id, purpose: .reset, except: nil)
        try await store.deleteTrustedDevices(userID: user.id)
        try await sessions.endAll(userID: user.id)
        // The reset proves the mailbox: a wrong-password lock on the address ends with it.
        try await lockout.clear([.password(of: user)])
        try await store.recordEvent(
            userID: user.id,
            kind: .passwordReset,
            detail: "by e-mail link; every session ended, trusted devices revoked",
            at: time.unixTime
        )
        return .done
    }

    // MARK: Sending a link

    /// Makes a link, hands it to the mail server, and only then forgets the older links of its
    /// kind; when the send fails the new link is deleted (it never arrived) and the old ones stay.
    private func sendLink(
        _ purpose: EmailTokenPurpose,
        user: User,
        to email: String,
        background: Bool,
        make: (String) -> MailMessage?
    ) async throws -> SendResult {
        let token = RandomToken.generate()
        let time = now()
        let lifetime = purpose == .verify ? Self.verificationLifetime : Self.resetLifetime
        let path = purpose == .verify ? "/verify-email" : "/reset"
        guard let message = make(composer.link(path, token: token)) else { return .failed("not an address mail can go to") }
        let row = try await store.createEmailToken(
            userID: user.id,
            purpose: purpose,
            tokenHash: RandomToken.hash(token),
            email: email,
            at: time.unixTime,
            expiresAt: time.addingTimeInterval(lifetime).unixTime
        )
        let store = store
        let settle: @Sendable (MailTransportError?) async -> Void = { error in
            if error == nil {
                try? await store.deleteEmailTokens(userID: user.id, purpose: purpose, except: row.id)
            } else {
                try? await store.deleteEmailToken(id: row.id)
            }
        }
        if background {
            mail.sendInBackground(message, completion: settle)
            return .sent(to: email)
        }
        let error = await mail.send(message)
        await settle(error)
        if let error { return .failed(error.description) }
        return .sent(to: email)
    }
}
