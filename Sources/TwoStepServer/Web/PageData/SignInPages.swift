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
    var notice: String? = nil
    var error: String? = nil
}
