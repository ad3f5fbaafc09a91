import Foundation
import TwoStepCore
import TwoStepStore

/// Second factors: enrolling an authenticator app, checking codes at sign-in with the replay guard
/// and the per-account lockout, and turning two-factor authentication off (SPEC F2, F4, F7, §2).
///
/// Every factor kind goes through `verify(_:user:)`; a new method (SMS) adds a `FactorKind` case
/// and a branch in `check`, not another path.
struct TwoFactorService: Sendable {
    /// Factors, the per-account failure count, and what turning 2FA off removes (devices, codes).
    typealias Storage = FactorRepository & UserRepository & TrustedDeviceRepository & RecoveryCodeRepository & SecurityEventRepository
        & WebAuthnRepository
    let store: any Storage
    let keyRing: KeyRing
    let issuer: String
    let window: Int
    let attempts: LockoutService
    let recoveryCodes: RecoveryCodeService
    let smsCodes: SMSCodeService
    /// Checks the password half of "your password or a current security code".
    let passwords: PasswordCheckService
    /// Turning 2FA off and an operator reset end sessions.
    let sessions: SessionService
    let metrics: ServerMetrics
    let now: Now
    /// `--allowed-methods` (issue 18): a method not listed cannot be enrolled.
    var allowedMethods = Set(TwoFactorMethod.allCases)

    /// How long a shown QR code stays usable before the key must be made again.
    static let enrolmentLifetime: TimeInterval = 15 * 60

    // MARK: Status

    func confirmedFactors(of user: User) async throws -> [Factor] {
        try await store.factors(userID: user.id).filter(\.isConfirmed)
    }

    /// Whether a primary method (app, SMS or a security key) is on; a recovery phone alone is only a fallback.
    func isEnabled(for user: User) async throws -> Bool {
        if try await confirmedFactors(of: user).contains(where: { $0.kind != .recoveryPhone }) { return true }
        return try await !store.webAuthnCredentials(userID: user.id).isEmpty
    }

    /// The confirmed factor of a kind, if any.
    func factor(_ kind: FactorKind, of user: User) async throws -> Factor? {
        try await confirmedFactors(of: user).first { $0.kind == kind }
    }

    /// An account's two-factor state, as every page and API answer shows it.
    struct Status: Sendable {
        /// The confirmed factors' kinds, oldest first.
        let kinds: [FactorKind]
        /// The masked number of the SMS method, if it is on.
        let smsPhone: String?
        /// The masked recovery phone, if there is one.
        let recoveryPhone: String?
        /// How many security keys (passkeys included) are registered (issue 17).
        var securityKeys = 0
        /// How many of them are passkeys.
        var passkeys = 0

        /// Whether a primary method (app, SMS or a security key) is on; a recovery phone alone is only a fallback.
        var enabled: Bool { method != nil || securityKeys > 0 }

        /// The primary method, the app before SMS.
        var method: FactorKind? {
            kinds.contains(.totp) ? .totp : kinds.contains(.sms) ? .sms : nil
        }
    }

    func status(of user: User) async throws -> Status {
        let factors = try await confirmedFactors(of: user)
        func masked(_ kind: FactorKind) -> String? {
            factors.first { $0.kind == kind }?.phone.flatMap(PhoneNumber.init)?.masked
        }
        let keys = try await store.webAuthnCredentials(userID: user.id)
        return Status(
            kinds: factors.map(\.kind),
            smsPhone: masked(.sms),
            recoveryPhone: masked(.recoveryPhone),
            securityKeys: keys.count,
            passkeys: keys.filter(\.isPasskey).count
        )
    }

    /// Whether a code texted at sign-in is out and still usable (the page then offers "Resend code").
    func hasActiveSignInCode(for user: User) async throws -> Bool {
        guard let sms = try await factor(.sms, of: user) else { return false }
        return try await smsCodes.hasActiveCode(for: sms)
    }

    enum RecoveryCodeGeneration: Equatable {
        case allowed
        /// Recovery codes are the fallback of a second factor: there must be one first (SPEC F9).
        case notEnabled
    }

    /// Whether `user` may generate recovery codes now; the pages and both APIs ask.
    func recoveryCodeGeneration(for user: User) async throws -> RecoveryCodeGeneration {
        try await isEnabled(for: user) ? .allowed : .notEnabled
    }

    // MARK: Enrolling an authenticator app

    /// What the App page shows: the key as a QR code and as text, never stored unsealed.
    struct AppEnrolment: Sendable {
        let factorID: Int64
        let uri: OTPKeyURI
        let expiresAt: Date

        /// The base32 key in groups of four, for typing into an app by hand.
        var manualKey: String {
            let key = Array(Base32.encode(uri.secret, padding: false))
            return stride(from: 0, to: key.count, by: 4).map { String(key[$0..<min($0 + 4, key.count)]) }.joined(separator: " ")
        }

        var qrSVG: String {
            (try? QRCode(text: uri.description, errorCorrection: .medium))?
                .svg(title: "QR code with your TwoStep key: scan it with your authenticator app", moduleSize: 5) ?? ""
        }
    }

    /// The sealed-value context binds a secret to its user: a value copied to another account's row does not open.
    static func sealContext(_ userID: Int64) -> String { "totp:user:\(userID)" }

    /// The unexpired pending enrolment, if any (a wrong code keeps it; SPEC F4).
    func pendingAppEnrolment(for user: User) async throws -> AppEnrolment? {
        let time = now()
        for factor in try await store.factors(userID: user.id) where !factor.isConfirmed && factor.kind == .totp {
            let expiresAt = Date(unixTime: factor.createdAt).addingTimeInterval(Self.enrolmentLifetime)
            guard time < expiresAt, let sealed = factor.sealedSecret else { continue }
            let secret = try keyRing.open(sealed, context: Self.sealContext(user.id))
            let uri = OTPKeyURI(
                kind: .totp(period: factor.period),
                secret: secret,
                account: user.name,
                issuer: issuer,
                algorithm: OTPAlgorithm(rawValue: factor.algorithm) ?? .sha1,
                digits: factor.digits
            )
            return AppEnrolment(factorID: factor.id, uri: uri, expiresAt: expiresAt)
        }
        return nil
    }

    /// Returns the pending enrolment, or makes a new 20-byte key (SPEC §2) in place of expired ones.
    func startAppEnrolment(for user: User) async throws -> AppEnrolment {
        if let pending = try await pendingAppEnrolment(for: user) { return pending }
        for factor in try await store.factors(userID: user.id) where !factor.isConfirmed {
            try await store.deleteFactor(id: factor.id)
        }
        let secret = SecureRandom.bytes(20)
        let factor = try await store.createFactor(
            userID: user.id,
            kind: .totp,
            sealedSecret: keyRing.seal(secret, context: Self.sealContext(user.id)),
            phone: nil,
            algorithm: OTPAlgorithm.sha1.rawValue,
            digits: 6,
            period: 30,
            at: now().unixTime
        )
        return AppEnrolment(
            factorID: factor.id,
            uri: OTPKeyURI(secret: secret, account: user.name, issuer: issuer),
            expiresAt: now().addingTimeInterval(Self.enrolmentLifetime)
        )
    }

    /// An authenticator-app key brought from another system.
    struct ImportedKey: Sendable {
        let secret: [UInt8]
        let algorithm: OTPAlgorithm
        let digits: Int
        let period: Int

        /// Which part of an imported key is wrong, and how.
        struct Problem: Error {
            let field: String
            let message: String
        }

        /// Checks a key as written in an import (base32, names, numbers); absent parts take the defaults.
        init(base32 text: String, algorithm: String?, digits: Int?, period: Int?) throws(Problem) {
            guard let secret = try? Base32.decode(text), (10...128).contains(secret.count) else {
                throw Problem(field: "secret", message: "must be base32 of 10 to 128 bytes")
            }
            guard let algorithm = OTPAlgorithm(rawValue: (algorithm ?? "sha1").uppercased()) else {
                throw Problem(field: "algorithm", message: "must be sha1, sha256 or sha512")
            }
            let digits = digits ?? 6
            guard (6...8).contains(digits) else { throw Problem(field: "digits", message: "must be 6, 7 or 8") }
            let period = period ?? 30
            guard period == 30 || period == 60 else { throw Problem(field: "period", message: "must be 30 or 60") }  // SPEC §2
            self.secret = secret
            self.algorithm = algorithm
            self.digits = digits
            self.period = period
        }
    }

    /// Turns the app on with a key the user's app already holds (a relying service moving its
    /// users over), confirmed at once: the user proved it to the old system.
    func importApp(for user: User, key: ImportedKey) async throws {
        let factor = try await store.createFactor(
            userID: user.id,
            kind: .totp,
            sealedSecret: keyRing.seal(key.secret, context: Self.sealContext(user.id)),
            phone: nil,
            algorithm: key.algorithm.rawValue,
            digits: key.digits,
            period: key.period,
            at: now().unixTime
        )
        try await store.confirmFactor(id: factor.id, lastUsedStep: nil, at: now().unixTime)
        try await store.recordEvent(userID: user.id, kind: .twoFactorEnabled, detail: "authenticator app (key imported)", at: now().unixTime)
        metrics.enrolled(.totp)
    }

    enum ActivationResult: Equatable {
        case activated
        case wrongCode
        /// No enrolment is pending (never started, or older than 15 minutes).
        case expired
    }

    /// Turns the app on once the person shows a code from it. The code's step is recorded, so the
    /// same code cannot then sign in (RFC 6238 §5.2).
    func activateApp(user: User, code: String) async throws -> ActivationResult {
        guard let enrolment = try await pendingAppEnrolment(for: user) else { return .expired }
        let totp = try TOTP(secret: enrolment.uri.secret)
        guard case .accepted(let step, _) = totp.verify(code, at: now(), window: window) else { return .wrongCode }
        try await store.confirmFactor(id: enrolment.factorID, lastUsedStep: Int64(step), at: now().unixTime)
        try await attempts.clear([.codes(userID: user.id)])
        try await methodEnrolled(user, method: .app)
        try await store.recordEvent(userID: user.id, kind: .twoFactorEnabled, detail: "authenticator app", at: now().unixTime)
        metrics.enrolled(.totp)
        return .activated
    }

    // MARK: Enrolling a phone (the SMS method or the recovery phone)

    enum EnrolmentStart: Equatable {
        case allowed
        /// A primary method (app or SMS) while two-factor authentication is on: disable first
        /// (changing the method needs proof, F7).
        case notWhileEnabled
        /// The operator does not allow this method (`--allowed-methods`).
        case methodNotAllowed
    }

    /// Whether `user` may start enrolling a factor of `kind` now; the pages and both APIs ask.
    /// (Re-authentication, which every addition needs, is `SessionService.access(for:in:)`.)
    func enrolmentStart(_ kind: FactorKind, for user: User) async throws -> EnrolmentStart {
        if let method = kind.policyMethod, !allowedMethods.contains(method) { return .methodNotAllowed }
        switch kind {
        case .totp, .sms:
            // Security keys are not "the method" (several may sit beside the app or SMS, issue 17), so
            // an account with keys alone may still add the app or SMS.
            guard try await confirmedFactors(of: user).contains(where: { $0.kind == .totp || $0.kind == .sms }) else { return .allowed }
            // Switching (issue 18): when every method that is on is one the operator no longer allows,
            // an allowed one may be added without disabling first (`methodEnrolled` then removes the old).
            return try await policyMethods(of: user).isDisjoint(with: allowedMethods) ? .allowed : .notWhileEnabled
        case .recoveryPhone: return .allowed
        }
    }

    /// Makes a pending SMS factor (or recovery phone) for `phone` and texts it a code.
    /// An earlier pending phone is replaced only once the new code is out, so a refused send
    /// (a limit, the destination) leaves the code already sent usable.
    func startPhoneEnrolment(for user: User, phone: PhoneNumber, kind: FactorKind) async throws -> SMSCodeService.SendResult {
        let earlier = try await store.factors(userID: user.id).filter { !$0.isConfirmed && $0.kind == kind }
        let factor = try await store.createFactor(
            userID: user.id,
            kind: kind,
            sealedSecret: nil,
            phone: phone.e164,
            algorithm: "",
            digits: 6,
            period: 0,
            at: now().unixTime
        )
        let result = try await smsCodes.send(for: factor, purpose: kind == .sms ? .enrolment : .recoveryPhone, issuer: issuer)
        guard case .sent = result else {
            try await store.deleteFactor(id: factor.id)
            return result
        }
        for old in earlier { try await store.deleteFactor(id: old.id) }
        return result
    }

    /// The unexpired pending phone factor of a kind.
    func pendingPhone(for user: User, kind: FactorKind) async throws -> Factor? {
        let time = now()
        return try await store.factors(userID: user.id).last { factor in
            !factor.isConfirmed && factor.kind == kind
                && time < Date(unixTime: factor.createdAt).addingTimeInterval(Self.enrolmentLifetime)
        }
    }

    /// Sends another code to the pending phone (after the cooldown).
    func resendEnrolmentCode(for user: User, kind: FactorKind) async throws -> SMSCodeService.SendResult? {
        guard let factor = try await pendingPhone(for: user, kind: kind) else { return nil }
        return try await smsCodes.send(for: factor, purpose: kind == .sms ? .enrolment : .recoveryPhone, issuer: issuer)
    }

    /// Confirms a pending phone with the code sent to it; a confirmed recovery phone replaces the old one.
    func activatePhone(user: User, code: String, kind: FactorKind) async throws -> ActivationResult {
        guard let factor = try await pendingPhone(for: user, kind: kind) else { return .expired }
        guard try await smsCodes.check(code, factor: factor) else { return .wrongCode }
        let previous = try await confirmedFactors(of: user).filter { $0.kind == kind }
        try await store.confirmFactor(id: factor.id, lastUsedStep: nil, at: now().unixTime)
        for old in previous { try await store.deleteFactor(id: old.id) }
        let masked = PhoneNumber(factor.phone ?? "")?.masked ?? ""
        switch kind {
        case .recoveryPhone:
            try await store.recordEvent(
                userID: user.id,
                kind: previous.isEmpty ? .recoveryPhoneAdded : .recoveryPhoneChanged,
                detail: masked,
                at: now().unixTime
            )
        default:
            try await attempts.clear([.codes(userID: user.id)])
            try await methodEnrolled(user, method: .sms)
            try await store.recordEvent(userID: user.id, kind: .twoFactorEnabled, detail: "SMS to \(masked)", at: now().unixTime)
        }
        metrics.enrolled(kind == .recoveryPhone ? .recoveryPhone : .sms)
        return .activated
    }

    /// A method is on: an account an operator reset may do everything again.
    /// A method is on: an account an operator reset may do everything again, and a switch away from
    /// methods the operator no longer allows (issue 18) ends with the old ones gone: left on, they
    /// would still sign in with what the policy refuses.
    /// - Parameter method: The method just turned on (never removed, even if it is not allowed).
    func methodEnrolled(_ user: User, method: TwoFactorMethod) async throws {
        if user.enrolmentRequired { try await store.setEnrolmentRequired(false, userID: user.id) }
        guard allowedMethods.contains(method) else { return }
        for factor in try await confirmedFactors(of: user) {
            guard let old = factor.kind.policyMethod, old != method, !allowedMethods.contains(old) else { continue }
            try await store.deleteFactor(id: factor.id)
        }
        if method != .key, !allowedMethods.contains(.key) { try await store.deleteWebAuthnCredentials(userID: user.id) }
    }

    /// The primary methods that are on, as `--allowed-methods` names them (a recovery phone is no method).
    func policyMethods(of user: User) async throws -> Set<TwoFactorMethod> {
        var methods = Set(try await confirmedFactors(of: user).compactMap(\.kind.policyMethod))
        if try await !store.webAuthnCredentials(userID: user.id).isEmpty { methods.insert(.key) }
        return methods
    }

    /// - Returns: Whether there was a recovery phone to remove.
    func removeRecoveryPhone(user: User) async throws -> Bool {
        let phones = try await store.factors(userID: user.id).filter { $0.kind == .recoveryPhone }
        guard !phones.isEmpty else { return false }
        for factor in phones { try await store.deleteFactor(id: factor.id) }
        try await store.recordEvent(userID: user.id, kind: .recoveryPhoneRemoved, detail: "", at: now().unixTime)
        return true
    }

    /// At sign-in: texts a code to the SMS method's phone, or to the recovery phone.
    func sendSignInCode(to user: User, recoveryPhone: Bool) async throws -> SMSCodeService.SendResult? {
        guard let factor = try await factor(recoveryPhone ? .recoveryPhone : .sms, of: user) else { return nil }
        return try await smsCodes.send(for: factor, purpose: recoveryPhone ? .recoveryPhone : .signIn, issuer: issuer)
    }

    // MARK: Checking a code

    /// Which kind of proof passed.
    enum Method: Equatable {
        /// A code from a factor: the app, an SMS, or the recovery phone.
        case factor(FactorKind)
        /// A recovery code, with how many unused ones are left.
        case recoveryCode(remaining: Int)
        /// A security key or passkey (issue 17); `synced` when the authenticator reported the key as
        /// backed up (W3C WebAuthn L3 §6.1.3, BS flag): it then lives outside any one device.
        case securityKey(synced: Bool)
    }

    enum Verification: Equatable {
        case accepted(Method)
        /// Wrong, malformed or a replay. `retryAt` is set when this failure started a wait.
        case rejected(retryAt: Date?)
        /// Too many failures: no code is checked before `retryAt`.
        case wait(retryAt: Date)
        /// 100 failures: only a recovery code or an operator can unlock.
        case locked

        var isAccepted: Bool {
            if case .accepted = self { true } else { false }
        }
    }

    /// Checks a second-factor code for an account — an app code, or a recovery code (told apart by
    /// their shapes: 6–8 digits, or 10 letters and digits). The attempt is reserved against the
    /// account's budget for that kind of code *before* anything is compared (one atomic write, see
    /// `LockoutService`), so concurrent guesses cannot exceed the policy; every failure, replays
    /// included, stays counted, and a success clears the run.
    ///
    /// The source is throttled too, so that one source cannot lock out many accounts (OWASP): a
    /// client address pays a token for every failure, before the account is touched; an API key
    /// (`/validate`, where every user of a relying service comes through one key) pays one for each
    /// failure that would put an account into a wait.
    /// - Parameters:
    ///   - user: The account.
    ///   - factors: Its confirmed factors, when the caller read them with the user (validate does).
    ///   - apiKey: The relying service's key name on `/validate`; otherwise the source is the
    ///     request's client address (`RequestOrigin`).
    func verify(_ code: String, user: User, factors known: [Factor]? = nil, apiKey: String? = nil) async throws -> Verification {
        if let recoveryCode = RecoveryCode(code) {
            return try await attempt(user: user, kind: .recoveryCode, apiKey: apiKey) { _, _ in
                guard let remaining = try await recoveryCodes.use(recoveryCode, user: user) else { return .rejected() }
                // A recovery code also ends a lock of the codes (NIST SP 800-63B §5.2.2).
                return .accepted(.recoveryCode(remaining: remaining), clearing: [.codes(userID: user.id), .recoveryCodes(userID: user.id)])
            }
        }
        let factors: [Factor]
        if let known { factors = known } else { factors = try await confirmedFactors(of: user) }
        // The fast path's comparisons are reused once the reservation has decided, a moment later:
        // each app factor's key is opened once a check.
        var verdicts: [Int64: TOTPVerification] = [:]
        if apiKey != nil || RequestOrigin.clientAddress.isEmpty,
            try await claimWithoutFailures(code, factors: factors, user: user, verdicts: &verdicts)
        {
            metrics.secondFactorCheck(.totp, .valid)
            return .accepted(.factor(.totp))
        }
        return try await attempt(user: user, kind: .code, apiKey: apiKey) { time, method in
            let methods = Set(factors.map { $0.kind == .totp ? ServerMetrics.Method.totp : .sms })
            if methods.count == 1, let only = methods.first { method = only }
            var replayed = false
            for factor in factors {
                switch try await check(code, factor: factor, user: user, at: time, verdict: verdicts[factor.id]) {
                case .accepted:
                    method = factor.kind == .totp ? .totp : .sms
                    return .accepted(.factor(factor.kind), clearing: [.codes(userID: user.id)])
                case .replayed: replayed = true
                case .rejected: break
                }
            }
            return replayed ? .replayed : .rejected()
        }
    }

    /// The fast path of a right app code (issue 19), taken only where the source pays no token up
    /// front (an API key, or no client address): when the code matches and the account's code budget
    /// has no row at all — no failures, no attempt in flight — the budget allows this attempt
    /// whatever it is, so reserving it and clearing it again (two writes) would change nothing. The
    /// step is claimed in one statement that also requires the budget to be empty, so a reservation
    /// that lands first (a concurrent guess) sends this code the reserving way. Nothing is told
    /// before that statement decides; a wrong code, a replay, or any row in the budget returns
    /// `false` and the caller reserves, compares and counts as always (NIST SP 800-63B §5.2.2).
    /// - Parameter verdicts: Receives the comparison with each app factor made here, by factor id.
    private func claimWithoutFailures(
        _ code: String,
        factors: [Factor],
        user: User,
        verdicts: inout [Int64: TOTPVerification]
    ) async throws -> Bool {
        let time = now()
        for factor in factors where factor.kind == .totp {
            let verdict = try appVerdict(code, factor: factor, user: user, at: time)
            verdicts[factor.id] = verdict
            guard case .accepted(let step, _) = verdict else { continue }
            return try await store.claimStep(Int64(step), factorID: factor.id, unlessBudgetHasRow: LockoutService.Budget.codes(userID: user.id).key)
        }
        return false
    }

    /// What was attempted, for the budget, the metrics and the activity list.
    enum AttemptKind: Equatable {
        /// An app, SMS or recovery-phone code.
        case code
        case recoveryCode
        /// A security key's signed answer (issue 17): it shares the codes' budget, so a key adds no
        /// second allowance of guesses.
        case securityKey
    }

    /// What one comparison came to, before the bookkeeping.
    enum AttemptCheck {
        /// Passed; the budgets to clear.
        case accepted(Method, clearing: [LockoutService.Budget])
        /// A proof that was right once and has been used already.
        case replayed
        /// Wrong; `detail` says why, for the activity list, when it is more than "wrong".
        case rejected(detail: String? = nil)
    }

    /// The bookkeeping every second-factor attempt goes through, codes and security keys alike, so a
    /// new kind of proof cannot skip a rule: the source's token, the reservation against the
    /// account's budget *before* `check` compares anything, clearing on success, and on failure the
    /// event, the metrics and the wait or lock.
    /// - Parameter check: Compares the proof, at the time given; may set the metrics' method once
    ///   it knows it.
    func attempt(
        user: User,
        kind: AttemptKind,
        apiKey: String? = nil,
        check: (Date, inout ServerMetrics.Method) async throws -> AttemptCheck
    ) async throws -> Verification {
        let time = now()
        // Each outcome is counted once, by method and result (issue 16: twostep_second_factor_checks_total).
        var method: ServerMetrics.Method =
            switch kind {
            case .code: .unknown
            case .recoveryCode: .recoveryCode
            case .securityKey: .securityKey
            }
        func counted(_ verification: Verification, _ result: ServerMetrics.CheckResult) -> Verification {
            metrics.secondFactorCheck(method, result)
            return verification
        }
        let budget: LockoutService.Budget = kind == .recoveryCode ? .recoveryCodes(userID: user.id) : .codes(userID: user.id)
        let address = RequestOrigin.clientAddress
        let source: LockoutService.Source? =
            if let apiKey { .apiKey(name: apiKey) } else if !address.isEmpty { .codesFromAddress(address) } else { nil }
        var tokenTaken = false
        if case .codesFromAddress = source, let source {
            if let retryAt = try await attempts.take(source, at: time) { return counted(.wait(retryAt: retryAt), .waiting) }
            tokenTaken = true
        }
        let reservation = try await attempts.reserve(budget, at: time)
        let reserved: LockoutPolicy.Failures
        switch reservation {
        case .reserved(let failures, _): reserved = failures
        case .refused(let refusal):
            if tokenTaken, let source { try await attempts.giveBack(source, at: time) }
            if case .wait(let retryAt) = refusal { return counted(.wait(retryAt: retryAt), .waiting) }
            return counted(.locked, .locked)
        }
        if case .apiKey = source, let source, attempts.startsWait(budget, reserved: reserved) {
            if let retryAt = try await attempts.take(source, at: time) {
                try await attempts.cancel(budget, reservation, at: time)
                return counted(.wait(retryAt: retryAt), .waiting)
            }
            tokenTaken = true
        }
        func succeeded(_ budgets: [LockoutService.Budget]) async throws {
            try await attempts.clear(budgets)
            if tokenTaken, let source { try await attempts.giveBack(source, at: time) }
        }

        let outcome = try await check(time, &method)
        var replayed = false
        var detail: String?
        switch outcome {
        case .accepted(let passed, let budgets):
            try await succeeded(budgets)
            return counted(.accepted(passed), .valid)
        case .replayed: replayed = true
        case .rejected(let why): detail = why
        }

        let wrong =
            switch kind {
            case .code: "wrong code"
            case .recoveryCode: "wrong recovery code"
            case .securityKey: "security key refused"
            }
        try await store.recordEvent(
            userID: user.id,
            kind: replayed ? .secondFactorReplayed : .secondFactorFailed,
            detail: replayed ? "a code that was already used" : detail.map { wrong + ": " + $0 } ?? wrong,
            at: time.unixTime
        )
        let what =
            switch kind {
            case .code: "wrong codes"
            case .recoveryCode: "wrong recovery codes"
            case .securityKey: "refused security keys"
            }
        let result: ServerMetrics.CheckResult = replayed ? .replayed : .wrong
        switch attempts.afterFailure(budget, reserved: reserved, at: time) {
        case .allowed:
            return counted(.rejected(retryAt: nil), result)
        case .wait(let retryAt):
            metrics.lockoutStarted(kind == .recoveryCode ? .recoveryCodes : .codes)
            try await store.recordEvent(
                userID: user.id,
                kind: .lockedOut,
                detail: "\(reserved.recent.count) \(what) within a day",
                at: time.unixTime
            )
            return counted(.rejected(retryAt: retryAt), result)
        case .locked:
            metrics.lockoutStarted(kind == .recoveryCode ? .recoveryCodes : .codes)
            try await store.recordEvent(userID: user.id, kind: .lockedOut, detail: "\(reserved.consecutive) \(what): locked", at: time.unixTime)
            return counted(.locked, result)
        }
    }

    private enum FactorCheck { case accepted, replayed, rejected }

    /// - Parameter verdict: The app code's comparison when validate's fast path made it already.
    private func check(_ code: String, factor: Factor, user: User, at time: Date, verdict: TOTPVerification?) async throws -> FactorCheck {
        switch factor.kind {
        case .sms, .recoveryPhone:
            return try await smsCodes.check(code, factor: factor) ? .accepted : .rejected
        case .totp:
            switch try verdict ?? appVerdict(code, factor: factor, user: user, at: time) {
            case .accepted(let step, _):
                // The read above may be stale: only the request whose conditional update lands may pass.
                return try await store.claimStep(Int64(step), factorID: factor.id) ? .accepted : .replayed
            case .replayed: return .replayed
            case .rejected: return .rejected
            }
        }
    }

    /// An app code against an app factor: its sealed key opened for this account, within the
    /// window, and never a step at or before the last one used (RFC 6238 §5.2). A factor without
    /// a key refuses every code.
    private func appVerdict(_ code: String, factor: Factor, user: User, at time: Date) throws -> TOTPVerification {
        guard let sealed = factor.sealedSecret else { return .rejected }
        let totp = try TOTP(
            secret: try keyRing.open(sealed, context: Self.sealContext(user.id)),
            algorithm: OTPAlgorithm(rawValue: factor.algorithm) ?? .sha1,
            digits: factor.digits,
            period: factor.period
        )
        return totp.verify(code, at: time, window: window, lastUsedStep: factor.lastUsedStep.map(UInt64.init))
    }

    // MARK: "Your password or a current security code"

    /// The answer to "your password or a current security code", which turning 2FA off (SPEC F7) and
    /// re-authentication (SPEC §2) both ask.
    enum Proof: Equatable {
        case confirmed
        case wrongPassword
        /// The code was refused (wrong, or the lockout).
        case code(Verification)
        /// Neither a password nor a code was given: never a bare click (SPEC F7).
        case proofMissing
        case tooManyAttempts(retryAt: Date?)
    }

    /// Checks the password if one is given (throttled and logged, `PasswordCheckService`), else the
    /// code (with the lockout and replay guard of sign-in).
    func prove(user: User, password: String?, code: String?, for purpose: PasswordCheckService.Purpose) async throws -> Proof {
        if let password, !password.isEmpty {
            switch try await passwords.check(password, against: user.passwordHash, email: user.email ?? "", user: user, purpose: purpose) {
            case .correct: return .confirmed
            case .wrong: return .wrongPassword
            case .tooManyAttempts(let retryAt): return .tooManyAttempts(retryAt: retryAt)
            }
        }
        guard let code, !code.isEmpty else { return .proofMissing }
        let verification = try await verify(code, user: user)
        return verification.isAccepted ? .confirmed : .code(verification)
    }

    // MARK: Turning it off

    enum DisableResult: Equatable {
        /// Off; every other session and API token of the account is ended, and this one has the new id `sessionID`.
        case disabled(sessionID: String)
        case refused(Proof)
    }

    /// Turns two-factor authentication off after the current password or a current code, revokes
    /// every trusted device and ends every other session (SPEC F14: whoever signed in with the
    /// second factor's help must sign in again under the weaker rule).
    func disable(session: Session, user: User, password: String?, code: String?) async throws -> DisableResult {
        let proof = try await prove(user: user, password: password, code: code, for: .disable)
        guard proof == .confirmed else { return .refused(proof) }
        try await store.deleteFactors(userID: user.id)
        // Security keys and passkeys are methods too: off means none is left to sign in with.
        try await store.deleteWebAuthnCredentials(userID: user.id)
        try await store.deleteTrustedDevices(userID: user.id)
        try await store.deleteRecoveryCodes(userID: user.id)
        try await store.recordEvent(
            userID: user.id,
            kind: .twoFactorDisabled,
            detail: "trusted devices and recovery codes removed, other sessions ended",
            at: now().unixTime
        )
        return .disabled(sessionID: try await sessions.endOthers(keeping: session))
    }

    /// `twostep user unlock`: the documented answer to a lockout (NIST SP 800-63B §5.2.2). It clears
    /// the waits and the lock and nothing else: the factors stay, so a password alone still does not sign in.
    /// - Parameters:
    ///   - actor: Who did it, as the activity list names them (`operator alice`, `support ann@example.com`).
    ///   - reason: Why, when the actor gave one (the help-desk console asks; issue 18).
    func operatorUnlock(user: User, by actor: String, reason: String? = nil) async throws {
        try await attempts.unlock(user)
        try await store.recordEvent(
            userID: user.id,
            kind: .operatorUnlock,
            detail: "waits and locks cleared by \(actor)" + Self.because(reason),
            at: now().unixTime
        )
    }

    /// `twostep user reset-2fa` and the help desk's reset (issue 18): the way out of a lost second
    /// factor (NIST SP 800-63B §5.2.2). Every session and API token ends, and the next sign-in must
    /// enrol a method before anything else, so nobody keeps using the account under the weaker rule.
    /// - Parameters:
    ///   - actor: Who ran it (recorded in the security activity), as in ``operatorUnlock(user:by:reason:)``.
    ///   - reason: Why (the console requires one).
    func operatorReset(user: User, by actor: String, reason: String? = nil) async throws {
        try await store.deleteFactors(userID: user.id)
        // A lost or stolen key is a reason for the reset: it must not sign in afterwards.
        try await store.deleteWebAuthnCredentials(userID: user.id)
        try await store.deleteTrustedDevices(userID: user.id)
        try await store.deleteRecoveryCodes(userID: user.id)
        try await attempts.unlock(user)
        try await store.setEnrolmentRequired(true, userID: user.id)
        try await sessions.endAll(userID: user.id)
        try await store.recordEvent(
            userID: user.id,
            kind: .operatorReset,
            detail: "two-factor authentication reset by \(actor)\(Self.because(reason)); every session ended",
            at: now().unixTime
        )
    }

    /// `; reason: …` for an event's detail, or nothing.
    static func because(_ reason: String?) -> String {
        reason.map { "; reason: \($0)" } ?? ""
    }
}
