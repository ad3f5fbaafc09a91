public import Foundation

/// How failed attempts on one account slow down and finally stop an attacker (SPEC §2), for
/// second-factor codes, recovery codes and passwords alike, each with its own budget.
///
/// Failures are counted per account, not per IP address, so a botnet gains nothing (OWASP MFA
/// cheat sheet). The waits grow from the failures of a sliding ``window`` (OWASP: lockout must not
/// become a weapon, so one wrong code an hour does not keep the owner waiting for ever): the first
/// ``freeAttempts`` failures in the window cost nothing; after that each attempt waits
/// ``initialDelay``, doubling up to ``maximumDelay``, counted from the newest failure.
///
/// The permanent lock follows NIST SP 800-63B §5.2.2 (at most 100 consecutive failures): it counts
/// every failure since the last success, never forgotten by time alone, but it only closes once
/// those failures span at least ``lockSpan`` — a burst cannot lock an account, only a campaign can.
///
/// Every attempt is *reserved* before it is checked (``reserving(_:now:)``: counted as a failure
/// in advance, so concurrent guesses cannot all be checked); a success then clears the state.
public struct LockoutPolicy: Sendable, Equatable {
    public var freeAttempts: Int
    public var initialDelay: TimeInterval
    public var maximumDelay: TimeInterval
    public var lockThreshold: Int
    /// How far back failures count toward the waits.
    public var window: TimeInterval
    /// How long the run of consecutive failures must last before ``lockThreshold`` locks.
    public var lockSpan: TimeInterval

    public init(
        freeAttempts: Int = 5,
        initialDelay: TimeInterval = 30,
        maximumDelay: TimeInterval = 3_600,
        lockThreshold: Int = 100,
        window: TimeInterval = 86_400,
        lockSpan: TimeInterval = 86_400
    ) {
        self.freeAttempts = freeAttempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.lockThreshold = lockThreshold
        self.window = window
        self.lockSpan = lockSpan
    }

    /// What an account may do now.
    public enum Decision: Equatable, Sendable {
        /// An attempt may be made.
        case allowed
        /// Attempts are refused until `retryAt`.
        case wait(retryAt: Date)
        /// Locked until a recovery code or an operator clears it.
        case locked
    }

    /// The failures an account has made, as stored between requests.
    public struct Failures: Equatable, Sendable {
        /// Failures since the last success (the lock counts these).
        public var consecutive: Int
        /// When the first of them happened.
        public var runStartedAt: Date?
        /// Failures within the policy's window, oldest first (the waits count these).
        public var recent: [Date]

        public static let none = Failures(consecutive: 0, runStartedAt: nil, recent: [])

        public init(consecutive: Int, runStartedAt: Date?, recent: [Date]) {
            self.consecutive = consecutive
            self.runStartedAt = runStartedAt
            self.recent = recent
        }

        /// `consecutive;runStartedAt;t1,t2,…` in whole Unix seconds; empty for no failures.
        public var encoded: String {
            guard consecutive > 0 || !recent.isEmpty else { return "" }
            let start = runStartedAt.map { String(Int64($0.timeIntervalSince1970)) } ?? ""
            return "\(consecutive);\(start);" + recent.map { String(Int64($0.timeIntervalSince1970)) }.joined(separator: ",")
        }

        /// Reads ``encoded``; anything unreadable counts as no failures only if empty, else `nil`.
        public init?(encoded: String) {
            if encoded.isEmpty {
                self = .none
                return
            }
            let parts = encoded.split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count == 3, let consecutive = Int(parts[0]) else { return nil }
            self.consecutive = consecutive
            self.runStartedAt = Int64(parts[1]).map { Date(timeIntervalSince1970: TimeInterval($0)) }
            var recent: [Date] = []
            for part in parts[2].split(separator: ",") {
                guard let seconds = Int64(part) else { return nil }
                recent.append(Date(timeIntervalSince1970: TimeInterval(seconds)))
            }
            self.recent = recent
        }
    }

    /// How long to wait after `failures` failures in the window: nothing up to ``freeAttempts``,
    /// then ``initialDelay`` doubling with each further failure, capped at ``maximumDelay``.
    public func delay(afterFailures failures: Int) -> TimeInterval {
        guard failures >= freeAttempts else { return 0 }
        let doublings = min(failures - freeAttempts, 32)
        return min(initialDelay * pow(2, Double(doublings)), maximumDelay)
    }

    /// The failures still inside the window at `now`.
    public func recentFailures(_ failures: Failures, now: Date) -> [Date] {
        let start = now.addingTimeInterval(-window)
        return failures.recent.filter { $0 > start }
    }

    /// Whether an account with these failures may make an attempt at `now`.
    public func decision(_ failures: Failures, now: Date) -> Decision {
        if isLocked(failures) { return .locked }
        let recent = recentFailures(failures, now: now)
        guard let newest = recent.last else { return .allowed }
        let retryAt = newest.addingTimeInterval(delay(afterFailures: recent.count))
        return now < retryAt ? .wait(retryAt: retryAt) : .allowed
    }

    /// NIST's 100 consecutive failures, spread over at least ``lockSpan``.
    public func isLocked(_ failures: Failures) -> Bool {
        guard failures.consecutive >= lockThreshold, let start = failures.runStartedAt, let newest = failures.recent.last else { return false }
        return newest.timeIntervalSince(start) >= lockSpan
    }

    /// The failures with one more at `now`: what is stored *before* an attempt is checked, so that
    /// concurrent attempts see each other. The window keeps only what can still matter.
    public func reserving(_ failures: Failures, now: Date) -> Failures {
        // Keep at most enough entries to reach the longest delay (and the lock's newest failure).
        let cap = freeAttempts + 34
        let recent = Array((recentFailures(failures, now: now) + [now]).suffix(cap))
        return Failures(consecutive: failures.consecutive + 1, runStartedAt: failures.runStartedAt ?? now, recent: recent)
    }

}
