import Foundation
import Logging
import TwoStepCore
import TwoStepStore

/// Every service, wired once from the configuration: the web pages and the operator commands
/// both use this, so no rule is set up twice.
struct Services: Sendable {
    let store: any Store
    let accounts: AccountService
    let sessions: SessionService
    let devices: TrustedDeviceService
    let recoveryCodes: RecoveryCodeService
    let smsCodes: SMSCodeService
    let twoFactor: TwoFactorService
    /// Security keys and passkeys (issue 17).
    let webAuthn: WebAuthnService
    /// The operator's 2FA policy (issue 18): who must enrol, by when, with which methods.
    let policy: TwoFactorPolicyService
    /// Attempt budgets, and the operator's unlock (`lockout.unlock(user)`).
    let lockout: LockoutService
    let signIns: SignInService
    let apiKeys: APIKeyService
    let serviceAccounts: ServiceAccountService
    let enrolments: EnrolmentService
    let audit: AuditService
    /// The help-desk console (issue 18) and the operator's role commands.
    let helpDesk: HelpDeskService
    /// Verification and reset links by e-mail (issue 15).
    let email: EmailService
    let mail: MailSender
    /// Security alerts by e-mail, from the recorded events.
    let alerts: SecurityAlertService
    /// The development outbox, when no other SMS gateway is configured.
    let outbox: OutboxGateway?
    /// The OpenID Connect provider and reverse-proxy forward-auth (issue 14).
    let oidc: OIDCService
    let forwardAuth: ForwardAuthService
    /// Where a browser may be sent after signing in: the one check (`rd`, authorization requests).
    let returnAddresses: ReturnAddressPolicy
    /// Where e-mail goes.
    let mailTransport: any MailTransport
    /// The development mail outbox, when no other mail transport is configured.
    let mailOutbox: MailOutbox?

    init(_ configuration: ServerConfiguration, parts: ServerParts, now: @escaping Now, passwordHasher: SecretHasher, logger: Logger) {
        let store = parts.store
        self.store = store
        sessions = SessionService(store: store, now: now)
        devices = TrustedDeviceService(store: store, trustDays: configuration.trustDeviceDays, now: now)
        recoveryCodes = RecoveryCodeService(store: store, keyRing: parts.keyRing, hasher: .recoveryCodes, metrics: parts.metrics, now: now)
        let outbox = configuration.smsGateway == nil ? OutboxGateway(path: configuration.outboxPath) : nil
        self.outbox = outbox
        let mailOutbox = configuration.mailTransport == nil ? MailOutbox(path: configuration.mailOutboxPath) : nil
        self.mailOutbox = mailOutbox
        mailTransport = configuration.mailTransport ?? mailOutbox!
        smsCodes = SMSCodeService(
            store: store,
            keyRing: parts.keyRing,
            gateway: configuration.smsGateway ?? outbox!,
            limits: configuration.smsLimits,
            destinations: configuration.smsDestinations,
            metrics: parts.metrics,
            now: now,
            logger: logger
        )
        let lockout = LockoutService(
            store: store,
            codes: configuration.lockout,
            recoveryCodes: configuration.recoveryCodeLockout,
            passwords: configuration.passwordLockout,
            sources: configuration.sourceBudgets,
            now: now
        )
        self.lockout = lockout
        accounts = AccountService(
            store: store,
            hasher: passwordHasher,
            lockout: lockout,
            metrics: parts.metrics,
            now: now,
            signUpOpen: configuration.signUp == .open
        )
        twoFactor = TwoFactorService(
            store: store,
            keyRing: parts.keyRing,
            issuer: configuration.issuer,
            window: configuration.verificationWindow,
            attempts: lockout,
            recoveryCodes: recoveryCodes,
            smsCodes: smsCodes,
            passwords: accounts.passwords,
            sessions: sessions,
            metrics: parts.metrics,
            now: now,
            allowedMethods: configuration.twoFactorPolicy.allowedMethods
        )
        webAuthn = WebAuthnService(
            store: store,
            relyingParty: configuration.relyingParty,
            relyingPartyName: configuration.issuer,
            twoFactor: twoFactor,
            sessions: sessions,
            devices: devices,
            metrics: parts.metrics,
            now: now,
            logger: logger
        )
        policy = TwoFactorPolicyService(policy: configuration.twoFactorPolicy, store: store, twoFactor: twoFactor, now: now)
        signIns = SignInService(accounts: accounts, sessions: sessions, twoFactor: twoFactor, devices: devices, keys: webAuthn, policy: policy)
        apiKeys = APIKeyService(store: store, now: now)
        serviceAccounts = ServiceAccountService(store: store, accounts: accounts)
        enrolments = EnrolmentService(twoFactor: twoFactor, devices: devices, sessions: sessions)
        oidc = OIDCService(store: store, twoFactor: twoFactor, policy: policy, keyRing: parts.keyRing, issuer: configuration.publicURL, now: now)
        returnAddresses = ReturnAddressPolicy(cookieDomain: configuration.cookieDomain, allowHTTP: configuration.insecureCookies)
        forwardAuth = ForwardAuthService(
            twoFactor: twoFactor,
            policy: policy,
            returnAddresses: returnAddresses,
            signInURL: (configuration.publicURL ?? "") + "/signin",
            allowsPasswordOnly: configuration.forwardAuthAllowsPasswordOnly
        )
        audit = AuditService(store: store, now: now)
        helpDesk = HelpDeskService(
            store: store,
            accounts: accounts,
            sessions: sessions,
            devices: devices,
            recoveryCodes: recoveryCodes,
            twoFactor: twoFactor,
            lockout: lockout,
            audit: audit,
            keys: webAuthn
        )
        let mail = MailSender(transport: mailTransport, logger: logger)
        self.mail = mail
        let composer = MailComposer(issuer: configuration.issuer, publicURL: configuration.resolvedPublicURL)
        alerts = SecurityAlertService(store: store, mail: mail, composer: composer, now: now, logger: logger)
        email = EmailService(
            store: store,
            mail: mail,
            composer: composer,
            lockout: lockout,
            twoFactor: twoFactor,
            keys: webAuthn,
            accounts: accounts,
            sessions: sessions,
            now: now
        )
    }
}
