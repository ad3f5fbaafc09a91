import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The Two-Factor Authentication page and turning it off (SPEC F3, F7, F10).
struct TwoFactorController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var accounts: AccountService { services.accounts }
    private var twoFactor: TwoFactorService { services.twoFactor }
    private var recoveryCodes: RecoveryCodeService { services.recoveryCodes }
    private var devices: TrustedDeviceService { services.devices }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.get("two-factor", use: showTwoFactor)
        profile.get("two-factor/disable") { _, context in
            pages.render(DisablePage(frame: .profile("Disable Two-Factor Authentication", context)))
        }
        profile.post("two-factor/disable", use: disable)
    }

    private static let notices = [
        "enabled":
            "Two-factor authentication is on. Now generate recovery codes below and keep them somewhere safe: they let you in if you lose your phone.",
        "disabled": "Two-factor authentication is off, and your trusted devices are forgotten.",
        "revoked": "The device is no longer trusted.",
        "revoked-all": "No device is trusted any more.",
        "recovery-used": "You signed in with a recovery code. That code no longer works.",
        "recovery-phone": "Your recovery phone number is saved.",
        "recovery-phone-removed": "Your recovery phone number is removed.",
        "key-added": "Your security key is added. Use it the next time you sign in.",
        "passkey-added": "Your passkey is added. Next time, choose “Sign in with a passkey” on the sign-in page.",
        "key-renamed": "The key is renamed.",
        "key-removed": "The key is removed. It no longer signs you in.",
    ]

    /// What went wrong with a form on the page that redirected back here (post/redirect/get).
    private static let problems = [
        "key-name": "A key’s name must be 1 to 64 characters, without control characters."
    ]

    private func showTwoFactor(_ request: Request, context: SignedInContext) async throws -> Response {
        let user = context.user
        let status = try await twoFactor.status(of: user)
        let method: String? =
            switch status.method {
            case .totp: "App (authenticator app)"
            case .sms: "SMS to " + (status.smsPhone ?? "")
            case .recoveryPhone, nil: status.securityKeys > 0 ? "Security key" : nil
            }
        let currentToken = request.cookies[cookies.trustedDevice]?.value
        let recovery = try await recoveryCodes.status(of: user)
        var page = TwoFactorPage(
            frame: .profile("Two-Factor Authentication", context),
            enabled: status.enabled,
            method: method,
            // Keys sit beside the method: an account with keys alone may still add the app or SMS.
            canAddMethod: status.enabled ? try await twoFactor.enrolmentStart(.totp, for: user) == .allowed : false,
            recoveryPhone: status.recoveryPhone,
            hasRecoveryCodes: recovery.supply != .notGenerated,
            recoveryRemaining: recovery.remaining,
            recoveryTotal: recovery.total,
            recoveryGenerated: recovery.generatedAt.map(Format.minute),
            recoveryLow: recovery.supply == .low,
            recoveryNoneLeft: recovery.supply == .noneLeft,
            devices: try await devices.devices(of: user).map { device in
                TwoFactorPage.Device(
                    id: device.id,
                    browser: BrowserName.describe(device.userAgent),
                    created: Format.minute(Date(unixTime: device.createdAt)),
                    lastUsed: Format.minute(Date(unixTime: device.lastUsedAt)),
                    expires: Format.minute(Date(unixTime: device.expiresAt)),
                    current: currentToken.map { RandomToken.hash($0) == device.tokenHash } ?? false
                )
            },
            events: try await accounts.events(of: user, limit: 20).map { event in
                let date = Date(unixTime: event.createdAt)
                return TwoFactorPage.Event(
                    when: Format.minute(date),
                    iso: date.ISO8601Format(),
                    what: Self.describe(event.kind),
                    detail: event.detail.nilIfEmpty,
                    address: event.clientAddress == ClientAddress.unknown ? nil : event.clientAddress.nilIfEmpty
                )
            },
            notice: request.uri.queryParameters["done"].flatMap { Self.notices[String($0)] },
            error: request.uri.queryParameters["problem"].flatMap { Self.problems[String($0)] },
            keys: try await services.webAuthn.credentials(of: user).map { key in
                TwoFactorPage.SecurityKey(
                    id: key.id,
                    name: key.name,
                    passkey: key.isPasskey,
                    added: Format.minute(Date(unixTime: key.createdAt)),
                    lastUsed: key.lastUsedAt.map { Format.minute(Date(unixTime: $0)) } ?? "Never"
                )
            }
        )
        page.keysAllowed = services.twoFactor.allowedMethods.contains(.key)
        return pages.render(page)
    }

    static func describe(_ kind: SecurityEventKind) -> String {
        switch kind {
        case .signedUp: "Account created"
        case .signedIn: "Signed in"
        case .signInFailed: "Failed sign-in"
        case .passwordFailed: "Wrong password"
        case .twoFactorEnabled: "Two-factor authentication enabled"
        case .twoFactorDisabled: "Two-factor authentication disabled"
        case .secondFactorFailed: "Wrong security code"
        case .secondFactorReplayed: "Security code reused"
        case .lockedOut: "Security codes blocked"
        case .deviceTrusted: "Device trusted"
        case .deviceRevoked: "Trusted device revoked"
        case .passwordChanged: "Password changed"
        case .operatorReset: "Reset by an administrator"
        case .recoveryCodesGenerated: "Recovery codes generated"
        case .recoveryCodeUsed: "Recovery code used"
        case .recoveryCodesShown: "Recovery codes shown"
        case .recoveryPhoneAdded: "Recovery phone number added"
        case .recoveryPhoneChanged: "Recovery phone number changed"
        case .recoveryPhoneRemoved: "Recovery phone number removed"
        case .apiKeyLinked: "A service was given access by an administrator"
        case .signedOutEverywhere: "Signed out everywhere"
        case .operatorUnlock: "Unlocked by an administrator"
        case .emailVerified: "E-mail address confirmed"
        case .emailChanged: "E-mail address changed"
        case .passwordReset: "Password reset by e-mail"
        case .securityKeyAdded: "Security key added"
        case .securityKeyRenamed: "Security key renamed"
        case .securityKeyRemoved: "Security key removed"
        case .securityKeyCloneSuspected: "Security key refused: it may have been copied"
        // Operator actions on no account: in the audit trail, never in an account's list.
        case .apiKeyCreated: "API key created"
        case .apiKeyRevoked: "API key revoked"
        case .masterKeyRotated: "Master key rotated"
        case .usersImported: "Users imported"
        case .databaseBackedUp: "Database backed up"
        case .databaseRestored: "Database restored"
        case .roleChanged: "Help-desk role changed"
        }
    }

    private struct DisableForm: Decodable {
        let password: String?
        let code: String?
    }

    private func disable(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: DisableForm.self, context: context)
        let proof: TwoFactorService.Proof
        switch try await twoFactor.disable(session: context.session, user: context.user, password: form.password, code: form.code) {
        case .disabled(let sessionID):
            var response = Response.redirect(to: "/profile/two-factor?done=disabled", type: .normal)
            response.setCookie(cookies.expired(cookies.trustedDevice))
            response.setCookie(cookies.make(cookies.session, value: sessionID))
            return response
        case .refused(let refusal): proof = refusal
        }
        let error = Format.refusal(proof, now: accounts.now())
        return pages.render(DisablePage(frame: .profile("Disable Two-Factor Authentication", context), error: error), status: .unprocessableContent)
    }
}
