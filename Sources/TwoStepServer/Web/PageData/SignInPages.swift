/// **Create account** (SPEC F1).
struct SignUpPage: PageContent {
    var template: Template { .signUp }
    let frame: PageFrame
    var emailValue = ""
    var error: String? = nil
    /// `--signup off`: the page says so and shows no form.
    var closed = false
}

/// **Sign in** with e-mail address and password (SPEC F1).
struct SignInPage: PageContent {
    var template: Template { .signIn }
    let frame: PageFrame
    var emailValue = ""
    var notice: String? = nil
    var error: String? = nil
    /// Whether to link to the sign-up page (`--signup open`).
    var signUpOpen = true
    /// Where to go once signed in (`rd`, already validated by `ReturnAddressPolicy`).
    var returnTo: String? = nil
    /// **Sign in with a passkey** (issue 17): the request options, when passkey sign-in is offered.
    var passkeyOptions: String? = nil
}

/// The second step (SPEC F2): **Security code**, or a recovery code in its place.
struct SecurityCodePage: PageContent {
    var template: Template { recoveryCode ? .recoverySignIn : .securityCode }
    let frame: PageFrame
    /// The recovery-code form rather than the security-code one.
    let recoveryCode: Bool
    let email: String
    let trustDays: Int
    /// Whether the account has the authenticator app.
    let hasApp: Bool
    /// The SMS method's phone, masked.
    let smsPhone: String?
    /// Whether a code sent to it is still usable (the button then says "Resend code").
    let smsSent: Bool
    /// The recovery phone, masked.
    let recoveryPhone: String?
    /// **Use your security key** (issue 17): the request options, when the account has a key.
    var securityKeyOptions: String? = nil
    /// Whether a code can be typed (app, SMS or recovery phone); an account with keys alone sees only them.
    var hasCodes = true
    var notice: String? = nil
    var error: String? = nil
}

/// A page that only says something: a refused return address, an unknown application.
struct MessagePage: PageContent {
    var template: Template { .message }
    let frame: PageFrame
    let heading: String
    let message: String
    var link: Link? = nil

    struct Link: Sendable {
        let href: String
        let label: String
    }
}

/// After signing in, on to the address the sign-in was for. A page with a refresh rather than a
/// redirect: the CSP's `form-action 'self'` also covers redirects that follow a form (CSP 3), and
/// the address may be another host under the cookie domain.
struct ContinuePage: PageContent {
    var template: Template { .continue }
    let frame: PageFrame
    let address: String
    /// The host (or "TwoStep") named on the link.
    let destination: String
}

/// RP-initiated logout that does not prove which application asked (OpenID Connect RP-Initiated Logout §2).
struct SignOutConfirmPage: PageContent {
    var template: Template { .signOutConfirm }
    let frame: PageFrame
    /// Sent back with the form, and checked again then.
    let redirectURI: String?
    let clientID: String?
    let state: String?
}

/// **Forgot your password?** (issue 15).
struct ForgotPasswordPage: PageContent {
    var template: Template { .forgotPassword }
    let frame: PageFrame
    var emailValue = ""
    var notice: String? = nil
    var error: String? = nil
}

/// A reset link's page: invalid, the second factor, or the new password.
struct ResetPasswordPage: PageContent {
    var template: Template { .resetPassword }
    var frame: PageFrame
    let token: String
    var invalid = false
    var secondFactor = false
    var newPassword = false
    var email = ""
    var hasApp = false
    var smsPhone: String? = nil
    var recoveryPhone: String? = nil
    /// The request options for a security key as the reset's second factor (issue 17).
    var securityKeyOptions: String? = nil
    var notice: String? = nil
    var error: String? = nil
}

/// A verification link's page: a button, so a mail scanner opening the link confirms nothing.
struct VerifyEmailPage: PageContent {
    var template: Template { .verifyEmail }
    let frame: PageFrame
    let token: String
    let usable: Bool
    let issuer: String
    var notice: String? = nil
    var error: String? = nil
}
