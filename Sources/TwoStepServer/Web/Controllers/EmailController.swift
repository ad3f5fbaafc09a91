import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// "Forgot your password?", the links sent by e-mail, and the address on the profile (issue 15).
/// Each route parses, calls one `EmailService` method and renders its answer.
struct EmailController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var email: EmailService { services.email }
    private var now: Date { services.accounts.now() }

    func addRoutes(to web: RouterGroup<TwoStepRequestContext>, profile: RouterGroup<SignedInContext>) {
        web.get("/forgot-password") { _, context in
            pages.render(ForgotPasswordPage(frame: PageFrame(title: "Forgot your password?", csrf: context.csrfToken)))
        }
        web.post("/forgot-password", use: requestReset)
        web.get("/reset") { request, context in
            let token = request.uri.queryParameters["token"].map(String.init) ?? ""
            return try await resetPage(token: token, context: context)
        }
        web.post("/reset/code", use: resetCode)
        web.post("/reset/sms", use: resetSMS)
        web.post("/reset/security-key", use: resetSecurityKey)
        web.post("/reset", use: reset)
        web.get("/verify-email") { request, context in
            let token = request.uri.queryParameters["token"].map(String.init) ?? ""
            let usable = try await email.verificationIsUsable(token: token)
            return pages.render(VerifyEmailPage(frame: frame(context, "Confirm your e-mail address"), token: token, usable: usable, issuer: issuer))
        }
        web.post("/verify-email", use: verify)

        profile.post("email/resend", use: resend)
        profile.get("email") { _, context in
            try ProfileGuards(services: services).requireAccess(.changeEmail, context, next: "/profile/email")
            return pages.render(ChangeEmailPage(frame: .profile("Change e-mail address", context, menu: .profile), email: context.user.name))
        }
        profile.post("email", use: changeAddress)
    }

    private var issuer: String { email.composer.issuer }

    private func frame(_ context: TwoStepRequestContext, _ title: String) -> PageFrame {
        PageFrame(title: title, csrf: context.csrfToken)
    }

    private struct EmailForm: Decodable {
        let email: String?
    }

    private struct TokenForm: Decodable {
        let token: String?
        let code: String?
        let password: String?
        let recovery: String?
        /// `credential.toJSON()` of a security key's answer (issue 17).
        let credential: String?
    }

    // MARK: Forgotten password

    private func requestReset(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: EmailForm.self, context: context)
        var page = ForgotPasswordPage(frame: frame(context, "Forgot your password?"), emailValue: form.email ?? "")
        switch try await email.requestReset(email: form.email ?? "") {
        case .accepted:
            // The same words for every address (OWASP Forgot Password cheat sheet).
            page.notice =
                "If an account uses that address and it is confirmed, a link to reset the password is on its way. It works for 30 minutes. Nothing there after a few minutes? Check the spam folder, then ask again."
            return pages.render(page)
        case .tooMany(let retryAt):
            page.error = "Too many requests from your network. Try again \(Format.inWords(until: retryAt, from: now))."
            return pages.render(page, status: .tooManyRequests)
        }
    }

    private func resetPage(token: String, context: TwoStepRequestContext, notice: String? = nil, error: String? = nil) async throws -> Response {
        var page = ResetPasswordPage(frame: frame(context, "Reset your password"), token: token, notice: notice, error: error)
        switch try await email.resetStage(token: token) {
        case .invalid:
            page.invalid = true
            return pages.render(page, status: .notFound)
        case .secondFactor(let user):
            let status = try await services.twoFactor.status(of: user)
            page.secondFactor = true
            page.email = user.name
            page.hasApp = status.kinds.contains(.totp)
            page.smsPhone = status.smsPhone
            page.recoveryPhone = status.recoveryPhone
            // A security key works here too (issue 17), its challenge bound to the link.
            page.securityKeyOptions = try await email.resetKeyOptions(token: token)
            if page.securityKeyOptions != nil { page.frame = page.frame.withWebAuthn() }
        case .newPassword(let user):
            page.newPassword = true
            page.email = user.name
        }
        return pages.render(page, status: error == nil ? .ok : .unauthorized)
    }

    private func resetCode(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: TokenForm.self, context: context)
        let token = form.token ?? ""
        switch try await email.resetSecondFactor(token: token, code: form.code ?? "") {
        case .accepted, .invalid: return try await resetPage(token: token, context: context)
        case .refused(let verification):
            return try await resetPage(token: token, context: context, error: Format.refusal(verification, now: now))
        }
    }

    private func resetSecurityKey(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: TokenForm.self, context: context)
        let token = form.token ?? ""
        switch try await email.resetSecondFactorWithKey(token: token, responseJSON: form.credential ?? "") {
        case .accepted, .invalid: return try await resetPage(token: token, context: context)
        case .refused(let verification):
            return try await resetPage(token: token, context: context, error: SignInController.keyRefusal(verification, now: now))
        }
    }

    private func resetSMS(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: TokenForm.self, context: context)
        let token = form.token ?? ""
        guard let result = try await email.sendResetCode(token: token, recoveryPhone: form.recovery == "on") else {
            return try await resetPage(token: token, context: context)
        }
        let (notice, error) = Format.smsResult(result, limits: services.smsCodes.limits)
        return try await resetPage(token: token, context: context, notice: notice, error: error)
    }

    private func reset(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: TokenForm.self, context: context)
        let token = form.token ?? ""
        switch try await email.completeReset(token: token, password: form.password ?? "") {
        case .done:
            // Every session ended, this browser's too; a stale trusted-device cookie is worth nothing now.
            var response = Response.redirect(to: "/signin?done=password-reset", type: .normal)
            response.setCookie(cookies.expired(cookies.session))
            response.setCookie(cookies.expired(cookies.trustedDevice))
            return response
        case .passwordLength:
            let page = try await resetPage(token: token, context: context, error: "Choose a password of \(AccountService.passwordRule).")
            return page
        case .invalid, .secondFactorRequired:
            return try await resetPage(token: token, context: context)
        }
    }

    // MARK: Verifying and changing the address

    private func verify(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: TokenForm.self, context: context)
        var page = VerifyEmailPage(frame: frame(context, "Confirm your e-mail address"), token: "", usable: false, issuer: issuer)
        switch try await email.verify(token: form.token ?? "") {
        case .verified: page.notice = "Thank you: your e-mail address is confirmed."
        case .changed(_, let new): page.notice = "Your account now uses \(new)."
        case .taken: page.error = "Another account took that address in the meantime. Your address has not changed."
        case .invalid: return pages.render(page, status: .notFound)
        }
        return pages.render(page, status: page.error == nil ? .ok : .conflict)
    }

    private func resend(_ request: Request, context: SignedInContext) async throws -> Response {
        let result = try await email.sendVerification(to: context.user)
        let (notice, error, status): (String?, String?, HTTPResponse.Status) =
            switch result {
            case .sent(let to): ("We sent a new link to \(to). It works for 24 hours.", nil, .ok)
            case .alreadyVerified: ("Your address is confirmed already.", nil, .ok)
            case .tooMany(let retryAt):
                (nil, "You asked for several links just now. Try again \(Format.inWords(until: retryAt, from: now)).", .tooManyRequests)
            case .failed(let reason): (nil, Self.notSent(reason), .serviceUnavailable)
            }
        return try await profilePage(context, notice: notice, error: error, status: status)
    }

    private func changeAddress(_ request: Request, context: SignedInContext) async throws -> Response {
        try ProfileGuards(services: services).requireAccess(.changeEmail, context, next: "/profile/email")
        let form = try await request.decodeForm(as: EmailForm.self, context: context)
        var page = ChangeEmailPage(
            frame: .profile("Change e-mail address", context, menu: .profile),
            email: context.user.name,
            emailValue: form.email ?? ""
        )
        var status = HTTPResponse.Status.unprocessableContent
        switch try await email.requestAddressChange(for: context.user, to: form.email ?? "") {
        case .sent(let to):
            page.notice = "We sent a link to \(to). Your address changes when you open it (within 24 hours)."
            page.emailValue = ""
            status = .ok
        case .invalidAddress: page.error = "Enter an e-mail address such as name@example.com."
        case .sameAddress: page.error = "That is the address your account has now."
        case .taken: page.error = "Another account uses that address."
        case .tooMany(let retryAt):
            page.error = "You asked for several links just now. Try again \(Format.inWords(until: retryAt, from: now))."
            status = .tooManyRequests
        case .failed(let reason):
            page.error = Self.notSent(reason)
            status = .serviceUnavailable
        }
        return pages.render(page, status: status)
    }

    /// A failed send, in words the person can act on; the reason (never a link) helps whoever runs the server.
    static func notSent(_ reason: String) -> String {
        "The message could not be sent (\(reason)). Nothing has changed; try again in a few minutes."
    }

    private func profilePage(_ context: SignedInContext, notice: String?, error: String?, status: HTTPResponse.Status) async throws -> Response {
        pages.render(
            ProfilePage(
                frame: .profile("Profile", context, menu: .profile),
                email: context.user.name,
                hasEmail: context.user.email != nil,
                verified: context.user.emailVerifiedAt != nil,
                memberSince: Format.minute(Date(unixTime: context.user.createdAt)),
                enabled: try await services.twoFactor.isEnabled(for: context.user),
                notice: notice,
                error: error
            ),
            status: status
        )
    }
}
