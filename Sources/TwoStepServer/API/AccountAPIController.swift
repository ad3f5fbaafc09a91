import Foundation
import HTTPTypes
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The account holder's JSON API once signed in (SPEC §3): everything the pages do, with a bearer
/// session token in place of the cookie, over the same services.
struct AccountAPIController: Sendable {
    let services: Services
    private var accounts: AccountService { services.accounts }
    private var sessions: SessionService { services.sessions }
    private var twoFactor: TwoFactorService { services.twoFactor }
    private var now: Date { services.accounts.now() }

    func addRoutes(to account: APIRoutes<AccountAPIContext>) {
        account.on(.get, "/account") { _, context in
            try API.json(
                AccountBody(
                    email: context.user.name,
                    createdAt: Date(unixTime: context.user.createdAt),
                    twoFactor: try await API.status(of: context.user, services: services)
                )
            )
        }
        account.on(.post, "/account/password", use: changePassword)
        account.on(.post, "/account/reauthenticate", use: reauthenticate)
        account.on(.get, "/account/two-factor") { _, context in try API.json(try await API.status(of: context.user, services: services)) }
        account.on(.post, "/account/two-factor/app", use: startApp)
        account.on(.post, "/account/two-factor/app/confirm", use: confirmApp)
        account.on(.post, "/account/two-factor/sms") { request, context in try await startPhone(request, context, kind: .sms) }
        account.on(.post, "/account/two-factor/sms/confirm") { request, context in try await confirmPhone(request, context, kind: .sms) }
        account.on(.post, "/account/two-factor/disable", use: disable)
        account.on(.post, "/account/recovery-phone") { request, context in try await startPhone(request, context, kind: .recoveryPhone) }
        account.on(.post, "/account/recovery-phone/confirm") { request, context in try await confirmPhone(request, context, kind: .recoveryPhone) }
        account.on(.delete, "/account/recovery-phone") { _, context in
            try requireAccess(.recoveryPhone, context)
            guard try await twoFactor.removeRecoveryPhone(user: context.user) else {
                throw APIError(.notFound, "no_recovery_phone", "This account has no recovery phone number.")
            }
            return API.noContent()
        }
        account.on(.post, "/account/recovery-codes") { _, context in
            try API.check(try await twoFactor.recoveryCodeGeneration(for: context.user))
            try requireAccess(.generateRecoveryCodes, context)
            return try API.json(
                API.RecoveryCodesBody(codes: try await services.recoveryCodes.generate(for: context.user).map(\.description)),
                status: .created
            )
        }
        account.on(.get, "/account/recovery-codes") { _, context in
            try requireAccess(.revealRecoveryCodes, context)
            return try API.json(API.RecoveryCodesBody(codes: try await services.recoveryCodes.unusedCodes(of: context.user).map(\.description)))
        }
        account.on(.get, "/account/recovery-codes/status") { _, context in
            try API.json(API.RecoveryCodeStatusBody(try await services.recoveryCodes.status(of: context.user)))
        }
        account.on(.get, "/account/trusted-devices") { _, context in
            try API.json(DevicesBody(devices: try await services.devices.devices(of: context.user).map(DeviceBody.init)))
        }
        account.on(.delete, "/account/trusted-devices") { _, context in
            try await services.devices.revokeAll(user: context.user, reason: "all devices")
            return API.noContent()
        }
        account.on(.delete, "/account/trusted-devices/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self), try await services.devices.revoke(deviceID: id, user: context.user) else {
                throw APIError(.notFound, "no_such_device", "This account has no trusted device with that id.")
            }
            return API.noContent()
        }
        account.on(.get, "/account/events") { _, context in
            try API.json(EventsBody(try await accounts.events(of: context.user, limit: 100)))
        }
    }

    private struct AccountBody: Encodable {
        let email: String
        let createdAt: Date
        let twoFactor: API.TwoFactorStatusBody
    }

    private struct PasswordForm: Decodable {
        let current: String
        let new: String
    }

    private func changePassword(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: PasswordForm.self, context: context)
        switch try await accounts.changePassword(session: context.session, user: context.user, current: form.current, new: form.new) {
        case .success(let token): return try API.json(TokenBody(token: token))
        case .failure(.wrongPassword): throw APIError(.unauthorized, "wrong_password", "The current password is not right.")
        case .failure(.tooManyAttempts(let retryAt)): throw APIError.tooManyPasswordAttempts(retryAt: retryAt, now: now)
        case .failure(.passwordLength): throw APIError.invalidField("new", "must have \(AccountService.passwordRule)")
        }
    }

    private struct ProofForm: Decodable {
        let password: String?
        let code: String?
    }

    private struct ReauthenticatedBody: Encodable {
        let reauthenticatedUntil: Date
        /// The session's new bearer token: the one sent with this request no longer works.
        let token: String
    }

    /// After a password change: the session's new bearer token (every other one has ended).
    private struct TokenBody: Encodable {
        let token: String
    }

    private func reauthenticate(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ProofForm.self, context: context)
        switch try await services.signIns.reauthenticate(session: context.session, user: context.user, password: form.password, code: form.code) {
        case .confirmed(let token):
            return try API.json(
                ReauthenticatedBody(reauthenticatedUntil: now.addingTimeInterval(SessionService.reauthenticationLifetime), token: token)
            )
        case .refused(let proof):
            try check(proof)
            throw APIError.unauthorized
        }
    }

    /// A refused "password or current code" as an API error.
    private func check(_ proof: TwoFactorService.Proof) throws {
        switch proof {
        case .confirmed: return
        case .wrongPassword: throw APIError(.unauthorized, "wrong_password", "That password is not right.")
        case .tooManyAttempts(let retryAt): throw APIError.tooManyPasswordAttempts(retryAt: retryAt, now: now)
        case .code(let verification): throw API.refusal(verification, now: now)
        case .proofMissing: throw APIError.invalidField("password", "give the current password, or a current security code in \"code\"")
        }
    }

    /// 403 `reauthentication_required` unless this token re-authenticated in the last 10 minutes
    /// (the rule: `SessionService.access(for:in:)`).
    private func requireAccess(_ change: SessionService.SensitiveChange, _ context: AccountAPIContext) throws {
        switch sessions.access(for: change, in: context.session) {
        case .allowed: return
        case .reauthenticationRequired: throw APIError.reauthenticationRequired
        }
    }

    private func startApp(_ request: Request, context: AccountAPIContext) async throws -> Response {
        try API.check(try await twoFactor.enrolmentStart(.totp, for: context.user))
        try requireAccess(.addMethod(.totp), context)
        return try API.json(API.EnrolmentBody(try await twoFactor.startAppEnrolment(for: context.user)), status: .created)
    }

    private struct ConfirmForm: Decodable {
        let code: String
        let trustDevice: Bool?
    }

    private func confirmApp(_ request: Request, context: AccountAPIContext) async throws -> Response {
        try await confirm(request, context, kind: .totp)
    }

    /// 200 `{"enabled": …, "device_token": …}` once the code from the new factor is right.
    private func confirm(_ request: Request, _ context: AccountAPIContext, kind: FactorKind) async throws -> Response {
        let form = try await request.decodeJSON(as: ConfirmForm.self, context: context)
        let activation = try await services.enrolments.activate(
            kind,
            code: form.code,
            trustDevice: form.trustDevice ?? false,
            session: context.session,
            user: context.user
        )
        switch activation {
        case .activated(let deviceToken):
            return try API.json(API.EnabledBody(enabled: try await twoFactor.isEnabled(for: context.user), deviceToken: deviceToken))
        case .wrongCode: try API.check(.wrongCode)
        case .expired: try API.check(.expired)
        }
        throw APIError.unauthorized  // not reached: `check` throws for both refusals
    }

    private struct PhoneForm: Decodable {
        let phone: String
    }

    private func startPhone(_ request: Request, _ context: AccountAPIContext, kind: FactorKind) async throws -> Response {
        try API.check(try await twoFactor.enrolmentStart(kind, for: context.user))
        try requireAccess(kind == .recoveryPhone ? .recoveryPhone : .addMethod(kind), context)
        let form = try await request.decodeJSON(as: PhoneForm.self, context: context)
        guard let phone = PhoneNumber(form.phone) else {
            throw APIError.invalidField("phone", "must be an international number starting with + and the country code, e.g. +31612345678")
        }
        let result = try await twoFactor.startPhoneEnrolment(for: context.user, phone: phone, kind: kind)
        return try API.sent(result, limits: twoFactor.smsCodes.limits, now: now)
    }

    private func confirmPhone(_ request: Request, _ context: AccountAPIContext, kind: FactorKind) async throws -> Response {
        try await confirm(request, context, kind: kind)
    }

    private func disable(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ProofForm.self, context: context)
        switch try await twoFactor.disable(session: context.session, user: context.user, password: form.password, code: form.code) {
        case .disabled(let token): return try API.json(API.EnabledBody(enabled: false, token: token))
        case .refused(let proof):
            try check(proof)
            throw APIError.unauthorized
        }
    }

    private struct DevicesBody: Encodable {
        let devices: [DeviceBody]
    }

    private struct DeviceBody: Encodable {
        let id: Int64
        let browser: String
        let createdAt: Date
        let lastUsedAt: Date
        let expiresAt: Date

        init(_ device: TrustedDevice) {
            id = device.id
            browser = BrowserName.describe(device.userAgent)
            createdAt = Date(unixTime: device.createdAt)
            lastUsedAt = Date(unixTime: device.lastUsedAt)
            expiresAt = Date(unixTime: device.expiresAt)
        }
    }

    struct EventsBody: Encodable {
        let events: [EventBody]

        init(_ events: [SecurityEvent]) {
            self.events = events.map {
                EventBody(kind: $0.kind.rawValue, detail: $0.detail, at: Date(unixTime: $0.createdAt), clientAddress: $0.clientAddress)
            }
        }
    }

    struct EventBody: Encodable {
        let kind: String
        let detail: String
        let at: Date
        let clientAddress: String
    }
}
