/// What a remote server wrote (an SMTP reply, an SMS provider's error message), made fit to go
/// into an error that is logged and shown. Such servers often quote the recipient: `550 5.1.1
/// <dave@example.com>: Recipient address rejected`, Twilio's "The 'To' number +31612345612 is not
/// a valid phone number." SPEC §2 keeps addresses and numbers out of logs; the rest of the text is
/// what tells an operator why.
enum RemoteText {
    /// `text` with addresses and numbers replaced, then only its printable ASCII (no line break
    /// can forge a log line), replaced again, then at most 120 characters. Replaced before the
    /// filter, which would leave pieces of `<δημ@example.gr>`, and after it, which joins digits
    /// that other separators kept apart (`06 1234 5612` with no-break spaces); the markers hold
    /// neither digits nor `@`. Replaced before the cut, which would leave pieces too.
    /// - Parameter recipient: The address or number the message was for, replaced wherever it
    ///   appears, also as its digits are written in national form or in a URL.
    /// - Returns: Only the length of a text longer than an SMTP reply line may be (512 octets,
    ///   RFC 5321 §4.5.3.1.5): that is no reply to quote, and the searches take time quadratic in
    ///   a long run of letters (64 KiB of them took 28 s in a debug build).
    static func quoted(_ text: String, recipient: String? = nil) -> String {
        guard text.utf8.count <= 512 else { return "(\(text.utf8.count) bytes, not shown)" }
        let printable = redacted(text, recipient: recipient).unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }
        let scalars = redacted(String(String.UnicodeScalarView(printable)), recipient: recipient).unicodeScalars
        return String(String.UnicodeScalarView(scalars.prefix(120)))
    }

    private static func redacted(_ text: String, recipient: String?) -> String {
        var text = text.replacing(address, with: "<address>")
        if let recipient, recipient.count > 1 {
            text = text.replacing(recipient, with: "<recipient>")
            if let digits = writtenDigits(of: recipient) { text = text.replacing(digits, with: "<recipient>") }
        }
        return text.replacing(number, with: "<number>")
    }

    /// The recipient's number however a provider may write it: its last 6 digits (the shortest
    /// national numbers have 6), as many of its digits before them as the text has, perhaps a
    /// `(` or `+`, then a trunk `0` or `00`, first, and up to three separators between any two:
    /// `06 1234 5612`, `0612/345612`, `(+31) 6-12345612`, `To=06+1234+5612`, `%2B31%20612345612`.
    /// Another number before it (an error code) stays, unless its digits continue the recipient's.
    private static func writtenDigits(of recipient: String) -> Regex<AnyRegexOutput>? {
        let digits = recipient.filter { $0.isASCII && $0.isNumber }.map(String.init)
        guard digits.count >= 6 else { return nil }
        let gap = #"(?:[\s().\-/+]|%20|%2B){0,3}"#  // `%2b` too: the pattern ignores case
        // Each earlier digit only with every one after it: `(?:(?:3 gap)?1 gap)?` for 3, 1.
        let earlier = digits.dropLast(6).reduce("") { inner, digit in "(?:\(inner)\(digit)\(gap))?" }
        return try? Regex("(?i)(?:[(+]|%2B){0,2}0{0,2}\(earlier)\(digits.suffix(6).joined(separator: gap))")
    }

    /// Anything with an `@` between non-separators, or a percent-encoded one (`%40`, or `%2540`
    /// encoded twice) in a URL or form, where `/`, `?`, `=` and `&` separate too: an address's own
    /// are encoded there, while `list-bounces+dave=example.com@lists.example.org` has a real `=`.
    nonisolated(unsafe) private static let address =
        /[^\s<>()\[\]",;:]+@[^\s<>()\[\]",;:]+|[^\s<>()\[\]",;:\/?=&]+%(?:25)*40[^\s<>()\[\]",;:\/?=&]+/
    /// A `+` and 7 to 15 digits, each after at most two spaces, dots, dashes or brackets: the
    /// international form, which is what we send. Other long numbers (sizes, ids, times) stay.
    nonisolated(unsafe) private static let number = /\+[0-9](?:[ ().\-]{0,2}[0-9]){6,14}/
}
