import Testing

@testable import TwoStepServer

/// What remote servers write is logged only without the addresses and numbers it quotes (SPEC §2).
@Suite struct RemoteTextTests {
    @Test(arguments: [
        (
            "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown",
            "550 5.1.1 <<address>>: Recipient address rejected: User unknown"
        ),
        ("553 5.1.3 dave.o'neil+2fa@sub.example.co.uk... malformed", "553 5.1.3 <address> malformed"),
        ("The 'To' number +31612345612 is not a valid phone number.", "The 'To' number <number> is not a valid phone number."),
        ("Unverified number +1 (415) 555-0100, reply STOP", "Unverified number <number>, reply STOP"),
        ("recipient 0612345678 unreachable", "recipient <number> unreachable"),
        // What tells an operator why stays: reply codes, enhanced codes, short numbers.
        ("451 4.3.0 Try again later", "451 4.3.0 Try again later"),
        ("421 4.7.0 Too many connections from 192.0.2.1, wait 60 s", "421 4.7.0 Too many connections from 192.0.2.1, wait 60 s"),
        ("", ""),
    ])
    func addressesAndNumbersAreReplaced(text: String, redacted: String) {
        #expect(RemoteText.redacted(text) == redacted)
    }
}
