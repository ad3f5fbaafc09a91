import Foundation
import TwoStepCore
import TwoStepStore

/// Every password check — sign-in, re-authentication, password change, turning two-factor
/// authentication off — goes through here, so none is unguarded (SPEC §2, OWASP ASVS V2.2.1).
///
/// Two budgets, each taken before the hash is compared, as for codes (`LockoutService`):
/// - per account, keyed by the normalised address whether or not an account has it, so that the
///   answer ("too many attempts, try again in …") says nothing about who has an account: a few
///   free failures a day, then a wait that grows, and never more than 100 in a row (NIST SP
///   800-63B §5.2.2);
/// - per client address, a token bucket of failures, so one source cannot try many accounts.
/// Wrong passwords of existing accounts are security events, with what they were for.
struct PasswordCheckService: Sendable {
    let store: any SecurityEventRepository
    let hasher: SecretHasher
    let lockout: LockoutService
    let metrics: ServerMetrics
    let now: Now

    /// What the password was checked for (the security event says it).
    enum Purpose: String, Sendable {
        case signIn = "sign-in"
        case reauthentication = "re-authentication"
        case passwordChange = "password change"
        case disable = "turning off two-factor authentication"
    }

    enum Result: Equatable {
        case correct
        case wrong
        /// Not checked: too many failures for this account or from this address, until `retryAt`;
        /// `nil` after 100 in a row, until an operator unlocks the account.
        case tooManyAttempts(retryAt: Date?)
    }

    /// Checks `password` against `hash` — the account's, or a decoy when there is no account (the
    /// same budgets, the same work, the same answers).
    /// - Parameters:
    ///   - email: The address as typed or stored; the per-account budget is keyed by its normal form.
    ///   - user: The account, if there is one (its failures are security events).
    func check(_ password: String, against hash: String, email: String, user: User?, purpose: Purpose) async throws -> Result {
        let result = try await checkUncounted(password, against: hash, email: email, user: user, purpose: purpose)
        if purpose == .signIn {
            switch result {
            case .correct: metrics.passwordSignIn(.success)
            case .wrong: metrics.passwordSignIn(.wrong)
            case .tooManyAttempts: metrics.passwordSignIn(.throttled)
            }
        }
        return result
    }

    private func checkUncounted(_ password: String, against hash: String, email: String, user: User?, purpose: Purpose) async throws -> Result {
        let time = now()
        let address = RequestOrigin.clientAddress
        let source: LockoutService.Source? = address.isEmpty ? nil : .passwordsFromAddress(address)
        if let source, let retryAt = try await lockout.take(source, at: time) { return .tooManyAttempts(retryAt: retryAt) }
        let budget = user.map(LockoutService.Budget.password(of:)) ?? .password(email: AccountService.normalizedEmail(email) ?? email.lowercased())
        let reserved: LockoutPolicy.Failures
        switch try await lockout.reserve(budget, at: time) {
        case .reserved(let failures, _): reserved = failures
        case .refused(let decision):
            if let source { try await lockout.giveBack(source, at: time) }
            if case .wait(let retryAt) = decision { return .tooManyAttempts(retryAt: retryAt) }
            return .tooManyAttempts(retryAt: nil)
        }
        guard hasher.verify(password, against: hash) else {
            let lockoutStarted: Bool
            if case .wait = lockout.afterFailure(budget, reserved: reserved, at: time) { lockoutStarted = true } else { lockoutStarted = false }
            if lockoutStarted { metrics.lockoutStarted(.passwords) }
            guard let user else { return .wrong }
            try await store.recordEvent(
                userID: user.id,
                kind: purpose == .signIn ? .signInFailed : .passwordFailed,
                detail: "wrong password (\(purpose.rawValue))",
                at: time.unixTime
            )
            if lockoutStarted {
                try await store.recordEvent(
                    userID: user.id,
                    kind: .lockedOut,
                    detail: "\(reserved.recent.count) wrong passwords within a day",
                    at: time.unixTime
                )
            }
            return .wrong
        }
        try await lockout.clear([budget])
        if let source { try await lockout.giveBack(source, at: time) }
        return .correct
    }
}
