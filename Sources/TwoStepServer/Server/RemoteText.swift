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
    ///   appears, also without its `+` or in national form.
    static func quoted(_ text: String, recipient: String? = nil) -> String {
        let scalars = redacted(text, recipient: recipient).unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }
        return String(String.UnicodeScalarView(scalars.prefix(120)))
    }

    private static func redacted(_ text: String, recipient: String?) -> String {
        var text = text
        if let recipient, recipient.count > 1 {
            text = text.replacing(recipient, with: "<recipient>")
            // Its digits however written: without the `+`, in national form (`06 1234 5612` for
            // +31612345612), or run together with other numbers: any run of digits that holds its
            // last 7 goes whole.
            let tail = String(recipient.filter(\.isASCIIDigit).suffix(7))
            if tail.count == 7 {
                text = text.replacing(digitRun) { match in
                    match.output.filter(\.isASCIIDigit).contains(tail) ? "<recipient>" : String(match.output)
                }
            }
        }
        return text.replacing(address, with: "<address>").replacing(number, with: "<number>")
    }

    /// Anything with an `@` between non-separators, also percent-encoded (`to=dave%40example.com`
    /// in a quoted URL or form, whose `?`, `=` and `&` separate too).
    nonisolated(unsafe) private static let address = /[^\s<>()\[\]",;:?=&]+(?:@|%40)[^\s<>()\[\]",;:?=&]+/
    /// A `+` and 7 to 15 digits, each after at most two spaces, dots, dashes or brackets: the
    /// international form, which is what we send. Other long numbers (sizes, ids, times) stay.
    nonisolated(unsafe) private static let number = /\+[0-9](?:[ ().\-]{0,2}[0-9]){6,14}/
    /// Digits with the separators `number` allows between them, and no `+`, compared with the
    /// recipient's. Matched from the left and greedy, a run is never a piece of a longer one.
    nonisolated(unsafe) private static let digitRun = /[0-9](?:[ ().\-]{0,2}[0-9])*/
}
