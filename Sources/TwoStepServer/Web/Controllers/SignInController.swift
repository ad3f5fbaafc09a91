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
    /// Security keys at the second step, and passkey sign-in (issue 17).
    let keys: WebAuthnService
    /// Sign-up sends the link that confirms the address.
    let email: EmailService
    let pages: Pages
    let cookies: CookieNames
    let continuation: SignInContinuation

    func addRoutes(to router: RouterGroup<TwoStepRequestContext>) {
        router.get("/") { _, context in
            Response.redirect(to: context.session?.stage == .signedIn ? "/profile" : "/signin", type: .normal)
        }
        router.get("/signup") { _, context in
            let page = SignUpPage(frame: frame(context, title: "Create your account"), closed: !accounts.signUpOpen)
            return pages.render(page, status: accounts.signUpOpen ? .ok : .forbidden)
        }
        router.post("/signup", use: signUp)
        router.get("/signin", use: signInPage)
        router.post("/signin", use: signIn)
        router.post("/signin/passkey", use: signInWithPasskey)
        router.get("/signin/continue", use: continuePage)
        router.post("/signout", use: signOut)

        let secondStep = router.group("/signin", context: SecondFactorContext.self)
        secondStep.get("code") { _, context in pages.render(try await codePage(context)) }
        secondStep.post("sms") { _, context in try await sendCode(context, recoveryPhone: false) }
        secondStep.post("recovery-phone") { _, context in try await sendCode(context, recoveryPhone: true) }
        secondStep.post("code", use: submitCode)
        secondStep.post("security-key", use: submitSecurityKey)
        secondStep.get("recovery") { _, context in pages.render(try await codePage(context, recoveryCode: true)) }
        secondStep.post("recovery", use: submitCode)
    }

    private struct Credentials: Decodable {
        let email: String?
        let password: String?
        /// Where to go afterwards (issue 14): checked by `ReturnAddressPolicy`.
        let rd: String?
    }

    private func signInPage(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let notice: String? =
            switch request.uri.queryParameters["done"] {
            case "signed-out": "You are signed out."
            case "signed-out-everywhere": "You are signed out on every device and every API token has ended."
            case "password-reset": "Your password is changed and every session has ended. Sign in with the new password."
            default: nil
            }
        let rd = request.uri.queryParameters["rd"].map(String.init)
        guard rd == nil || continuation.policy.validated(rd) != nil else { return refusedReturnAddress(context) }
        if rd != nil {
            var response: Response
            switch try await signIns.returning(session: context.session, user: context.user) {
            case .signIn: response = try await signInForm(context, notice: notice, returnTo: rd)
            case .continueNow: response = Response.redirect(to: "/signin/continue", type: .normal)
            case .enrolFirst: response = Response.redirect(to: "/profile/two-factor/enable", type: .normal)
            }
            continuation.remember(rd, in: &response)
            return response
        }
        return try await signInForm(context, notice: notice, returnTo: nil)
    }

    private func signInForm(_ context: TwoStepRequestContext, notice: String?, returnTo: String?) async throws -> Response {
        pages.render(try await signInPage(context, notice: notice, returnTo: returnTo))
    }

    /// The sign-in form, with **Sign in with a passkey**: its challenge is bound to this browser's
    /// CSRF cookie (there is no session yet), so only this browser can answer it.
    private func signInPage(_ context: TwoStepRequestContext, notice: String? = nil, returnTo: String?) async throws -> SignInPage {
        SignInPage(
            frame: frame(context, title: "Sign in").withWebAuthn(),
            notice: notice,
            signUpOpen: accounts.signUpOpen,
            returnTo: returnTo,
            passkeyOptions: try await keys.passkeyOptions(browserSecret: context.csrfToken)
        )
    }

    /// A return address the policy refuses: said plainly, with no link to it (issue 14, open redirects).
    private func refusedReturnAddress(_ context: TwoStepRequestContext) -> Response {
        let page = MessagePage(
            frame: frame(context, title: "Address refused"),
            heading: "This sign-in link is not allowed",
            message: "The link that brought you here would send you on to an address this server does not sign in for. "
                + "Nothing was done. Go back to the application you came from and try again, or sign in to TwoStep directly.",
            link: MessagePage.Link(href: "/signin", label: "Sign in to TwoStep")
        )
        return pages.render(page, status: .badRequest)
    }

    /// After the sign-in: on to the remembered address, once (the cookie is spent here).
    private func continuePage(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        guard context.session?.stage == .signedIn, let address = continuation.address(request) else {
            return Response.redirect(to: context.session?.stage == .signedIn ? "/profile" : "/signin", type: .normal)
        }
        let host = URLComponents(string: address)?.host ?? "TwoStep"
        var response = pages.render(ContinuePage(frame: frame(context, title: "Signed in"), address: address, destination: host))
        response.setCookie(cookies.expired(cookies.returnAddress))
        return response
    }

    static let signUpClosed = "Sign-up is closed on this server. Ask its administrator for an account."

    private func signUp(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: Credentials.self, context: context)
        let email = form.email ?? ""
        switch try await self.email.signUp(email: email, password: form.password ?? "") {
        case .success(let user):
            let id = try await sessions.start(
                userID: user.id,
                stage: .signedIn,
                methods: SignInService.passwordOnly,
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
        guard form.rd == nil || form.rd == "" || continuation.policy.validated(form.rd) != nil else { return refusedReturnAddress(context) }
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
                signUpOpen: accounts.signUpOpen,
                returnTo: continuation.policy.validated(form.rd)
            )
            return pages.render(page, status: .unauthorized)
        case .tooManyAttempts(let retryAt):
            let message = Self.tooManyAttempts(retryAt: retryAt, now: accounts.now())
            return pages.render(
                SignInPage(frame: frame(context, title: "Sign in"), emailValue: form.email ?? "", error: message),
                status: .tooManyRequests
            )
        case .signedIn(_, let id):
            var response = redirect(to: continuation.policy.validated(form.rd) == nil ? "/profile" : "/signin/continue", session: id)
            continuation.remember(form.rd, in: &response)
            return response
        case .secondFactorRequired(_, let id):
            var response = redirect(to: "/signin/code", session: id)
            continuation.remember(form.rd, in: &response)
            return response
        case .enrolmentRequired(_, let id, _):
            // "Set up two-factor authentication to continue" (issue 18); Not now, in grace, goes on to the address.
            var response = redirect(to: "/profile/two-factor/enable", session: id)
            continuation.remember(form.rd, in: &response)
            return response
        }
    }

    private struct PasskeyForm: Decodable {
        let credential: String?
        let rd: String?
    }

    /// **Sign in with a passkey** (issue 17): no password, no code; the key verified its holder.
    private func signInWithPasskey(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeForm(as: PasskeyForm.self, context: context)
        guard form.rd == nil || form.rd == "" || continuation.policy.validated(form.rd) != nil else { return refusedReturnAddress(context) }
        let outcome = try await signIns.signInWithPasskey(
            binding: .browser(secret: context.csrfToken),
            responseJSON: form.credential ?? "",
            userAgent: request.headers[.userAgent] ?? "",
            replacing: context.session
        )
        let error: String
        let status: HTTPResponse.Status
        switch outcome {
        case .signedIn(_, let id):
            var response = redirect(to: continuation.policy.validated(form.rd) == nil ? "/profile" : "/signin/continue", session: id)
            continuation.remember(form.rd, in: &response)
            return response
        case .malformed:
            (error, status) = (Self.unreadableKeyAnswer, .badRequest)
        case .refused(let verification):
            (error, status) = (Self.passkeyRefusal(verification, now: accounts.now()), .unauthorized)
        }
        var page = try await signInPage(context, returnTo: continuation.policy.validated(form.rd))
        page.error = error
        return pages.render(page, status: status)
    }

    static let unreadableKeyAnswer = "Your browser’s answer could not be read. Try again; if it keeps failing, try another browser."

    /// A refused passkey: which account it was for is never said (the page knows no account yet).
    static func passkeyRefusal(_ verification: TwoFactorService.Verification, now: Date) -> String {
        switch verification {
        case .rejected(nil), .accepted:
            "That passkey was not accepted. Use a passkey you added to your TwoStep account, or sign in with your password."
        case .rejected(let retryAt?), .wait(let retryAt):
            "Too many failed attempts. For your security, try again \(Format.inWords(until: retryAt, from: now)) (at \(Format.time(retryAt)))."
        case .locked:
            "Too many failed attempts: this account's second step is locked. Sign in with your password and a recovery code."
        }
    }

    /// A refused security key at the second step.
    static func keyRefusal(_ verification: TwoFactorService.Verification, now: Date) -> String {
        switch verification {
        case .rejected(nil), .accepted: "That security key was not accepted. Use a key you added to this account and try again."
        default: Format.refusal(verification, now: now)
        }
    }

    private struct KeyForm: Decodable {
        let credential: String?
        let trust: String?
    }

    /// **Use your security key** at the second step; "Trust this device" as with a code.
    private func submitSecurityKey(_ request: Request, context: SecondFactorContext) async throws -> Response {
        let form = try await request.decodeForm(as: KeyForm.self, context: context)
        let outcome = try await signIns.completeSecondFactorWithKey(
            session: context.session,
            user: context.user,
            responseJSON: form.credential ?? "",
            trustDevice: form.trust == "on",
            userAgent: request.headers[.userAgent] ?? ""
        )
        var page: SecurityCodePage
        let status: HTTPResponse.Status
        switch outcome {
        case .signedIn(let id, _, let deviceToken, let demand):
            return signedIn(request, session: id, deviceToken: deviceToken, fallback: "/profile", demand: demand)
        case .malformed:
            page = try await codePage(context)
            (page.error, status) = (Self.unreadableKeyAnswer, .badRequest)
        case .refused(let verification):
            page = try await codePage(context)
            (page.error, status) = (Self.keyRefusal(verification, now: accounts.now()), .unauthorized)
        }
        return pages.render(page, status: status)
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
        case .signedIn(let id, let method, let deviceToken, let demand):
            let usedRecoveryCode = if case .recoveryCode = method { true } else { false }
            return signedIn(
                request,
                session: id,
                deviceToken: deviceToken,
                fallback: usedRecoveryCode ? "/profile/two-factor?done=recovery-used" : "/profile",
                demand: demand
            )
        case .refused(let verification):
            var page = try await codePage(context, recoveryCode: request.uri.path.hasSuffix("/recovery"))
            page.error = Format.refusal(verification, now: accounts.now())
            return pages.render(page, status: .unauthorized)
        }
    }

    /// The second step passed: on to the remembered address or `fallback`, trusted if asked.
    /// - Parameter demand: The 2FA policy asks the account to switch to a method it allows (issue 18):
    ///   that page first; the application's address waits in its cookie.
    private func signedIn(
        _ request: Request,
        session id: String,
        deviceToken: String?,
        fallback: String,
        demand: SignInService.EnrolmentDemand? = nil
    ) -> Response {
        let next = demand != nil ? "/profile/two-factor/enable" : continuation.next(request, fallback: fallback)
        var response = redirect(to: next, session: id)
        if let deviceToken {
            response.setCookie(cookies.make(cookies.trustedDevice, value: deviceToken, maxAge: Int(devices.lifetime)))
        }
        return response
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
        // A pending return address belongs to the sign-in that is ending (issue 14).
        response.setCookie(cookies.expired(cookies.returnAddress))
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
        // **Use your security key**: a challenge for this half-way session, when the account has a key.
        let keyOptions = recoveryCode ? nil : try await keys.authenticationOptions(user: context.user, session: context.session)
        let frame = PageFrame(title: "Security code", csrf: context.csrfToken)
        return SecurityCodePage(
            frame: keyOptions == nil ? frame : frame.withWebAuthn(),
            recoveryCode: recoveryCode,
            email: context.user.name,
            trustDays: devices.trustDays,
            hasApp: status.kinds.contains(.totp),
            smsPhone: status.smsPhone,
            smsSent: try await twoFactor.hasActiveSignInCode(for: context.user),
            recoveryPhone: status.recoveryPhone,
            securityKeyOptions: keyOptions,
            // An account with keys alone is not offered a code field it has nothing to type into.
            hasCodes: keyOptions == nil || status.kinds.contains(.totp) || status.smsPhone != nil || status.recoveryPhone != nil
        )
    }
}
