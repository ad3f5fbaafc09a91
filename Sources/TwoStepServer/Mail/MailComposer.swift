import Foundation
import Mustache

/// Writes the messages TwoStep sends: the words live here, the layout in `mail-html.mustache` and
/// `mail-text.mustache`. Never a code or a secret in a subject (subjects show on lock screens and
/// in notification previews), and an alert never carries a link that signs in.
struct MailComposer: Sendable {
    let issuer: String
    /// Where links point (`--public-url`), never a request's Host header.
    let publicURL: String
    private let library: MustacheLibrary

    init(issuer: String, publicURL: String) {
        self.issuer = issuer
        self.publicURL = publicURL
        var library = MustacheLibrary()
        // `Pages` parses these at start-up with every other template and stops the server if one does not.
        for template in [Template.mailHTML, .mailText] {
            try? library.register(String(decoding: template.source, as: UTF8.self), named: template.rawValue)
        }
        self.library = library
    }

    /// What the two templates read.
    struct Content: Sendable {
        let issuer: String
        let heading: String
        let paragraphs: [String]
        var link: String? = nil
        var linkLabel: String? = nil
        /// Label and value pairs (when, browser, where from).
        var facts: [Fact] = []
        /// "Wasn't you?": what to do if the holder did not do this.
        var warning: String? = nil
        let footer: String

        struct Fact: Sendable {
            let label: String
            let value: String
        }
    }

    func link(_ path: String, token: String) -> String {
        "\(publicURL)\(path)?token=\(token)"
    }

    func message(to address: MailAddress, subject: String, purpose: MailPurpose, _ content: Content) -> MailMessage {
        MailMessage(
            to: address,
            subject: HeaderText(subject),
            text: library.render(content, withTemplate: Template.mailText.rawValue) ?? content.paragraphs.joined(separator: "\n\n"),
            html: library.render(content, withTemplate: Template.mailHTML.rawValue) ?? "",
            purpose: purpose
        )
    }

    private var footer: String { "This message was sent by \(issuer) to the address on your account. Replies are not read." }

    func verification(to email: String, link: String, newAddress: Bool) -> MailMessage? {
        guard let address = MailAddress(email) else { return nil }
        let why =
            newAddress
            ? "You asked to use this address for your \(issuer) account. It takes the place of the old one once you confirm it."
            : "Please confirm that this is the e-mail address of your new \(issuer) account."
        return message(
            to: address,
            subject: "Confirm your e-mail address for \(issuer)",
            purpose: .addressVerification,
            Content(
                issuer: issuer,
                heading: "Confirm your e-mail address",
                paragraphs: [why, "The link works once, for 24 hours."],
                link: link,
                linkLabel: "Confirm my address",
                warning: "If you did not ask for this, ignore this message: nothing changes.",
                footer: footer
            )
        )
    }

    func reset(to email: String, link: String) -> MailMessage? {
        guard let address = MailAddress(email) else { return nil }
        return message(
            to: address,
            subject: "Reset your \(issuer) password",
            purpose: .passwordReset,
            Content(
                issuer: issuer,
                heading: "Reset your password",
                paragraphs: [
                    "Someone asked to reset the password of your \(issuer) account. The link works once, for 30 minutes.",
                    "If two-factor authentication is on, you will also need your security code or a recovery code.",
                ],
                link: link,
                linkLabel: "Choose a new password",
                warning: "If you did not ask for this, ignore this message: your password stays as it is.",
                footer: footer
            )
        )
    }

    func addressChanged(to address: MailAddress, newAddress: String, at time: Date) -> MailMessage {
        message(
            to: address,
            subject: "Your \(issuer) e-mail address was changed",
            purpose: .addressChanged,
            Content(
                issuer: issuer,
                heading: "Your e-mail address was changed",
                paragraphs: ["Your \(issuer) account now uses \(newAddress). Messages about the account no longer come to this address."],
                facts: [Content.Fact(label: "When", value: Format.time(time))],
                warning: "Wasn’t you? Someone may have taken over your account: contact your \(issuer) administrator now.",
                footer: "This message was sent by \(issuer) to the address your account used until now. Replies are not read."
            )
        )
    }
}
