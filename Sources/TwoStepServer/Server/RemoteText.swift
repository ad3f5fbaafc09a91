/// What a remote server wrote (an SMTP reply, an SMS provider's error message), made fit to go
/// into an error that is logged and shown. Such servers often quote the recipient: `550 5.1.1
/// <dave@example.com>: Recipient address rejected`, Twilio's "The 'To' number +31612345612 is not
/// a valid phone number." SPEC §2 keeps addresses and numbers out of logs; the rest of the text is
/// what tells an operator why.
enum RemoteText {
    /// `text` with addresses and numbers replaced, then only its printable ASCII (no line break
    /// can forge a log line), at most 120 characters. Replaced first, so that neither the cut nor
    /// the filter can leave a piece of an address behind.
    /// - Parameter recipient: The address or number the message was for, replaced wherever it
    ///   appears, also without its `+`.
    static func quoted(_ text: String, recipient: String? = nil) -> String {
        let scalars = redacted(text, recipient: recipient).unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }
        return String(String.UnicodeScalarView(scalars.prefix(120)))
    }

    private static func redacted(_ text: String, recipient: String?) -> String {
        var text = text
        if let recipient, recipient.count > 1 {
            text = text.replacing(recipient, with: "<recipient>")
            if recipient.hasPrefix("+") { text = text.replacing(String(recipient.dropFirst()), with: "<recipient>") }
        }
        return text.replacing(address, with: "<address>").replacing(number, with: "<number>")
    }

    /// Anything with an `@` between non-separators.
    nonisolated(unsafe) private static let address = /[^\s<>()\[\]",;:]+@[^\s<>()\[\]",;:]+/
    /// A `+` and 7 to 15 digits, each after at most two spaces, dots, dashes or brackets: the
    /// international form, which is what we send. Other long numbers (sizes, ids, times) stay.
    nonisolated(unsafe) private static let number = /\+[0-9](?:[ ().\-]{0,2}[0-9]){6,14}/
}
