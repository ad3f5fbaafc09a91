import Testing

@testable import TwoStepServer

/// What remote servers write is logged only without the addresses and numbers it quotes (SPEC §2).
@Suite struct RemoteTextTests {
    /// Each text a server might write, and what may be logged of it.
    static let cases = [
        (
            "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown",
            "550 5.1.1 <<address>>: Recipient address rejected: User unknown"
        ),
        ("553 5.1.3 dave.o'neil+2fa@sub.example.co.uk... malformed", "553 5.1.3 <address> malformed"),
        ("550 5.1.1 <\u{3b4}\u{3b7}\u{3bc}@example.gr>: unknown", "550 5.1.1 <<address>>: unknown"),
        ("The 'To' number +31612345612 is not a valid phone number.", "The 'To' number <number> is not a valid phone number."),
        ("Unverified number: +1 (415) 555-0100, reply STOP", "Unverified number: <number>, reply STOP"),
        ("GET /lookup?to=dave%40example.com&x=1 failed", "GET /lookup?to=<address>&x=1 failed"),
        ("GET /lookup?to=dave%2540example.com failed", "GET /lookup?to=<address> failed"),
        ("550 <list-bounces+dave=example.com@lists.example.org> unknown", "550 <<address>> unknown"),
        ("550 <SRS0=HHH=TT=example.com=dave@forwarder.example> unknown", "550 <<address>> unknown"),
        ("Unverified number: +44\u{202F}7700\u{202F}900123", "Unverified number: <number>"),
        ("GET https://api.example.com/v1/users/%40me/keys failed", "GET https://api.example.com/v1/users/%40me/keys failed"),
        ("line one\r\n550 forged log line", "line one550 forged log line"),
        // What tells an operator why stays: codes, sizes, ids, addresses of hosts, times.
        ("451 4.3.0 Try again later", "451 4.3.0 Try again later"),
        ("550 5.4.1 Access denied AS(201806281)", "550 5.4.1 Access denied AS(201806281)"),
        ("552 5.3.4 Message size exceeds limit of 10485760 bytes", "552 5.3.4 Message size exceeds limit of 10485760 bytes"),
        (
            "421 4.7.0 Too many connections from 192.0.2.1 at 2026-12-01 21:02:14",
            "421 4.7.0 Too many connections from 192.0.2.1 at 2026-12-01 21:02:14"
        ),
        ("", ""),
    ]

    @Test(arguments: cases) func addressesAndNumbersAreReplaced(text: String, quoted: String) {
        #expect(RemoteText.quoted(text) == quoted)
    }

    /// Replaced before the cut at 120 characters: a long address across the cut leaves no piece.
    @Test func aLongAddressIsReplacedBeforeTheCut() {
        let address = String(repeating: "firstname.lastname.", count: 4) + "family@example.com"
        let reply = "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient <\(address)> not found by SMTP address lookup"
        let quoted = RemoteText.quoted(reply)
        #expect(quoted.count <= 120)
        #expect(!quoted.contains("firstname") && quoted.contains("Recipient <<address>> not found"), "\(quoted)")
    }

    /// A text longer than a reply line is not searched (that takes time quadratic in its length)
    /// but named by its length, so nothing of it is logged.
    @Test func aTextLongerThanAReplyLineIsNotQuoted() {
        let address = String(repeating: "a", count: 500) + "@example.com"
        #expect(RemoteText.quoted("550 <\(address)>: unknown") == "(527 bytes, not shown)")
        #expect(RemoteText.quoted(String(repeating: "x", count: 512)) == String(repeating: "x", count: 120))
    }

    /// The number a message was for goes however the provider writes it: with its `+` or without,
    /// in national form, in a URL, with other separators. A number beside it and other numbers stay.
    static let recipientCases = [
        ("Number 31612345612 (+31612345612) is blocked", "Number <recipient> (<recipient>) is blocked"),
        ("Number 06 1234 5612 is not reachable", "Number <recipient> is not reachable"),
        ("Number 06\u{A0}1234\u{A0}5612 is not reachable", "Number <recipient> is not reachable"),
        ("Number 06\u{200B}1234\u{200B}5612 is not reachable", "Number <recipient> is not reachable"),
        ("Unreachable: (06) 1234-5612.", "Unreachable: <recipient>."),
        ("Unreachable: (+31) 6 - 1234 - 5612.", "Unreachable: <recipient>."),
        ("Unreachable: 0612/345612", "Unreachable: <recipient>"),
        ("POST /send To=06+1234+5612&Body=x", "POST /send To=<recipient>&Body=x"),
        ("POST /send To=%2B31%206%201234%205612", "POST /send To=<recipient>"),
        ("POST /send To=%2b31%206%201234%205612", "POST /send To=<recipient>"),
        ("Error 500(+31)612345612", "Error 500<recipient>"),
        ("Error 21614 0612345612 is not a mobile number", "Error 21614 <recipient> is not a mobile number"),
        ("Number 0698765432 is blocked, error 21610", "Number 0698765432 is blocked, error 21610"),
    ]

    @Test(arguments: recipientCases) func theRecipientGoesInEveryForm(text: String, quoted: String) {
        #expect(RemoteText.quoted(text, recipient: "+31612345612") == quoted)
    }

    /// The same for numbers of other lengths: North America's 10 digits, Andorra's 6.
    static let otherLengths = [
        ("+14155550100", "Unverified: (415) 555-0100, code 21608", "Unverified: <recipient>, code 21608"),
        ("+14155550100", "Unverified: 1-415-555-0100", "Unverified: <recipient>"),
        ("+376312345", "Number 312 345 is blocked", "Number <recipient> is blocked"),
        ("+376312345", "Error 21211 at 2026-12-01 21:02:14", "Error 21211 at 2026-12-01 21:02:14"),
    ]

    @Test(arguments: otherLengths) func theRecipientGoesWhateverItsLength(recipient: String, text: String, quoted: String) {
        #expect(RemoteText.quoted(text, recipient: recipient) == quoted)
    }
}
