/// The profile dashboard (SPEC F3).
struct ProfilePage: PageContent {
    var template: Template { .profile }
    let frame: PageFrame
    let email: String
    /// Whether the account has an address at all (a service may name it by its own id only).
    var hasEmail = true
    /// Whether the address was confirmed by its link (issue 15).
    var verified = false
    let memberSince: String
    let enabled: Bool
    var notice: String? = nil
    var error: String? = nil
}

/// **Two-Factor Authentication**: status, method, recovery phone and codes, trusted devices and
/// recent security activity (SPEC F3, F6, F8, F9, F10).
struct TwoFactorPage: PageContent {
    var template: Template { .twoFactor }
    let frame: PageFrame
    /// `--allowed-methods` includes key (issue 18): **Add security key** is offered.
    var keysAllowed = true
    let enabled: Bool
    /// "App (authenticator app)" or "SMS to +31 ••• 78".
    let method: String?
    /// On, with security keys alone: the app or SMS may be added beside them.
    let canAddMethod: Bool
    /// The recovery phone, masked.
    let recoveryPhone: String?
    let hasRecoveryCodes: Bool
    let recoveryRemaining: Int
    let recoveryTotal: Int
    let recoveryGenerated: String?
    let recoveryLow: Bool
    let recoveryNoneLeft: Bool
    let devices: [Device]
    let events: [Event]
    let notice: String?
    var error: String? = nil
    /// Security keys and passkeys, oldest first (issue 17).
    var keys: [SecurityKey] = []

    struct SecurityKey: Sendable {
        let id: Int64
        let name: String
        let passkey: Bool
        let added: String
        /// "Never" until it has signed in once.
        let lastUsed: String
    }

    struct Device: Sendable {
        let id: Int64
        let browser: String
        let created: String
        let lastUsed: String
        let expires: String
        /// The browser showing the page.
        let current: Bool
    }

    struct Event: Sendable {
        let when: String
        let iso: String
        let what: String
        /// `nil` when there is nothing to add (no dangling dash).
        let detail: String?
        /// The client address it came from (SPEC F10); `nil` for an operator's command.
        let address: String?
    }
}

/// **Enable**: choose **App** or **SMS** (SPEC F4, F5).
struct EnablePage: PageContent {
    var template: Template { .enable }
    let frame: PageFrame
    /// The methods the operator allows and the account may start now (`--allowed-methods`).
    var app = true
    var sms = true
    var key = false
    /// The 2FA policy (or an operator reset) asks for a method: "Set up two-factor authentication to continue".
    var required = false
    /// Every method the account has is one the operator no longer allows.
    var switching = false
    /// Within the grace period: **Not now** and how long is left.
    var notNow = false
    var daysLeft: String? = nil
    var deadline: String? = nil
}

/// The App page: the key as a QR code and as text, and the code that activates it (SPEC F4).
struct AppPage: PageContent {
    var template: Template { .app }
    let frame: PageFrame
    /// Markup we generate (inline SVG), rendered unescaped.
    let qrSVG: String
    let manualKey: String
    let expires: String
    let trustDays: Int
    var error: String? = nil
}

/// **Add security key** and **Add a passkey** (issue 17): a name, and the browser's ceremony for
/// the options in `options` (WebAuthn Level 3 JSON, HTML-escaped into a `data-` attribute).
struct SecurityKeyAddPage: PageContent {
    var template: Template { .securityKeyAdd }
    let frame: PageFrame
    let passkey: Bool
    let options: String
    var nameValue = ""
    var error: String? = nil
}

/// Removing a security key or passkey, after re-authentication.
struct SecurityKeyRemovePage: PageContent {
    var template: Template { .securityKeyRemove }
    let frame: PageFrame
    let id: Int64
    let name: String
    let passkey: Bool
    let added: String
    var error: String? = nil
}

/// **Disable** (SPEC F7).
struct DisablePage: PageContent {
    var template: Template { .disable }
    let frame: PageFrame
    var error: String? = nil
}

/// "Confirm it's you" before a sensitive change (SPEC §2).
struct ConfirmPage: PageContent {
    var template: Template { .confirm }
    let frame: PageFrame
    /// Where to go once confirmed (a path inside the profile).
    let next: String
    var error: String? = nil
}

/// The number for the SMS method or the recovery phone (SPEC F5, F8).
struct PhonePage: PageContent {
    var template: Template { .phone }
    let frame: PageFrame
    /// `sms` or `recovery-phone`, the routes' folder.
    let path: String
    let isSMS: Bool
    var phoneValue = ""
    var error: String? = nil
}

/// The code texted to a phone being enrolled.
struct PhoneVerifyPage: PageContent {
    var template: Template { .phoneVerify }
    let frame: PageFrame
    let path: String
    let isSMS: Bool
    let trustDays: Int
    let maskedPhone: String?
    var notice: String? = nil
    var error: String? = nil
}

/// The recovery codes, new or shown again (SPEC F9).
struct RecoveryCodesPage: PageContent {
    var template: Template { .recoveryCodes }
    let frame: PageFrame
    /// Just generated: the page says the old ones no longer work.
    let fresh: Bool
    let codes: [String]
}

/// The recovery codes on a page of their own, made to be printed (SPEC F9: **Print**).
struct RecoveryPrintPage: PageContent {
    var template: Template { .recoveryPrint }
    let frame: PageFrame
    let email: String
    let date: String
    let codes: [String]
}

/// Development only: the text messages the outbox gateway would have sent.
struct OutboxPage: PageContent {
    var template: Template { .outbox }
    let frame: PageFrame
    let messages: [Message]

    struct Message: Sendable {
        let to: String
        let body: String
        let purpose: String
        let when: String
    }
}

struct MailboxPage: PageContent {
    var template: Template { .mailbox }
    let frame: PageFrame
    let messages: [Message]

    struct Message: Sendable {
        let to: String
        let subject: String
        let text: String
        let purpose: String
        let when: String
        /// The message's link, clickable on the page.
        let link: String?

        init(to: String, subject: String, text: String, purpose: String, when: String) {
            self.to = to
            self.subject = subject
            self.text = text
            self.purpose = purpose
            self.when = when
            link = text.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") || $0.hasPrefix("https://") }.map(String.init)
        }
    }
}

/// **Change e-mail address** (issue 15).
struct ChangeEmailPage: PageContent {
    var template: Template { .changeEmail }
    let frame: PageFrame
    let email: String
    var emailValue = ""
    var notice: String? = nil
    var error: String? = nil
}
