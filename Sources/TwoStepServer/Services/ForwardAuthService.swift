import TwoStepCore
import TwoStepStore

/// Forward-auth for reverse proxies (issue 14): nginx `auth_request`, Traefik `forwardAuth` and
/// Caddy `forward_auth` ask `GET /auth/verify` about each request and pass it on only on a 200.
struct ForwardAuthService: Sendable {
    let twoFactor: TwoFactorService
    /// The operator's 2FA policy (issue 18): past its grace, the proxy lets the account through to nothing.
    let policy: TwoFactorPolicyService
    let returnAddresses: ReturnAddressPolicy
    /// TwoStep's sign-in page, absolute when `--public-url` is set.
    let signInURL: String
    /// `--forward-auth-password-only`: accounts without any second factor pass on the password.
    let allowsPasswordOnly: Bool

    enum Decision: Equatable {
        /// Pass the request on, telling the application who it is for.
        case allowed(user: String, email: String, methods: String)
        /// 401; `signIn` is where to send the browser (with the original address as `rd`), when
        /// that address is one the browser may come back to.
        case refused(signIn: String?)
    }

    /// - Parameter originalURL: The address the browser asked the proxy for (`X-Original-URL`).
    func verify(session: Session?, user: User?, originalURL: String?) async throws -> Decision {
        if let session, session.stage == .signedIn, let user, user.id == session.userID {
            // Only a session that passed the second step; a password-only one only for an account
            // with no second factor, and only where the operator allows it.
            var passes = session.methods.contains(SignInService.multiFactor)
            if !passes, allowsPasswordOnly, !user.enrolmentRequired {
                passes = try await !twoFactor.isEnabled(for: user)
            }
            if passes, try await policy.standing(of: user).isEnrolmentOnly {
                // The sign-in page (`SignInService.returning`) sends such a session to enrolment, not back here.
                passes = false
            }
            if passes {
                return .allowed(user: OIDCService.subject(user.id), email: user.email ?? "", methods: session.methods.joined(separator: ","))
            }
        }
        let back = returnAddresses.validated(originalURL)
        return .refused(signIn: back.map { signInURL + "?rd=" + OIDCService.formEncode($0) })
    }
}
