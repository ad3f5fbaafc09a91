import Foundation
import Synchronization
import TwoStepCore
import TwoStepStore

/// The attempt budgets (SPEC §2): per account — second-factor codes, recovery codes and the
/// password, each with its own `LockoutPolicy`, reserved atomically *before* a code or password is
/// compared — and per source — a client address, an API key — as token buckets of failures, so one
/// source cannot lock out many accounts (OWASP); and the operator's unlock.
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
    /// Passwords, keyed by the normalised address whether or not an account has it.
    let passwords: LockoutPolicy
    let sources: SourceBudgets
    let now: Now
    /// Shared by the copies of this service (a class).
    let hints = ThrottleHints()

    /// The per-source budgets, as token buckets of failures.
    struct SourceBudgets: Sendable, Equatable {
        /// Wrong second-factor codes from one client address (pages and the account API).
        var codesPerAddress = TokenBucket(capacity: 20, refillInterval: 180)
        /// Wrong codes through one API key that put an account into a wait: a relying service's
        /// users mistype all day, but one key pushing account after account into waits is an attack
        /// (or a compromised key) locking people out.
        var waitsPerAPIKey = TokenBucket(capacity: 50, refillInterval: 72)
        /// Wrong passwords from one client address, on every page and API that checks one.
        var passwordsPerAddress = TokenBucket(capacity: 20, refillInterval: 60)
        /// "Forgot your password?" from one client address (OWASP Forgot Password cheat sheet: rate-limit per client).
        var resetsPerClient = TokenBucket(capacity: 10, refillInterval: 360)
        /// Reset links to one e-mail address, known or not: an inbox cannot be flooded.
        var resetsPerEmail = TokenBucket(capacity: 3, refillInterval: 1_200)
        /// Verification links of one account ("Send again", a change of address).
        var verificationMailsPerAccount = TokenBucket(capacity: 3, refillInterval: 600)

        init() {}
    }

    /// Where failures come from.
    enum Source: Equatable {
        case codesFromAddress(String)
        case apiKey(name: String)
        case passwordsFromAddress(String)
        case resetsFromAddress(String)
        case resetsToAddress(String)
        case verificationMail(userID: Int64)

        var key: String {
            switch self {
            case .codesFromAddress(let address): "src:code:" + ClientAddress.throttleKey(address)
            case .apiKey(let name): "src:key:" + name
            case .passwordsFromAddress(let address): "src:password:" + ClientAddress.throttleKey(address)
            case .resetsFromAddress(let address): "src:reset-from:" + ClientAddress.throttleKey(address)
            case .resetsToAddress(let email): "src:reset-to:" + email
            case .verificationMail(let id): "src:verify-mail:\(id)"
            }
        }
    }

    func bucket(_ source: Source) -> TokenBucket {
        switch source {
        case .codesFromAddress: sources.codesPerAddress
        case .apiKey: sources.waitsPerAPIKey
        case .passwordsFromAddress: sources.passwordsPerAddress
        case .resetsFromAddress: sources.resetsPerClient
        case .resetsToAddress: sources.resetsPerEmail
        case .verificationMail: sources.verificationMailsPerAccount
        }
    }

    /// Takes one failure token from a source before its attempt may count against an account.
    /// - Returns: `nil` when taken, else when the source may try again.
    func take(_ source: Source, at time: Date) async throws -> Date? {
        let bucket = bucket(source)
        return try await update(source.key, at: time, busy: time.addingTimeInterval(1)) { stored in
            switch bucket.take(stored.flatMap(TokenBucket.Level.init(encoded:)), now: time) {
            case .taken(let level): (level.encoded, nil)
            case .wait(let retryAt): (stored, retryAt)
            }
        }
    }

    /// The attempt succeeded: it was no failure, so the source gets its token back.
    func giveBack(_ source: Source, at time: Date) async throws {
        let bucket = bucket(source)
        try await update(source.key, at: time, busy: ()) { stored in
            (bucket.giveBack(stored.flatMap(TokenBucket.Level.init(encoded:)), now: time).encoded, ())
        }
    }

    /// Which of an account's budgets.
    enum Budget: Equatable {
        case codes(userID: Int64)
        case recoveryCodes(userID: Int64)
        /// By normalised e-mail address: unknown addresses are throttled exactly like accounts.
        case password(email: String)

        var key: String {
            switch self {
            case .codes(let id): "code:\(id)"
            case .recoveryCodes(let id): "recovery:\(id)"
            case .password(let email): "password:" + email
            }
        }

        /// An account's password budget: by its address, or by its id when a service named it without one.
        static func password(of user: User) -> Budget { .password(email: user.email ?? "#\(user.id)") }
    }

    func policy(_ budget: Budget) -> LockoutPolicy {
        switch budget {
        case .codes: codes
        case .recoveryCodes: recoveryCodes
        case .password: passwords
        }
    }

    enum Reservation: Equatable {
        /// The attempt is counted as a failure already; `failures` is what is now stored, `previous`
        /// what was (for ``cancel(_:_:)``).
        case reserved(LockoutPolicy.Failures, previous: String?)
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
                return (next.encoded, .reserved(next, previous: stored))
            case let refusal:
                return (stored, .refused(refusal))
            }
        }
    }

    /// Takes a reservation back before anything was compared, if nothing was counted since.
    func cancel(_ budget: Budget, _ reservation: Reservation, at time: Date) async throws {
        guard case .reserved(let failures, let previous) = reservation else { return }
        hints.forget(budget.key)
        _ = try await store.replaceThrottleState(key: budget.key, expected: failures.encoded, new: previous, at: time.unixTime)
    }

    /// Whether a failure of this reserved attempt makes the account wait (the per-key budget counts those).
    func startsWait(_ budget: Budget, reserved failures: LockoutPolicy.Failures) -> Bool {
        policy(budget).delay(afterFailures: failures.recent.count) > 0
    }

    /// What follows a reserved attempt that failed: nothing more to count, only what to tell.
    func afterFailure(_ budget: Budget, reserved failures: LockoutPolicy.Failures, at time: Date) -> LockoutPolicy.Decision {
        policy(budget).decision(failures, now: time)
    }

    /// A success ends the run of failures (and gives the reserved attempt back).
    func clear(_ budgets: [Budget]) async throws {
        for budget in budgets { hints.forget(budget.key) }
        try await store.deleteThrottles(keys: budgets.map(\.key))
    }

    /// The failures stored for a budget, for the operator's list.
    func failures(_ budget: Budget) async throws -> LockoutPolicy.Failures {
        try await store.throttleState(key: budget.key).flatMap(LockoutPolicy.Failures.init(encoded:)) ?? .none
    }

    /// `twostep user unlock`: clears every wait and lock of the account — code, recovery-code and
    /// password budgets — without touching its factors (OWASP: the documented answer to a lockout).
    func unlock(_ user: User) async throws {
        try await clear([.codes(userID: user.id), .recoveryCodes(userID: user.id), .password(of: user)])
    }

    /// The compare-and-set loop: `decide` maps the stored state to the state to store and a result;
    /// when another request changed the row first, it decides again on what that request stored.
    ///
    /// The first try decides on a guess and skips the read: the state this process last read or
    /// wrote for the key (`ThrottleHints`), else none (most budgets have no row). The write
    /// succeeds only if the row still holds exactly the guess, which proves it; a wrong guess (a
    /// row changed by another instance, the sweeper, an operator) fails like any lost race, and the
    /// loop reads and decides again. A guess never decides alone: an answer that would write
    /// nothing (a refusal) is always made on a fresh read. One statement per change on the common
    /// paths instead of three (a wrong code on an account that already has failures, issue 19).
    /// - Parameter busy: The answer when the row kept changing under us (a flood on one budget).
    @discardableResult
    func update<Result>(
        _ key: String,
        at time: Date,
        busy: Result,
        decide: (String?) -> (String?, Result)
    ) async throws -> Result {
        let guess = hints.state(key)
        let (new, result) = decide(guess)
        if new != guess, try await store.replaceThrottleState(key: key, expected: guess, new: new, at: time.unixTime) {
            hints.remember(key, new)
            return result
        }
        var stored = try await store.throttleState(key: key)
        for _ in 0..<64 {
            let (new, result) = decide(stored)
            if new == stored {
                hints.remember(key, stored)
                return result
            }
            if try await store.replaceThrottleState(key: key, expected: stored, new: new, at: time.unixTime) {
                hints.remember(key, new)
                return result
            }
            stored = try await store.throttleState(key: key)
        }
        hints.forget(key)
        return busy
    }
}

/// The throttle states this process last read or wrote, by key: the first guess of
/// `LockoutService.update`'s compare-and-set. Only a guess — the conditional write decides — so a
/// stale one costs a failed write, never a wrong answer. Bounded: past `capacity` keys (about
/// 12 MB) each new key pushes an arbitrary old one out, whose guess falls back to "no row".
final class ThrottleHints: Sendable {
    private let states = Mutex<[String: String]>([:])
    static let capacity = 100_000

    func state(_ key: String) -> String? { states.withLock { $0[key] } }

    /// Records a key's state; `nil` for no row.
    func remember(_ key: String, _ state: String?) {
        states.withLock { states in
            if state != nil, states[key] == nil, states.count >= Self.capacity { states.remove(at: states.startIndex) }
            states[key] = state
        }
    }

    func forget(_ key: String) { remember(key, nil) }
}
