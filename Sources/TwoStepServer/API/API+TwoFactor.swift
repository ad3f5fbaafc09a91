import Foundation
import HTTPTypes
import Hummingbird
import TwoStepCore
import TwoStepStore

/// What both APIs answer about second factors: the names of methods, the status body, and the service
/// results (refused codes, SMS sends, enrolment and recovery-code rules) as responses or errors.
extension API {
    static func name(of kind: FactorKind) -> String {
        switch kind {
        case .totp: "app"
        case .sms: "sms"
        case .recoveryPhone: "recovery_phone"
        }
    }

    /// Why `enrolment_required` (issue 18).
    static func name(of reason: TwoFactorPolicy.Reason) -> String {
        switch reason {
        case .noMethod: "policy"
        case .onlyDisallowedMethods: "method_not_allowed"
        case .operatorReset: "operator_reset"
        }
    }

    static func name(of method: TwoFactorService.Method) -> String {
        switch method {
        case .factor(let kind): name(of: kind)
        case .recoveryCode: "recovery_code"
        case .securityKey: "security_key"
        }
    }

    /// `"sms"` (the default) or `"recovery_phone"`.
    static func phoneTarget(_ to: String?) throws -> Bool {
        switch to ?? "sms" {
        case "sms": return false
        case "recovery_phone": return true
        default: throw APIError.invalidField("to", "must be \"sms\" or \"recovery_phone\"")
        }
    }

    /// A refused code as an API error: 401 wrong, 429 with `Retry-After` while waiting, 403 when locked.
    static func refusal(_ verification: TwoFactorService.Verification, now: Date) -> APIError {
        switch verification {
        case .accepted, .rejected(nil):
            APIError(.unauthorized, "wrong_code", "That code is not right, or it was already used.")
        case .rejected(let retryAt?), .wait(let retryAt):
            APIError(.tooManyRequests, "too_many_attempts", "Too many wrong codes. Try again after the time given.", retryAt: retryAt, now: now)
        case .locked:
            APIError(
                .forbidden,
                "locked",
                "Too many wrong codes: codes are locked for this account. Use a recovery code, or ask an operator to reset it."
            )
        }
    }

    struct TwoFactorStatusBody: Encodable {
        let enabled: Bool
        let method: String?
        let smsPhone: String?
        let recoveryPhone: String?
        let recoveryCodes: RecoveryCodeStatusBody
        let trustedDevices: Int
        /// Security keys and passkeys registered (issue 17).
        let securityKeys: Int
    }

    /// The two-factor state of an account, as both APIs show it.
    static func status(of user: User, services: Services) async throws -> TwoFactorStatusBody {
        let status = try await services.twoFactor.status(of: user)
        return TwoFactorStatusBody(
            enabled: status.enabled,
            // With neither the app nor SMS, the keys are the method.
            method: status.method.map(name(of:)) ?? (status.securityKeys > 0 ? "security_key" : nil),
            smsPhone: status.smsPhone,
            recoveryPhone: status.recoveryPhone,
            recoveryCodes: RecoveryCodeStatusBody(try await services.recoveryCodes.status(of: user)),
            trustedDevices: try await services.devices.devices(of: user).count,
            securityKeys: status.securityKeys
        )
    }

    struct RecoveryCodeStatusBody: Encodable {
        let remaining: Int
        let total: Int
        let generatedAt: Date?
        /// 1 to 3 codes left: generate a new set soon.
        let low: Bool
        /// Every code is used: generate a new set now.
        let noneLeft: Bool

        init(_ status: RecoveryCodeService.Status) {
            remaining = status.remaining
            total = status.total
            generatedAt = status.generatedAt
            low = status.supply == .low
            noneLeft = status.supply == .noneLeft
        }
    }

    struct RecoveryCodesBody: Encodable {
        let codes: [String]
    }

    /// An enrolment the service refuses, as a 409 (re-authentication is asked separately).
    static func check(_ start: TwoFactorService.EnrolmentStart) throws {
        switch start {
        case .allowed: return
        case .notWhileEnabled: throw alreadyEnabled
        case .methodNotAllowed: throw methodNotAllowed
        }
    }

    /// Recovery codes asked for while 2FA is off, as a 409.
    static func check(_ generation: TwoFactorService.RecoveryCodeGeneration) throws {
        switch generation {
        case .allowed: return
        case .notEnabled: throw notEnabled
        }
    }

    /// `--allowed-methods` leaves this method out (issue 18).
    static let methodNotAllowed = APIError(.forbidden, "method_not_allowed", "This server does not allow this two-factor method.")

    static let notEnabled = APIError(.conflict, "two_factor_disabled", "Two-factor authentication is off for this account.")

    static let alreadyEnabled = APIError(
        .conflict,
        "two_factor_enabled",
        "Two-factor authentication is already on; disable it first to change the method."
    )

    struct EnrolmentBody: Encodable {
        let secret: String
        let uri: String
        let qrSvg: String
        let expiresAt: Date

        init(_ enrolment: TwoFactorService.AppEnrolment) {
            secret = Base32.encode(enrolment.uri.secret, padding: false)
            uri = enrolment.uri.description
            qrSvg = enrolment.qrSVG
            expiresAt = enrolment.expiresAt
        }
    }

    struct EnabledBody: Encodable {
        let enabled: Bool
        var deviceToken: String?
        /// After disabling: the session's new bearer token (every other one has ended).
        var token: String?
    }

    /// A refused activation code as a 422, or a 409 when nothing is waiting for one.
    static func check(_ result: TwoFactorService.ActivationResult) throws {
        switch result {
        case .activated: return
        case .wrongCode: throw APIError.invalidField("code", "is not right (or expired); enter the current code")
        case .expired: throw APIError(.conflict, "no_enrolment", "Nothing is waiting for a code: start the enrolment again.")
        }
    }

    struct SentBody: Encodable {
        let sentTo: String
        let expiresAt: Date
    }

    /// 202 when the text message is out; 429 with `Retry-After` when a limit stops it (the numbers are the
    /// configured limits); 422 when the server does not text that destination; 502 when the gateway fails.
    static func sent(_ result: SMSCodeService.SendResult, limits: SMSLimits, now: Date) throws -> Response {
        switch result {
        case .sent(let masked):
            return try json(SentBody(sentTo: masked, expiresAt: now.addingTimeInterval(SMSCodeService.lifetime)), status: .accepted)
        case .limited(let limit):
            let (retryAt, message) =
                switch limit {
                case .cooldown(let at): (at, "A code was sent less than \(Format.span(limits.cooldown)) ago.")
                case .accountHourly(let at): (at, "This account had \(limits.perAccountPerHour) codes in the last hour.")
                case .phoneDaily(let at): (at, "This number had \(limits.perPhonePerDay) codes today.")
                case .serverHourly(let at), .serverDaily(let at): (at, "Text messages are paused on this server for now; use another method.")
                }
            throw APIError(.tooManyRequests, "sms_limited", message, retryAt: Date(unixTime: retryAt), now: now)
        case .destinationRefused:
            throw APIError(
                .unprocessableContent,
                "sms_destination_refused",
                "This server does not send text messages to that number's country or range."
            )
        case .failed:
            throw APIError(.badGateway, "sms_failed", "The text message could not be sent just now. Try again in a minute.")
        }
    }
}
