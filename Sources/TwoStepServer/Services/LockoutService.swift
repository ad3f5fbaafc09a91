import Foundation
import TwoStepCore
import TwoStepStore

/// The attempt budgets of accounts (SPEC §2): second-factor codes and recovery codes, each with its
/// own `LockoutPolicy`, reserved atomically *before* a code is compared, and the operator's unlock.
///
/// Every change is a compare-and-set on one row (`ThrottleRepository`): read the state, decide
/// with the pure policy, write the new state only if nobody changed it meanwhile, else decide
/// again. So "may I try?" and "count this try" are one atomic write, and of any number of
/// concurrent guesses only as many as the policy allows reach the comparison (the race that had
/// 50 concurrent wrong codes all checked where 5 were allowed).
struct LockoutService: Sendable {
    let store: any ThrottleRepository
    /// App, SMS and recovery-phone codes.
    let codes: LockoutPolicy
    /// Recovery codes have a budget of their own (OWASP): wrong app codes never stop a right
    /// recovery code, only guessing recovery codes does.
    let recoveryCodes: LockoutPolicy
    let now: Now

    /// Which of an account's budgets.
    enum Budget: Equatable {
        case codes(userID: Int64)
        case recoveryCodes(userID: Int64)

        var key: String {
            switch self {
            case .codes(let id): "code:\(id)"
            case .recoveryCodes(let id): "recovery:\(id)"
            }
        }
    }

    func policy(_ budget: Budget) -> LockoutPolicy {
        switch budget {
        case .codes: codes
        case .recoveryCodes: recoveryCodes
        }
    }

    enum Reservation: Equatable {
        /// The attempt is counted as a failure already; `failures` is what is now stored.
        case reserved(LockoutPolicy.Failures)
        /// Not allowed now: the attempt must not be checked.
        case refused(LockoutPolicy.Decision)
    }

    /// Counts one attempt against `budget` if the policy allows one now, in one conditional write.
    func reserve(_ budget: Budget, at time: Date) async throws -> Reservation {
        let policy = policy(budget)
        return try await update(budget.key, at: time, busy: .refused(.wait(retryAt: time.addingTimeInterval(1)))) { stored in
            let failures = stored.flatMap(LockoutPolicy.Failures.init(encoded:)) ?? .none
            switch policy.decision(failures, now: time) {
            case .allowed:
                let next = policy.reserving(failures, now: time)
                return (next.encoded, .reserved(next))
            case let refusal:
                return (stored, .refused(refusal))
            }
        }
    }

    /// What follows a reserved attempt that failed: nothing more to count, only what to tell.
    func afterFailure(_ budget: Budget, reserved failures: LockoutPolicy.Failures, at time: Date) -> LockoutPolicy.Decision {
        policy(budget).decision(failures, now: time)
    }

    /// A success ends the run of failures (and gives the reserved attempt back).
    func clear(_ budgets: [Budget]) async throws {
        try await store.deleteThrottles(keys: budgets.map(\.key))
    }

    /// The failures stored for a budget, for the operator's list.
    func failures(_ budget: Budget) async throws -> LockoutPolicy.Failures {
        try await store.throttleState(key: budget.key).flatMap(LockoutPolicy.Failures.init(encoded:)) ?? .none
    }

    /// `twostep user unlock`: clears every wait and lock of the account — code and recovery-code
    /// budgets — without touching its factors (OWASP: the documented answer to a lockout).
    func unlock(_ user: User) async throws {
        try await clear([.codes(userID: user.id), .recoveryCodes(userID: user.id)])
    }

    /// The compare-and-set loop: `decide` maps the stored state to the state to store and a result;
    /// when another request changed the row first, it decides again on what that request stored.
    /// - Parameter busy: The answer when the row kept changing under us (a flood on one budget).
    func update<Result>(
        _ key: String,
        at time: Date,
        busy: Result,
        decide: (String?) -> (String?, Result)
    ) async throws -> Result {
        var stored = try await store.throttleState(key: key)
        for _ in 0..<64 {
            let (new, result) = decide(stored)
            if new == stored { return result }
            if try await store.replaceThrottleState(key: key, expected: stored, new: new, at: time.unixTime) { return result }
            stored = try await store.throttleState(key: key)
        }
        return busy
    }
}
