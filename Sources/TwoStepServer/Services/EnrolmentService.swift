import Foundation
import TwoStepCore
import TwoStepStore

/// Finishing an enrolment, once for the pages and the API (SPEC F4, F5, F8).
struct EnrolmentService: Sendable {
    let twoFactor: TwoFactorService
    let devices: TrustedDeviceService
    let sessions: SessionService

    enum Activation: Equatable {
        /// On. `deviceToken` is set when the person ticked "Trust this device".
        case activated(deviceToken: String?)
        case wrongCode
        /// No enrolment is pending (never started, or older than 15 minutes).
        case expired
    }

    /// Confirms the pending factor of `kind` with a code from it, and trusts the browser if asked
    /// (the browser named by the session, the same on the pages and the API).
    ///
    /// Activating proves only that the new factor works, never who is holding the session: it
    /// opens no re-authentication window (issue 12: a stolen session added the attacker's phone,
    /// activated it, and so earned 10 minutes of sensitive changes). Starting the enrolment needed
    /// the password or an existing factor already (`SessionService.access(for:in:)`).
    func activate(_ kind: FactorKind, code: String, trustDevice: Bool, session: Session, user: User) async throws -> Activation {
        let result =
            switch kind {
            case .totp: try await twoFactor.activateApp(user: user, code: code)
            case .sms, .recoveryPhone: try await twoFactor.activatePhone(user: user, code: code, kind: kind)
            }
        switch result {
        case .wrongCode: return .wrongCode
        case .expired: return .expired
        case .activated:
            // The recovery phone is a fallback, not a method: it trusts nothing (SPEC F6 is about the method's code).
            guard trustDevice, kind != .recoveryPhone else { return .activated(deviceToken: nil) }
            return .activated(deviceToken: try await devices.trust(user: user, userAgent: session.userAgent))
        }
    }
}
