import Foundation
import Logging
import ServiceLifecycle
import TwoStepCore
import TwoStepStore

/// Security alerts by e-mail (issue 15; NIST SP 800-63B §4.6: binding or removing an authenticator
/// and recovering an account SHALL be notified to the holder).
///
/// Alerts are read off the security events as they are recorded, not sent by each service: every
/// path that records an event (pages, API, operator commands, a future one) is covered without
/// knowing about mail, and the decision per kind of event is one exhaustive `switch`, so a new
/// kind does not build until someone decides whether the holder hears of it. Each event is
/// claimed by exactly one instance (`SecurityAlertRepository`), so each alert goes once.
struct SecurityAlertService: Sendable {
    let store: any SecurityAlertRepository & UserRepository
    let mail: MailSender
    let composer: MailComposer
    let now: Now
    let logger: Logger

    /// What the holder is told about one kind of event, or `nil` for none.
    struct Alert: Equatable {
        let subject: String
        let what: String
    }

    /// Which events are mailed: every change to sign-in methods, recovery options, password and
    /// address (SPEC F12). Sign-ins and wrong codes are not (they are in the activity list; a
    /// lockout, which is what many of them lead to, is).
    static func alert(for kind: SecurityEventKind) -> Alert? {
        switch kind {
        case .twoFactorEnabled: Alert(subject: "Two-factor authentication was turned on", what: "Two-factor authentication was turned on")
        case .twoFactorDisabled: Alert(subject: "Two-factor authentication was turned off", what: "Two-factor authentication was turned off")
        case .operatorReset:
            Alert(subject: "Two-factor authentication was reset", what: "An administrator removed the two-factor authentication of your account")
        case .recoveryPhoneAdded: Alert(subject: "A recovery phone number was added", what: "A recovery phone number was added")
        case .recoveryPhoneChanged: Alert(subject: "Your recovery phone number was changed", what: "Your recovery phone number was changed")
        case .recoveryPhoneRemoved: Alert(subject: "Your recovery phone number was removed", what: "Your recovery phone number was removed")
        case .recoveryCodesGenerated:
            Alert(subject: "New recovery codes were generated", what: "New recovery codes were generated; the old ones no longer work")
        case .recoveryCodeUsed: Alert(subject: "A recovery code was used", what: "A recovery code was used to sign in")
        case .deviceTrusted: Alert(subject: "A new device is trusted", what: "A browser was trusted to skip the security code")
        case .lockedOut: Alert(subject: "Sign-in attempts were blocked", what: "Too many wrong attempts: signing in is blocked for a while")
        case .passwordChanged: Alert(subject: "Your password was changed", what: "Your password was changed")
        case .passwordReset: Alert(subject: "Your password was reset", what: "Your password was reset with a link sent by e-mail")
        case .securityKeyAdded: Alert(subject: "A security key was added", what: "A security key or passkey was added to your account")
        case .securityKeyRemoved: Alert(subject: "A security key was removed", what: "A security key or passkey was removed from your account")
        // A copied key is someone else holding your second factor: worth a mail although the sign-in was refused.
        case .securityKeyCloneSuspected:
            Alert(
                subject: "A security key may have been copied",
                what: "A sign-in with one of your security keys was refused: the key may have been copied"
            )
        // The old address is told by `EmailService.verify` when the new one takes over: the new
        // one has just proven itself and needs no alert.
        case .emailChanged: nil
        case .signedUp, .signedIn, .signInFailed, .passwordFailed, .secondFactorFailed, .secondFactorReplayed, .deviceRevoked,
            .recoveryCodesShown, .apiKeyLinked, .signedOutEverywhere, .operatorUnlock, .emailVerified, .securityKeyRenamed:
            nil
        // Operator actions on no account (issue 16): in the audit trail, nobody's mailbox.
        case .apiKeyCreated, .apiKeyRevoked, .masterKeyRotated, .usersImported, .databaseBackedUp, .databaseRestored: nil
        // A help-desk role changes what the account may do to others, not how it signs in: it is
        // for the audit trail, which admins read (issue 18).
        case .roleChanged: nil
        }
    }

    /// The kinds `alert(for:)` mails; the store records the others as needing none.
    static let alertingKinds = Set(SecurityEventKind.allCases.filter { alert(for: $0) != nil })

    /// A lockout repeats with every wait during an attack: one alert a day says it.
    static let lockoutAlertInterval: TimeInterval = 86_400

    /// Sends the alerts of the events recorded since the last call.
    /// - Returns: How many alerts went out.
    @discardableResult
    func dispatch() async throws -> Int {
        var sent = 0
        while true {
            let events = try await store.claimEventsForAlerts(limit: 50)
            if events.isEmpty { return sent }
            for event in events where try await deliver(event) { sent += 1 }
        }
    }

    private func deliver(_ event: SecurityEvent) async throws -> Bool {
        guard let alert = Self.alert(for: event.kind) else {
            try await store.setAlertState("none", eventID: event.id)
            return false
        }
        // Only to a confirmed address: a mistyped address at sign-up must not receive the account's news.
        guard let user = try await store.user(id: event.userID), user.emailVerifiedAt != nil, let email = user.email,
            let address = MailAddress(email)
        else {
            try await store.setAlertState("none", eventID: event.id)
            return false
        }
        if event.kind == .lockedOut,
            try await store.alertSent(userID: user.id, kind: .lockedOut, since: event.createdAt - UnixTime(Self.lockoutAlertInterval))
        {
            try await store.setAlertState("repeat", eventID: event.id)
            return false
        }
        let error = await mail.send(composer.alert(alert, event: event, to: address))
        try await store.setAlertState(error == nil ? "sent" : "failed", eventID: event.id)
        return error == nil
    }
}

/// Runs `SecurityAlertService.dispatch` every second with the server, so an alert follows its
/// event within about a second on whichever instance claims it.
struct SecurityAlertDispatcher: Service {
    let alerts: SecurityAlertService
    var interval: Duration = .seconds(1)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await alerts.dispatch()
                } catch {
                    // By type only, as every unexpected error is logged (SPEC §2).
                    alerts.logger.error("security alerts not dispatched", metadata: ["error_type": .errorType(error)])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

extension MailComposer {
    /// An alert: what happened, when, in which browser and from where, and what to do if it was
    /// not the holder. No link at all: an alert must never be a way in (OWASP: notifications carry
    /// no credentials), and a phishing copy of it cannot teach people to click.
    func alert(_ alert: SecurityAlertService.Alert, event: SecurityEvent, to address: MailAddress) -> MailMessage {
        var facts = [Content.Fact(label: "When", value: Format.time(Date(unixTime: event.createdAt)))]
        facts.append(
            Content.Fact(
                label: "Browser",
                value: event.userAgent.isEmpty ? "none (an administrator’s command)" : BrowserName.describe(event.userAgent)
            )
        )
        if !event.clientAddress.isEmpty { facts.append(Content.Fact(label: "From", value: event.clientAddress)) }
        // Details name a method, a masked number or a count, never a code.
        if !event.detail.isEmpty { facts.append(Content.Fact(label: "Details", value: event.detail)) }
        return message(
            to: address,
            subject: "\(issuer): \(alert.subject)",
            purpose: .securityAlert,
            Content(
                issuer: issuer,
                heading: alert.subject,
                paragraphs: ["\(alert.what) on your \(issuer) account (\(address.address))."],
                facts: facts,
                warning:
                    "Wasn’t you? Sign in to \(issuer) yourself (not from a link in an e-mail), change your password and check Two-Factor Authentication. If you cannot sign in, use “Forgot your password?” or contact your administrator.",
                footer: "This is an automatic security alert from \(issuer). Replies are not read."
            )
        )
    }
}
