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

    /// Failures at these offsets (seconds) from `start`, reserved one after another.
    func failures(at offsets: [TimeInterval]) -> LockoutPolicy.Failures {
        offsets.reduce(.none) { policy.reserving($0, now: start.addingTimeInterval($1)) }
    }

    @Test func decisions() {
        #expect(policy.decision(.none, now: start) == .allowed)
        #expect(policy.decision(failures(at: [0, 0, 0, 0]), now: start) == .allowed)
        let five = failures(at: [0, 0, 0, 0, 0])
        #expect(policy.decision(five, now: start.addingTimeInterval(29)) == .wait(retryAt: start.addingTimeInterval(30)))
        #expect(policy.decision(five, now: start.addingTimeInterval(30)) == .allowed)
        #expect(
            policy.decision(failures(at: [0, 0, 0, 0, 0, 30]), now: start.addingTimeInterval(89)) == .wait(retryAt: start.addingTimeInterval(90))
        )
    }

    /// OWASP: the waits come from the last 24 hours only, so one wrong code an hour never builds a wait
    /// beyond what a day's failures earn; the consecutive count (for the lock) keeps growing.
    @Test func waitsCountASlidingWindow() {
        let hourly = failures(at: (0..<48).map { TimeInterval($0) * 3_600 })
        #expect(hourly.consecutive == 48)
        #expect(hourly.recent.count == 24, "only the last day's failures")
        let fiveADay = failures(at: (0..<30).map { TimeInterval($0) * 86_400 / 5 + 1 })
        #expect(fiveADay.recent.count == 5)
        // Old failures leave the window: after a quiet day the account starts afresh.
        let burst = failures(at: [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(policy.decision(burst, now: start.addingTimeInterval(100)) == .wait(retryAt: start.addingTimeInterval(240)))
        #expect(policy.decision(burst, now: start.addingTimeInterval(86_401)) == .allowed)
        #expect(policy.reserving(burst, now: start.addingTimeInterval(86_401)).recent.count == 1)
    }

    /// NIST SP 800-63B §5.2.2: 100 consecutive failures lock, whatever time passes, but only when they
    /// span a day: a burst (say, raced requests) cannot lock an account.
    @Test func theLockNeedsFailuresSpreadOverTime() {
        let burst = LockoutPolicy.Failures(consecutive: 100, runStartedAt: start, recent: [start.addingTimeInterval(600)])
        #expect(policy.decision(burst, now: start.addingTimeInterval(601)) != .locked)
        let campaign = failures(at: (0..<100).map { TimeInterval($0) * 3_601 })
        #expect(campaign.consecutive == 100)
        #expect(policy.decision(campaign, now: start.addingTimeInterval(1e9)) == .locked)
        #expect(policy.decision(failures(at: (0..<99).map { TimeInterval($0) * 3_601 }), now: start.addingTimeInterval(1e6)) == .allowed)
    }

    @Test func failuresSurviveTheirEncoding() {
        let stored = failures(at: [0, 10, 20, 5_000])
        #expect(LockoutPolicy.Failures(encoded: stored.encoded) == stored)
        #expect(LockoutPolicy.Failures(encoded: "") == LockoutPolicy.Failures.none)
        #expect(LockoutPolicy.Failures.none.encoded == "")
        #expect(LockoutPolicy.Failures(encoded: "x;1;2") == nil)
    }

    /// A source may fail `capacity` times at once, then once per interval.
    @Test func tokenBuckets() {
        let bucket = TokenBucket(capacity: 3, refillInterval: 60)
        var level: TokenBucket.Level?
        for _ in 0..<3 {
            guard case .taken(let next) = bucket.take(level, now: start) else {
                Issue.record("no token")
                return
            }
            level = next
        }
        #expect(bucket.take(level, now: start) == .wait(retryAt: start.addingTimeInterval(60)))
        #expect(bucket.take(level, now: start.addingTimeInterval(60)) != .wait(retryAt: start.addingTimeInterval(60)))
        let given = bucket.giveBack(level, now: start)
        #expect(given.tokens == 1)
        #expect(TokenBucket.Level(encoded: given.encoded) == given)
        #expect(bucket.isFull(given, now: start.addingTimeInterval(120)))
        #expect(bucket.level(given, now: start.addingTimeInterval(1e6)).tokens == 3, "never above capacity")
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
