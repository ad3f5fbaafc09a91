import Foundation
import Testing
import TwoStepCore

@Suite("Lockout policy and tokens")
struct PolicyTests {
    let policy = LockoutPolicy()
    let start = Date(timeIntervalSince1970: 1_000_000)

    /// SPEC §2: free attempts up to 5, then 30 s doubling to 1 h.
    @Test func delays() {
        for failures in 0..<5 { #expect(policy.delay(afterFailures: failures) == 0) }
        #expect(policy.delay(afterFailures: 5) == 30)
        #expect(policy.delay(afterFailures: 6) == 60)
        #expect(policy.delay(afterFailures: 7) == 120)
        #expect(policy.delay(afterFailures: 11) == 1_920)
        #expect(policy.delay(afterFailures: 12) == 3_600, "3,840 capped at an hour")
        #expect(policy.delay(afterFailures: 99) == 3_600)
        #expect(policy.delay(afterFailures: Int.max) == 3_600, "no overflow")
    }

    @Test func decisions() {
        #expect(policy.decision(failures: 0, lastFailure: nil, now: start) == .allowed)
        #expect(policy.decision(failures: 4, lastFailure: start, now: start) == .allowed)
        #expect(policy.decision(failures: 5, lastFailure: start, now: start.addingTimeInterval(29)) == .wait(retryAt: start.addingTimeInterval(30)))
        #expect(policy.decision(failures: 5, lastFailure: start, now: start.addingTimeInterval(30)) == .allowed)
        // NIST SP 800-63B §5.2.2: at 100 the factor is locked, however long ago the last failure was.
        #expect(policy.decision(failures: 100, lastFailure: start, now: start.addingTimeInterval(1e9)) == .locked)
        #expect(policy.decision(failures: 99, lastFailure: start, now: start.addingTimeInterval(3_600)) == .allowed)
    }

    @Test func randomTokens() {
        let token = RandomToken.generate()
        #expect(token.count == 43, "256 bits in unpadded base64url")
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(RandomToken.generate() != token)
        let hash = RandomToken.hash(token)
        #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit) && hash == hash.lowercased())
        #expect(RandomToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 test vector")
    }
}
