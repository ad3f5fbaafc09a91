import Foundation
import TwoStepCore
import TwoStepStore

/// The operator's 2FA policy (issue 18: `--require-2fa`, `--grace-days`, `--allowed-methods`) applied
/// to accounts: the one place that decides whether an account must set up a method before it goes
/// on. The sign-in (pages and API), the enrolment gate, OpenID Connect and forward-auth all ask it.
struct TwoFactorPolicyService: Sendable {
    let policy: TwoFactorPolicy
    let store: any UserRepository
    let twoFactor: TwoFactorService
    let now: Now

    /// Where an account stands. An operator reset (`twostep user reset-2fa`) outranks the policy:
    /// no grace, whatever the policy says (issue 12: the reset must not leave a password-only account).
    func standing(of user: User) async throws -> TwoFactorPolicy.Standing {
        if user.enrolmentRequired, try await !twoFactor.isEnabled(for: user) { return .enrolmentRequired(.operatorReset) }
        // The default policy asks nothing: no look-up on every request.
        guard !policy.isInert else { return .satisfied }
        return policy.standing(
            email: user.email,
            methods: try await methods(of: user),
            graceFrom: user.twoFactorGraceFrom.map { Date(unixTime: $0) },
            now: now()
        )
    }

    /// At a sign-in: where the account stands, and if the policy asks something of it for the
    /// first time, its grace period starts now (stored, so it counts from this first sign-in).
    func standingAtSignIn(of user: User) async throws -> TwoFactorPolicy.Standing {
        let standing = try await standing(of: user)
        guard case .grace = standing, user.twoFactorGraceFrom == nil else { return standing }
        var started = user
        started.twoFactorGraceFrom = try await store.startTwoFactorGrace(userID: user.id, at: now().unixTime)
        return try await self.standing(of: started)
    }

    /// The primary methods that are on, as the policy names them (a recovery phone is no method).
    func methods(of user: User) async throws -> Set<TwoFactorMethod> {
        try await twoFactor.policyMethods(of: user)
    }

    /// Whether a method may be enrolled (`--allowed-methods`).
    func allows(_ method: TwoFactorMethod) -> Bool { policy.allowedMethods.contains(method) }
}

extension FactorKind {
    /// The method `--allowed-methods` calls this kind; `nil` for the recovery phone, a fallback
    /// only reached from the sign-in page, never a method of its own.
    var policyMethod: TwoFactorMethod? {
        switch self {
        case .totp: .app
        case .sms: .sms
        case .recoveryPhone: nil
        }
    }
}
