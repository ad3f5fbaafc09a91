import Hummingbird
import TwoStepStore

/// After `twostep user reset-2fa` (issue 12) an account may only set up a second factor until one
/// is on: the help desk's reset must not leave an account that runs on the password alone. On the
/// pages every other profile page sends the browser to the method choice; the API answers 403
/// `enrolment_required`.
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

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            guard context.user.enrolmentRequired, !EnrolmentGate.allows(request.uri.path) else { return try await next(request, context) }
            throw WebRedirect(to: "/profile/two-factor/enable")
        }
    }

    struct API: RouterMiddleware {
        typealias Context = AccountAPIContext

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            guard context.user.enrolmentRequired, !EnrolmentGate.allows(request.uri.path) else { return try await next(request, context) }
            throw APIError(
                .forbidden,
                "enrolment_required",
                "An operator reset this account's two-factor authentication: set up a method first (POST /api/v1/account/two-factor/app)."
            )
        }
    }
}
