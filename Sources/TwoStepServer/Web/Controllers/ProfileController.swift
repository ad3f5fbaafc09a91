import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The profile dashboard and its Two-Factor Authentication page (SPEC F3, F4, F6, F7, F10).
struct ProfileController: Sendable {
    let accounts: AccountService
    let sessions: SessionService
    let twoFactor: TwoFactorService
    let recoveryCodes: RecoveryCodeService
    let devices: TrustedDeviceService
    let signIns: SignInService
    let pages: Pages
    let cookies: CookieNames

    func addRoutes(to router: RouterGroup<TwoStepRequestContext>) {
        let profile = router.group("/profile", context: SignedInContext.self)
        profile.get(use: showProfile)
        profile.post("password", use: changePassword)
        profile.get("two-factor", use: showTwoFactor)
        profile.get("two-factor/enable", use: chooseMethod)
        profile.post("two-factor/app", use: startApp)
        profile.get("two-factor/app", use: showApp)
        profile.post("two-factor/app/activate", use: activateApp)
        profile.get("two-factor/disable") { _, context in
            pages.render(DisablePage(frame: .profile("Disable Two-Factor Authentication", context)))
        }
        profile.post("two-factor/disable", use: disable)
        profile.post("two-factor/devices/:id/revoke", use: revokeDevice)
        profile.post("two-factor/devices/revoke-all", use: revokeAllDevices)
        profile.post("two-factor/recovery-codes", use: generateRecoveryCodes)
        profile.get("two-factor/recovery-codes", use: showRecoveryCodes)
        profile.get("two-factor/recovery-codes/print", use: printRecoveryCodes)
        profile.get("two-factor/recovery-codes/download", use: downloadRecoveryCodes)
        addPhoneRoutes(to: profile, path: "sms", kind: .sms)
        addPhoneRoutes(to: profile, path: "recovery-phone", kind: .recoveryPhone)
        profile.post("two-factor/recovery-phone/remove", use: removeRecoveryPhone)
        profile.get("confirm") { request, context in
            pages.render(confirmPage(context, next: request.uri.queryParameters["next"].map(String.init)))
        }
        profile.post("confirm", use: confirm)
    }

    // MARK: Profile

    private func showProfile(_ request: Request, context: SignedInContext) async throws -> Response {
        try await pages.render(
            profilePage(context, notice: request.uri.queryParameters["done"] == "password" ? "Your password is changed." : nil)
        )
    }

    private func profilePage(_ context: SignedInContext, notice: String? = nil, error: String? = nil) async throws -> ProfilePage {
        ProfilePage(
            frame: .profile("Profile", context, menu: .profile),
            email: context.user.email,
            memberSince: Format.minute(Date(unixTime: context.user.createdAt)),
            enabled: try await twoFactor.isEnabled(for: context.user),
            notice: notice,
            error: error
        )
    }

    private struct PasswordForm: Decodable {
        let current: String?
        let new: String?
    }

    private func changePassword(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: PasswordForm.self, context: context)
        switch try await accounts.changePassword(user: context.user, current: form.current ?? "", new: form.new ?? "") {
        case .success:
            var response = Response.redirect(to: "/profile?done=password", type: .normal)
            response.setCookie(cookies.expired(cookies.trustedDevice))
            return response
        case .failure(.wrongPassword):
            return pages.render(try await profilePage(context, error: "Your current password is not right."), status: .unprocessableContent)
        case .failure(.passwordLength):
            return pages.render(try await profilePage(context, error: "Choose a new password of 8 to 128 characters."), status: .unprocessableContent)
        }
    }

    // MARK: Two-Factor Authentication page

    private static let notices = [
        "enabled":
            "Two-factor authentication is on. Now generate recovery codes below and keep them somewhere safe: they let you in if you lose your phone.",
        "disabled": "Two-factor authentication is off, and your trusted devices are forgotten.",
        "revoked": "The device is no longer trusted.",
        "revoked-all": "No device is trusted any more.",
        "recovery-used": "You signed in with a recovery code. That code no longer works.",
        "recovery-phone": "Your recovery phone number is saved.",
        "recovery-phone-removed": "Your recovery phone number is removed.",
    ]

    private func showTwoFactor(_ request: Request, context: SignedInContext) async throws -> Response {
        let user = context.user
        let status = try await twoFactor.status(of: user)
        let method: String? =
            switch status.method {
            case .totp: "App (authenticator app)"
            case .sms: "SMS to " + (status.smsPhone ?? "")
            case .recoveryPhone, nil: nil
            }
        let currentToken = request.cookies[cookies.trustedDevice]?.value
        let recovery = try await recoveryCodes.status(of: user)
        let page = TwoFactorPage(
            frame: .profile("Two-Factor Authentication", context),
            enabled: status.enabled,
            method: method,
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
                    detail: event.detail.nilIfEmpty
                )
            },
            notice: request.uri.queryParameters["done"].flatMap { Self.notices[String($0)] }
        )
        return pages.render(page)
    }

    static func describe(_ kind: SecurityEventKind) -> String {
        switch kind {
        case .signedUp: "Account created"
        case .signedIn: "Signed in"
        case .signInFailed: "Failed sign-in"
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
        }
    }

    // MARK: Enabling

    private func chooseMethod(_ request: Request, context: SignedInContext) async throws -> Response {
        try await requireEnrolmentAllowed(context, kind: .totp, returnTo: "/profile/two-factor/enable")
        return pages.render(EnablePage(frame: .profile("Enable Two-Factor Authentication", context)))
    }

    private func startApp(_ request: Request, context: SignedInContext) async throws -> Response {
        try await requireEnrolmentAllowed(context, kind: .totp, returnTo: "/profile/two-factor/enable")
        _ = try await twoFactor.startAppEnrolment(for: context.user)
        return .redirect(to: "/profile/two-factor/app", type: .normal)
    }

    private func showApp(_ request: Request, context: SignedInContext) async throws -> Response {
        guard let enrolment = try await twoFactor.pendingAppEnrolment(for: context.user) else {
            throw WebRedirect(to: "/profile/two-factor/enable")
        }
        return pages.render(appPage(context, enrolment))
    }

    private func appPage(_ context: SignedInContext, _ enrolment: TwoFactorService.AppEnrolment, error: String? = nil) -> AppPage {
        AppPage(
            frame: .profile("Set up your authenticator app", context),
            qrSVG: enrolment.qrSVG,
            manualKey: enrolment.manualKey,
            expires: Format.minute(enrolment.expiresAt),
            trustDays: devices.trustDays,
            error: error
        )
    }

    private struct CodeForm: Decodable {
        let code: String?
        let trust: String?
    }

    private func activateApp(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: CodeForm.self, context: context)
        switch try await twoFactor.activateApp(user: context.user, code: form.code ?? "") {
        case .activated:
            // The code just shown proves possession: generating recovery codes next needs no password.
            try await sessions.markReauthenticated(context.session)
            var response = Response.redirect(to: "/profile/two-factor?done=enabled", type: .normal)
            if form.trust == "on" {
                let token = try await devices.trust(user: context.user, userAgent: request.headers[.userAgent] ?? "")
                response.setCookie(cookies.make(cookies.trustedDevice, value: token, maxAge: Int(devices.lifetime)))
            }
            return response
        case .wrongCode:
            guard let enrolment = try await twoFactor.pendingAppEnrolment(for: context.user) else {
                throw WebRedirect(to: "/profile/two-factor/enable")
            }
            let error = "That code is not right. Check that the app shows TwoStep (\(context.user.email)) and enter its current code."
            return pages.render(appPage(context, enrolment, error: error), status: .unprocessableContent)
        case .expired:
            throw WebRedirect(to: "/profile/two-factor/enable")
        }
    }

    // MARK: Disabling

    private struct DisableForm: Decodable {
        let password: String?
        let code: String?
    }

    private func disable(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: DisableForm.self, context: context)
        let proof = try await twoFactor.disable(user: context.user, password: form.password, code: form.code)
        guard proof != .confirmed else {
            var response = Response.redirect(to: "/profile/two-factor?done=disabled", type: .normal)
            response.setCookie(cookies.expired(cookies.trustedDevice))
            return response
        }
        let error = Self.message(for: proof, now: accounts.now())
        return pages.render(DisablePage(frame: .profile("Disable Two-Factor Authentication", context), error: error), status: .unprocessableContent)
    }

    // MARK: Trusted devices

    private func revokeDevice(_ request: Request, context: SignedInContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self), try await devices.revoke(deviceID: id, user: context.user) else {
            throw HTTPError(.notFound, message: "No such trusted device.")
        }
        return .redirect(to: "/profile/two-factor?done=revoked", type: .normal)
    }

    private func revokeAllDevices(_ request: Request, context: SignedInContext) async throws -> Response {
        try await devices.revokeAll(user: context.user, reason: "all devices")
        var response = Response.redirect(to: "/profile/two-factor?done=revoked-all", type: .normal)
        response.setCookie(cookies.expired(cookies.trustedDevice))
        return response
    }

    // MARK: Phones: the SMS method and the recovery phone

    private struct PhoneForm: Decodable {
        let phone: String?
        let code: String?
        let trust: String?
    }

    /// Enter a number → a code is texted → type it back. The SMS method and the recovery phone
    /// share every step (SPEC F8: "exactly like the SMS method").
    private func addPhoneRoutes(to group: RouterGroup<SignedInContext>, path: String, kind: FactorKind) {
        let base = "/profile/two-factor/\(path)"
        group.get("two-factor/\(path)") { _, context in
            try await requireEnrolmentAllowed(context, kind: kind, returnTo: base)
            return pages.render(phonePage(context, kind: kind, path: path))
        }
        group.post("two-factor/\(path)") { request, context in
            try await requireEnrolmentAllowed(context, kind: kind, returnTo: base)
            let form = try await request.decodeForm(as: PhoneForm.self, context: context)
            var page = phonePage(context, kind: kind, path: path)
            page.phoneValue = form.phone ?? ""
            guard let phone = PhoneNumber(form.phone ?? "") else {
                page.error = "Enter the number in international form, starting with + and the country code, e.g. +31 6 1234 5678."
                return pages.render(page, status: .unprocessableContent)
            }
            let result = try await twoFactor.startPhoneEnrolment(for: context.user, phone: phone, kind: kind)
            let (notice, error) = Format.smsResult(result, limits: twoFactor.smsCodes.limits)
            guard error == nil else {
                page.error = error
                return pages.render(page, status: Format.smsStatus(result))
            }
            return try await renderPhoneVerify(context, kind: kind, path: path, notice: notice, error: nil)
        }
        group.get("two-factor/\(path)/verify") { _, context in
            try await renderPhoneVerify(context, kind: kind, path: path, notice: nil, error: nil)
        }
        group.post("two-factor/\(path)/resend") { _, context in
            guard let result = try await twoFactor.resendEnrolmentCode(for: context.user, kind: kind) else { throw WebRedirect(to: base) }
            let (notice, error) = Format.smsResult(result, limits: twoFactor.smsCodes.limits)
            return try await renderPhoneVerify(context, kind: kind, path: path, notice: notice, error: error)
        }
        group.post("two-factor/\(path)/activate") { request, context in
            let form = try await request.decodeForm(as: PhoneForm.self, context: context)
            switch try await twoFactor.activatePhone(user: context.user, code: form.code ?? "", kind: kind) {
            case .activated:
                if kind == .sms { try await sessions.markReauthenticated(context.session) }
                var response = Response.redirect(
                    to: kind == .sms ? "/profile/two-factor?done=enabled" : "/profile/two-factor?done=recovery-phone",
                    type: .normal
                )
                if form.trust == "on" {
                    let token = try await devices.trust(user: context.user, userAgent: request.headers[.userAgent] ?? "")
                    response.setCookie(cookies.make(cookies.trustedDevice, value: token, maxAge: Int(devices.lifetime)))
                }
                return response
            case .wrongCode:
                return try await renderPhoneVerify(
                    context,
                    kind: kind,
                    path: path,
                    notice: nil,
                    error: "That code is not right, or it expired. Check the text message, or send a new code.",
                    status: .unprocessableContent
                )
            case .expired:
                throw WebRedirect(to: base)
            }
        }
    }

    private func requireEnrolmentAllowed(_ context: SignedInContext, kind: FactorKind, returnTo path: String) async throws {
        switch try await twoFactor.enrolmentStart(kind, for: context.user) {
        case .allowed: return
        case .notWhileEnabled: throw WebRedirect(to: "/profile/two-factor")
        case .needsReauthentication: try requireReauthentication(context, returnTo: path)
        }
    }

    private static func phoneTitle(_ kind: FactorKind) -> String {
        kind == .sms ? "Enable SMS" : "Add recovery phone number"
    }

    private func phonePage(_ context: SignedInContext, kind: FactorKind, path: String) -> PhonePage {
        PhonePage(frame: .profile(Self.phoneTitle(kind), context), path: path, isSMS: kind == .sms)
    }

    private func renderPhoneVerify(
        _ context: SignedInContext,
        kind: FactorKind,
        path: String,
        notice: String?,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let pending = try await twoFactor.pendingPhone(for: context.user, kind: kind) else {
            throw WebRedirect(to: "/profile/two-factor/\(path)")
        }
        let page = PhoneVerifyPage(
            frame: .profile(Self.phoneTitle(kind), context),
            path: path,
            isSMS: kind == .sms,
            trustDays: devices.trustDays,
            maskedPhone: pending.phone.flatMap(PhoneNumber.init)?.masked,
            notice: notice,
            error: error
        )
        return pages.render(page, status: error == nil ? status : (status == .ok ? .tooManyRequests : status))
    }

    private func removeRecoveryPhone(_ request: Request, context: SignedInContext) async throws -> Response {
        try requireReauthentication(context, returnTo: "/profile/two-factor")
        _ = try await twoFactor.removeRecoveryPhone(user: context.user)
        return .redirect(to: "/profile/two-factor?done=recovery-phone-removed", type: .normal)
    }

    // MARK: Recovery codes

    /// SPEC §2: showing or regenerating recovery codes needs the password (or a code) from the last 10 minutes.
    private func requireReauthentication(_ context: SignedInContext, returnTo path: String) throws {
        guard sessions.isReauthenticated(context.session) else {
            throw WebRedirect(to: "/profile/confirm?next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        }
    }

    private func generateRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        guard try await twoFactor.recoveryCodeGeneration(for: context.user) == .allowed else { throw WebRedirect(to: "/profile/two-factor") }
        try requireReauthentication(context, returnTo: "/profile/two-factor")
        let codes = try await recoveryCodes.generate(for: context.user)
        return pages.render(RecoveryCodesPage(frame: .profile("Your new recovery codes", context), fresh: true, codes: codes.map(\.description)))
    }

    private func showRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        try requireReauthentication(context, returnTo: "/profile/two-factor/recovery-codes")
        let codes = try await recoveryCodes.unusedCodes(of: context.user)
        return pages.render(RecoveryCodesPage(frame: .profile("Your recovery codes", context), fresh: false, codes: codes.map(\.description)))
    }

    private func printRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        try requireReauthentication(context, returnTo: "/profile/two-factor/recovery-codes/print")
        let codes = try await recoveryCodes.unusedCodes(of: context.user)
        let page = RecoveryPrintPage(
            frame: .profile("Your recovery codes", context),
            email: context.user.email,
            date: Format.minute(accounts.now()),
            codes: codes.map(\.description)
        )
        return pages.render(page)
    }

    private func downloadRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        try requireReauthentication(context, returnTo: "/profile/two-factor/recovery-codes")
        let codes = try await recoveryCodes.unusedCodes(of: context.user)
        let text = """
            TwoStep recovery codes for \(context.user.email)
            Saved \(Format.minute(accounts.now()))

            \(codes.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n"))

            Each code works once, in place of the security code from your phone.
            Keep this file somewhere safe and offline; generating new codes makes these stop working.

            """
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                .contentDisposition: "attachment; filename=\"twostep-recovery-codes.txt\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    // MARK: Re-authentication

    private struct ConfirmForm: Decodable {
        let password: String?
        let code: String?
        let next: String?
    }

    /// Only paths inside the profile are followed after confirming, so the form cannot be used to
    /// send someone to another site.
    private static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/profile/"), !next.contains("//"), !next.contains("\\"), !next.contains("@") else {
            return "/profile/two-factor"
        }
        return next
    }

    private func confirmPage(_ context: SignedInContext, next: String?, error: String? = nil) -> ConfirmPage {
        ConfirmPage(frame: .profile("Confirm it’s you", context), next: Self.safeNext(next), error: error)
    }

    private func confirm(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: ConfirmForm.self, context: context)
        let next = Self.safeNext(form.next)
        let proof = try await signIns.reauthenticate(session: context.session, user: context.user, password: form.password, code: form.code)
        guard proof != .confirmed else { return .redirect(to: next, type: .normal) }
        let page = confirmPage(context, next: next, error: Self.message(for: proof, now: accounts.now()))
        return pages.render(page, status: proof == .proofMissing ? .unprocessableContent : .unauthorized)
    }

    /// What the person is told when "your password or a current security code" was refused.
    static func message(for proof: TwoFactorService.Proof, now: Date) -> String {
        switch proof {
        case .confirmed: ""
        case .wrongPassword: "That password is not right."
        case .code(let verification): SignInController.message(for: verification, now: now)
        case .proofMissing: "Enter your password or a current security code to confirm."
        }
    }
}
