import Hummingbird
import TwoStepCore
import TwoStepStore

/// After `twostep user reset-2fa` (issue 12), and once the 2FA policy's grace is over for an account
/// without an allowed method (issue 18), an account may only set up a second factor until one is on:
/// neither the help desk's reset nor the policy may leave an account that runs on what it refuses.
/// On the pages every other profile page sends the browser to the method choice; the API answers 403
/// `enrolment_required`. Within the grace period nothing is closed (the sign-in shows the choice
/// with **Not now**).
enum EnrolmentGate {
    /// What an account that must enrol may still reach: enrolment, re-authentication, signing out.
    static func allows(_ path: String) -> Bool {
        let open = [
            "/profile/two-factor/enable", "/profile/two-factor/app", "/profile/two-factor/sms", "/profile/confirm",
            "/profile/signout-everywhere",
            "/api/v1/account/two-factor/app", "/api/v1/account/two-factor/sms", "/api/v1/account/reauthenticate",
            // A security key is a method too (issue 17).
            "/api/v1/account/webauthn",
            "/api/v1/session", "/api/v1/sessions",
        ]
        // Adding a security key (issue 17), but not renaming or removing one.
        let exact = ["/api/v1/account/two-factor", "/profile/two-factor/security-keys", "/profile/two-factor/security-keys/new"]
        return exact.contains(path) || open.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    struct Pages: RouterMiddleware {
        typealias Context = SignedInContext
        let policy: TwoFactorPolicyService

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            // Asked on every request, not only at sign-in: a deadline that passes during a session closes it too.
            guard !EnrolmentGate.allows(request.uri.path), try await policy.standing(of: context.user).isEnrolmentOnly else {
                return try await next(request, context)
            }
            throw WebRedirect(to: "/profile/two-factor/enable")
        }
    }

    struct API: RouterMiddleware {
        typealias Context = AccountAPIContext
        let policy: TwoFactorPolicyService

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            guard !EnrolmentGate.allows(request.uri.path), case .enrolmentRequired(let reason) = try await policy.standing(of: context.user) else {
                return try await next(request, context)
            }
            throw APIError(.forbidden, "enrolment_required", EnrolmentGate.message(reason))
        }
    }

    /// Why the API refuses, and what to do.
    static func message(_ reason: TwoFactorPolicy.Reason) -> String {
        switch reason {
        case .operatorReset:
            "An operator reset this account's two-factor authentication: set up a method first (POST /api/v1/account/two-factor/app)."
        case .noMethod:
            "This server requires two-factor authentication and the grace period is over: set up a method first (POST /api/v1/account/two-factor/app)."
        case .onlyDisallowedMethods:
            "This server no longer allows this account's two-factor method: set up an allowed one first (POST /api/v1/account/two-factor/app)."
        }
    }
}
