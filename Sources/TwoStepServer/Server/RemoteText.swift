/// What a remote server wrote (an SMTP reply, an SMS provider's error message), with whatever looks
/// like an e-mail address or a phone number replaced, before it goes into an error that is logged
/// and shown. Such servers often quote the recipient: `550 5.1.1 <dave@example.com>: Recipient
/// address rejected`, Twilio's "The 'To' number +31612345612 is not a valid phone number." SPEC §2
/// keeps addresses and numbers out of logs; the rest of the text is what tells an operator why.
enum RemoteText {
    static func redacted(_ text: String) -> String {
        text.replacing(address, with: "<address>").replacing(number, with: "<number>")
    }

    /// Anything with an `@` between non-separators.
    nonisolated(unsafe) private static let address = /[^\s<>()\[\]",;:]+@[^\s<>()\[\]",;:]+/
    /// A `+` and 7 or more digits, spaces, dots, dashes or brackets; or 7 digits in a row. Reply
    /// codes and enhanced status codes (`550 5.1.1`) stay.
    nonisolated(unsafe) private static let number = /\+[0-9][0-9 ().\-]{5,}[0-9]|[0-9]{7,}/
}
