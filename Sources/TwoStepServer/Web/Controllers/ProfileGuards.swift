import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The checks profile pages make before an action: each asks a service and turns its answer into a redirect.
struct ProfileGuards: Sendable {
    let services: Services

    /// SPEC §2: showing or regenerating recovery codes needs the password (or a code) from the last 10 minutes.
    func requireReauthentication(_ context: SignedInContext, returnTo path: String) throws {
        guard services.sessions.isReauthenticated(context.session) else {
            throw WebRedirect(to: "/profile/confirm?next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        }
    }

    func requireEnrolmentAllowed(_ context: SignedInContext, kind: FactorKind, returnTo path: String) async throws {
        switch try await services.twoFactor.enrolmentStart(kind, for: context.user) {
        case .allowed: return
        case .notWhileEnabled: throw WebRedirect(to: "/profile/two-factor")
        case .needsReauthentication: try requireReauthentication(context, returnTo: path)
        }
    }
}
