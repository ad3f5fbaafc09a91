/// Every Mustache template in `Resources/templates/`, by the name pages and partials use for it.
/// The files are compiled into the binary (`PackageResources`), so a template named here but
/// missing from the folder does not build, and `Pages` compiles each one at start-up.
enum Template: String, CaseIterable, Sendable {
    // The frame and the pieces pages share.
    case layout, profileLayout = "profile-layout", menu, csrfField = "csrf-field", formError = "form-error", notice
    case webAuthnError = "webauthn-error"
    // Signing up and in.
    case signUp = "signup", signIn = "signin", securityCode = "security-code", recoverySignIn = "recovery-sign-in"
    // The profile.
    case profile, twoFactor = "two-factor", enable, app, disable, confirm, phone, phoneVerify = "phone-verify"
    case recoveryCodes = "recovery-codes", recoveryPrint = "recovery-print"
    // Security keys and passkeys (issue 17).
    case securityKeyAdd = "security-key-add", securityKeyRemove = "security-key-remove"
    // Signing in for other applications (issue 14).
    case message, `continue`, signOutConfirm = "signout-confirm"
    // E-mail links and the address (issue 15).
    case forgotPassword = "forgot-password", resetPassword = "reset-password", verifyEmail = "verify-email", changeEmail = "change-email"
    // The help-desk console (issue 18).
    case helpDeskLayout = "help-desk-layout", helpDeskSearch = "help-desk-search", helpDeskAccount = "help-desk-account"
    case helpDeskAudit = "help-desk-audit"
    // Development only.
    case outbox, mailbox
    // E-mail (not pages): the HTML and plain-text parts of every message.
    case mailHTML = "mail-html", mailText = "mail-text"

    /// The template's text, as compiled into the binary.
    var source: [UInt8] {
        switch self {
        case .layout: PackageResources.layout_mustache
        case .profileLayout: PackageResources.profile_layout_mustache
        case .menu: PackageResources.menu_mustache
        case .csrfField: PackageResources.csrf_field_mustache
        case .formError: PackageResources.form_error_mustache
        case .notice: PackageResources.notice_mustache
        case .webAuthnError: PackageResources.webauthn_error_mustache
        case .signUp: PackageResources.signup_mustache
        case .signIn: PackageResources.signin_mustache
        case .securityCode: PackageResources.security_code_mustache
        case .recoverySignIn: PackageResources.recovery_sign_in_mustache
        case .profile: PackageResources.profile_mustache
        case .twoFactor: PackageResources.two_factor_mustache
        case .enable: PackageResources.enable_mustache
        case .app: PackageResources.app_mustache
        case .disable: PackageResources.disable_mustache
        case .confirm: PackageResources.confirm_mustache
        case .phone: PackageResources.phone_mustache
        case .phoneVerify: PackageResources.phone_verify_mustache
        case .recoveryCodes: PackageResources.recovery_codes_mustache
        case .recoveryPrint: PackageResources.recovery_print_mustache
        case .securityKeyAdd: PackageResources.security_key_add_mustache
        case .securityKeyRemove: PackageResources.security_key_remove_mustache
        case .outbox: PackageResources.outbox_mustache
        case .message: PackageResources.message_mustache
        case .continue: PackageResources.continue_mustache
        case .signOutConfirm: PackageResources.signout_confirm_mustache
        case .forgotPassword: PackageResources.forgot_password_mustache
        case .resetPassword: PackageResources.reset_password_mustache
        case .verifyEmail: PackageResources.verify_email_mustache
        case .changeEmail: PackageResources.change_email_mustache
        case .mailbox: PackageResources.mailbox_mustache
        case .helpDeskLayout: PackageResources.help_desk_layout_mustache
        case .helpDeskSearch: PackageResources.help_desk_search_mustache
        case .helpDeskAccount: PackageResources.help_desk_account_mustache
        case .helpDeskAudit: PackageResources.help_desk_audit_mustache
        case .mailHTML: PackageResources.mail_html_mustache
        case .mailText: PackageResources.mail_text_mustache
        }
    }

    /// Every template's text by name, as `Pages` loads them.
    static var embedded: [String: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, String(decoding: $0.source, as: UTF8.self)) })
    }
}
