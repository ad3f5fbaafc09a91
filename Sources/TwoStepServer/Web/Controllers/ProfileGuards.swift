import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The checks profile pages make before an action: each asks a service and turns its answer into a redirect.
struct ProfileGuards: Sendable {
    let services: Services

    /// Sends the person to "Confirm it's you" unless this session re-authenticated in the last 10
    /// minutes (the rule: `SessionService.access(for:in:)`). Confirming opens `next`, or performs
    /// `then` (a form's action, carried in `next` as `?then=`) without a second click.
    func requireAccess(_ change: SessionService.SensitiveChange, _ context: SignedInContext, next: String, then: Continuation? = nil) throws {
        switch services.sessions.access(for: change, in: context.session) {
        case .allowed: return
        case .reauthenticationRequired:
            throw Self.confirmFirst(next: next + (then.map { "?then=" + $0.rawValue } ?? ""))
        }
    }

    /// To "Confirm it's you", which opens `next` (a path inside the profile) once confirmed: for a
    /// service that answered "re-authentication required" itself.
    static func confirmFirst(next: String) -> WebRedirect {
        WebRedirect(to: "/profile/confirm?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    /// Enrolling needs the method to be allowed now, and (like every addition) a recent re-authentication.
    func requireEnrolmentAllowed(_ context: SignedInContext, kind: FactorKind, returnTo path: String) async throws {
        switch try await services.twoFactor.enrolmentStart(kind, for: context.user) {
        case .allowed: try requireAccess(kind == .recoveryPhone ? .recoveryPhone : .addMethod(kind), context, next: path)
        case .notWhileEnabled: throw WebRedirect(to: "/profile/two-factor")
        // Not offered on the choice either (`--allowed-methods`, issue 18).
        case .methodNotAllowed: throw WebRedirect(to: "/profile/two-factor/enable")
        }
    }

    /// A form's action that "Confirm it's you" performs once the password is given, so the person
    /// does not click it twice (issue 11). A closed list: the confirm form cannot be made to post
    /// anywhere else, and it carries its own CSRF token.
    enum Continuation: String, Sendable {
        case generateRecoveryCodes = "generate-recovery-codes"
        case removeRecoveryPhone = "remove-recovery-phone"

        /// The action a confirm form's `next` carries (`/profile/two-factor?then=generate-recovery-codes`).
        init?(next: String) {
            guard let query = next.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
            let value = query.split(separator: "&").first { $0.hasPrefix("then=") }?.dropFirst("then=".count)
            guard let value, let action = Continuation(rawValue: String(value)) else { return nil }
            self = action
        }
    }

    /// Performs a continued action for `user` (the caller has checked access) and sends the browser on.
    func perform(_ action: Continuation, _ user: User) async throws -> Response {
        switch action {
        case .generateRecoveryCodes:
            guard try await services.twoFactor.recoveryCodeGeneration(for: user) == .allowed else { throw WebRedirect(to: "/profile/two-factor") }
            _ = try await services.recoveryCodes.generate(for: user)
            // Post/redirect/get: a reload shows the codes again instead of posting the password again.
            return .redirect(to: "/profile/two-factor/recovery-codes?done=generated", type: .normal)
        case .removeRecoveryPhone:
            _ = try await services.twoFactor.removeRecoveryPhone(user: user)
            return .redirect(to: "/profile/two-factor?done=recovery-phone-removed", type: .normal)
        }
    }
}
