import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// Sign-up, the two-step sign-in and sign-out (SPEC F1, F2, F6).
struct SignInController: Sendable {
    let accounts: AccountService
    let sessions: SessionService
    let twoFactor: TwoFactorService
    let devices: TrustedDeviceService
    let signIns: SignInService
    let pages: Pages
    let cookies: CookieNames

    func addRoutes(to router: RouterGroup<TwoStepRequestContext>) {
        router.get("/") { _, context in
            Response.redirect(to: context.session?.stage == .signedIn ? "/profile" : "/signin", type: .normal)
        }
        router.get("/signup") { _, context in
            let page = SignUpPage(frame: frame(context, title: "Create your account"), closed: !accounts.signUpOpen)
            return pages.render(page, status: accounts.signUpOpen ? .ok : .forbidden)
        }
        router.post("/signup", use: signUp)
        router.get("/signin") { request, context in
            let notice: String? =
                switch request.uri.queryParameters["done"] {
                case "signed-out": "You are signed out."
                case "signed-out-everywhere": "You are signed out on every device and every API token has ended."
                default: nil
                }
            return pages.render(SignInPage(frame: frame(context, title: "Sign in"), notice: notice, signUpOpen: accounts.signUpOpen))
        }
        router.post("/signin", use: signIn)
        router.post("/signout", use: signOut)

        let secondStep = router.group("/signin", context: SecondFactorContext.self)
        secondStep.get("code") { _, context in pages.render(try await codePage(context)) }
        secondStep.post("sms") { _, context in try await sendCode(context, recoveryPhone: false) }
        secondStep.post("recovery-phone") { _, context in try await sendCode(context, recoveryPhone: true) }
        secondStep.post("code", use: submitCode)
        secondStep.get("recovery") { _, context in pages.render(try await codePage(context, recoveryCode: true)) }
        secondStep.post("recovery", use: submitCode)
    }

    private struct Credentials: Decodable {
        let email: String?
        let password: String?
    }

    static let signUpClosed = "Sign-up is closed on this server. Ask its administrator for an account."

    private func signUp(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: Credentials.self, context: context)
        let email = form.email ?? ""
        switch try await accounts.signUp(email: email, password: form.password ?? "") {
        case .success(let user):
            let id = try await sessions.start(
                userID: user.id,
                stage: .signedIn,
                userAgent: request.headers[.userAgent] ?? "",
                replacing: context.session
            )
            return redirect(to: "/profile", session: id)
        case .failure(let error):
            let message =
                switch error {
                case .invalidEmail: "Enter an e-mail address such as name@example.com."
                case .passwordLength: "Choose a password of \(AccountService.passwordRule)."
                case .emailTaken: "An account with that e-mail address already exists. Sign in instead."
                case .closed: Self.signUpClosed
                }
            let page = SignUpPage(frame: frame(context, title: "Create your account"), emailValue: email, error: message, closed: error == .closed)
            return pages.render(page, status: error == .closed ? .forbidden : .unprocessableContent)
        }
    }

    private func signIn(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: Credentials.self, context: context)
        let outcome = try await signIns.signIn(
            email: form.email ?? "",
            password: form.password ?? "",
            deviceToken: request.cookies[cookies.trustedDevice]?.value,
            userAgent: request.headers[.userAgent] ?? "",
            replacing: context.session
        )
        switch outcome {
        case .refused:
            // Never which of the two (SPEC F1).
            let page = SignInPage(
                frame: frame(context, title: "Sign in"),
                emailValue: form.email ?? "",
                error: "Wrong e-mail address or password.",
                signUpOpen: accounts.signUpOpen
            )
            return pages.render(page, status: .unauthorized)
        case .tooManyAttempts(let retryAt):
            let message = Self.tooManyAttempts(retryAt: retryAt, now: accounts.now())
            return pages.render(
                SignInPage(frame: frame(context, title: "Sign in"), emailValue: form.email ?? "", error: message),
                status: .tooManyRequests
            )
        case .signedIn(_, let id):
            return redirect(to: "/profile", session: id)
        case .secondFactorRequired(_, let id):
            return redirect(to: "/signin/code", session: id)
        case .enrolmentRequired(_, let id):
            return redirect(to: "/profile/two-factor/enable", session: id)
        }
    }

    private struct CodeForm: Decodable {
        let code: String?
        let trust: String?
    }

    private func submitCode(_ request: Request, context: SecondFactorContext) async throws -> Response {
        let form = try await request.decodeForm(as: CodeForm.self, context: context)
        let outcome = try await signIns.completeSecondFactor(
            session: context.session,
            user: context.user,
            code: form.code ?? "",
            trustDevice: form.trust == "on",
            userAgent: request.headers[.userAgent] ?? ""
        )
        switch outcome {
        case .signedIn(let id, let method, let deviceToken):
            let usedRecoveryCode = if case .recoveryCode = method { true } else { false }
            var response = redirect(to: usedRecoveryCode ? "/profile/two-factor?done=recovery-used" : "/profile", session: id)
            if let deviceToken {
                response.setCookie(cookies.make(cookies.trustedDevice, value: deviceToken, maxAge: Int(devices.lifetime)))
            }
            return response
        case .refused(let verification):
            var page = try await codePage(context, recoveryCode: request.uri.path.hasSuffix("/recovery"))
            page.error = Format.refusal(verification, now: accounts.now())
            return pages.render(page, status: .unauthorized)
        }
    }

    /// Every sign-in step (and sign-out) also replaces the CSRF token: a token read or planted
    /// before the privilege changed is worth nothing after it (OWASP CSRF cheat sheet).
    private func redirect(to location: String, session id: String) -> Response {
        var response = Response.redirect(to: location, type: .normal)
        response.setCookie(cookies.make(cookies.session, value: id))
        response.setCookie(cookies.make(cookies.csrf, value: RandomToken.generate()))
        return response
    }

    /// After too many wrong passwords (SPEC §2): the same words whether or not the account exists.
    static func tooManyAttempts(retryAt: Date?, now: Date) -> String {
        guard let retryAt else { return "Too many attempts: ask your administrator to unlock your account." }
        return "Too many attempts. For your security, try again \(Format.inWords(until: retryAt, from: now)) (at \(Format.time(retryAt)))."
    }

    private func signOut(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        if let session = context.session { try await sessions.end(session) }
        var response = Response.redirect(to: "/signin?done=signed-out", type: .normal)
        response.setCookie(cookies.expired(cookies.session))
        response.setCookie(cookies.make(cookies.csrf, value: RandomToken.generate()))
        return response
    }

    private func frame(_ context: TwoStepRequestContext, title: String) -> PageFrame {
        PageFrame(title: title, csrf: context.csrfToken)
    }

    /// Texts a code to the SMS method's phone or the recovery phone, and shows the code page again.
    private func sendCode(_ context: SecondFactorContext, recoveryPhone: Bool) async throws -> Response {
        guard let result = try await twoFactor.sendSignInCode(to: context.user, recoveryPhone: recoveryPhone) else {
            throw WebRedirect(to: "/signin/code")
        }
        var page = try await codePage(context)
        (page.notice, page.error) = Format.smsResult(result, limits: twoFactor.smsCodes.limits)
        return pages.render(page, status: page.error == nil ? .ok : .tooManyRequests)
    }

    private func codePage(_ context: SecondFactorContext, recoveryCode: Bool = false) async throws -> SecurityCodePage {
        let status = try await twoFactor.status(of: context.user)
        return SecurityCodePage(
            frame: PageFrame(title: "Security code", csrf: context.csrfToken),
            recoveryCode: recoveryCode,
            email: context.user.name,
            trustDays: devices.trustDays,
            hasApp: status.kinds.contains(.totp),
            smsPhone: status.smsPhone,
            smsSent: try await twoFactor.hasActiveSignInCode(for: context.user),
            recoveryPhone: status.recoveryPhone
        )
    }
}
