public import Foundation

/// How consecutive failed second-factor attempts on one account slow down and finally stop an
/// attacker (SPEC §2).
///
/// Failures are counted per account, not per IP address, so a botnet gains nothing (OWASP MFA
/// cheat sheet). The first ``freeAttempts`` failures cost nothing; after that each attempt waits
/// ``initialDelay``, doubling up to ``maximumDelay``. At ``lockThreshold`` failures the factor is
/// locked until a recovery code or an operator resets it (NIST SP 800-63B §5.2.2 caps consecutive
/// failures at 100). Only a success resets the count — never time alone, or an attacker would
/// simply wait out each delay forever.
public struct LockoutPolicy: Sendable, Equatable {
    public var freeAttempts: Int
    public var initialDelay: TimeInterval
    public var maximumDelay: TimeInterval
    public var lockThreshold: Int

    public init(freeAttempts: Int = 5, initialDelay: TimeInterval = 30, maximumDelay: TimeInterval = 3_600, lockThreshold: Int = 100) {
        self.freeAttempts = freeAttempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.lockThreshold = lockThreshold
    }

    /// What an account may do now.
    public enum Decision: Equatable, Sendable {
        /// A code may be checked.
        case allowed
        /// Checks are refused until `retryAt`.
        case wait(retryAt: Date)
        /// The factor is locked until a recovery code or an operator resets it.
        case locked
    }

    /// How long to wait after `failures` consecutive failures: nothing up to ``freeAttempts``, then
    /// ``initialDelay`` doubling with each further failure, capped at ``maximumDelay``.
    public func delay(afterFailures failures: Int) -> TimeInterval {
        guard failures >= freeAttempts else { return 0 }
        let doublings = min(failures - freeAttempts, 32)
        return min(initialDelay * pow(2, Double(doublings)), maximumDelay)
    }

    /// Whether an account with `failures` consecutive failures, the last at `lastFailure`, may try a code at `now`.
    public func decision(failures: Int, lastFailure: Date?, now: Date) -> Decision {
        if failures >= lockThreshold { return .locked }
        guard let lastFailure else { return .allowed }
        let retryAt = lastFailure.addingTimeInterval(delay(afterFailures: failures))
        return now < retryAt ? .wait(retryAt: retryAt) : .allowed
    }
}
