import Foundation
import HTTPTypes
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The account holder's JSON API (SPEC §3): everything the pages do, with a bearer session token
/// in place of the cookie, over the same services.
struct AccountAPIController: Sendable {
    let services: Services

    private var accounts: AccountService { services.accounts }
    private var sessions: SessionService { services.sessions }
    private var twoFactor: TwoFactorService { services.twoFactor }
    private var now: Date { services.accounts.now() }

    func addRoutes(public routes: APIRoutes<TwoStepRequestContext>, account: APIRoutes<AccountAPIContext>) {
        routes.on(.post, "/account", use: signUp)
        routes.on(.post, "/session", use: signIn)
        routes.on(.post, "/session/sms", use: sendSignInCode)
        routes.on(.post, "/session/second-factor", use: completeSecondFactor)

        account.on(.delete, "/session") { _, context in
            try await sessions.end(context.session)
            return API.noContent()
        }
        account.on(.get, "/account") { _, context in
            try API.json(
                AccountBody(
                    email: context.user.email,
                    createdAt: Date(unixTime: context.user.createdAt),
                    twoFactor: try await Self.status(of: context.user, services: services)
                )
            )
        }
        account.on(.post, "/account/password", use: changePassword)
        account.on(.post, "/account/reauthenticate", use: reauthenticate)
        account.on(.get, "/account/two-factor") { _, context in try API.json(try await Self.status(of: context.user, services: services)) }
        account.on(.post, "/account/two-factor/app", use: startApp)
        account.on(.post, "/account/two-factor/app/confirm", use: confirmApp)
        account.on(.post, "/account/two-factor/sms") { request, context in try await startPhone(request, context, kind: .sms) }
        account.on(.post, "/account/two-factor/sms/confirm") { request, context in try await confirmPhone(request, context, kind: .sms) }
        account.on(.post, "/account/two-factor/disable", use: disable)
        account.on(.post, "/account/recovery-phone") { request, context in try await startPhone(request, context, kind: .recoveryPhone) }
        account.on(.post, "/account/recovery-phone/confirm") { request, context in try await confirmPhone(request, context, kind: .recoveryPhone) }
        account.on(.delete, "/account/recovery-phone") { _, context in
            try requireReauthentication(context)
            guard try await twoFactor.removeRecoveryPhone(user: context.user) else {
                throw APIError(.notFound, "no_recovery_phone", "This account has no recovery phone number.")
            }
            return API.noContent()
        }
        account.on(.post, "/account/recovery-codes") { _, context in
            try Self.check(try await twoFactor.recoveryCodeGeneration(for: context.user))
            try requireReauthentication(context)
            return try API.json(
                RecoveryCodesBody(codes: try await services.recoveryCodes.generate(for: context.user).map(\.description)),
                status: .created
            )
        }
        account.on(.get, "/account/recovery-codes") { _, context in
            try requireReauthentication(context)
            return try API.json(RecoveryCodesBody(codes: try await services.recoveryCodes.unusedCodes(of: context.user).map(\.description)))
        }
        account.on(.get, "/account/recovery-codes/status") { _, context in
            try API.json(RecoveryCodeStatusBody(try await services.recoveryCodes.status(of: context.user)))
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
            let events = try await accounts.events(of: context.user, limit: 100)
            return try API.json(
                EventsBody(events: events.map { EventBody(kind: $0.kind.rawValue, detail: $0.detail, at: Date(unixTime: $0.createdAt)) })
            )
        }
    }

    // MARK: Signing up and in

    private struct Credentials: Decodable {
        let email: String
        let password: String
        let deviceToken: String?
    }

    private struct SessionBody: Encodable {
        let status: String
        var token: String?
        var challenge: String?
        var methods: [String]?
        var expiresAt: Date?
        var method: String?
        var deviceToken: String?
        var recoveryCodesRemaining: Int?
    }

    private func signUp(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: Credentials.self, context: context)
        switch try await accounts.signUp(email: form.email, password: form.password) {
        case .success(let user):
            let token = try await sessions.start(userID: user.id, stage: .signedIn, userAgent: request.headers[.userAgent] ?? "", replacing: nil)
            return try API.json(SessionBody(status: "authenticated", token: token), status: .created)
        case .failure(.invalidEmail): throw APIError.invalidField("email", "is not an e-mail address such as name@example.com")
        case .failure(.passwordLength): throw APIError.invalidField("password", "must have 8 to 128 characters")
        case .failure(.emailTaken): throw APIError(.conflict, "email_taken", "An account with that e-mail address already exists.")
        }
    }

    private func signIn(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: Credentials.self, context: context)
        let outcome = try await services.signIns.signIn(
            email: form.email,
            password: form.password,
            deviceToken: form.deviceToken,
            userAgent: request.headers[.userAgent] ?? "",
            replacing: nil
        )
        switch outcome {
        case .refused:
            throw APIError(.unauthorized, "wrong_credentials", "Wrong e-mail address or password.")  // never which (SPEC F1)
        case .signedIn(_, let token):
            return try API.json(SessionBody(status: "authenticated", token: token))
        case .secondFactorRequired(let user, let challenge):
            return try API.json(
                SessionBody(
                    status: "second_factor_required",
                    challenge: challenge,
                    methods: try await methods(of: user),
                    expiresAt: now.addingTimeInterval(SessionService.secondFactorTimeout)
                )
            )
        }
    }

    /// The ways this account can pass the second step, named as the API names methods.
    private func methods(of user: User) async throws -> [String] {
        let kinds = try await twoFactor.status(of: user).kinds.map(Self.name(of:))
        let recoveryCodes = try await services.recoveryCodes.status(of: user).remaining > 0 ? ["recovery_code"] : []
        return kinds + recoveryCodes
    }

    static func name(of kind: FactorKind) -> String {
        switch kind {
        case .totp: "app"
        case .sms: "sms"
        case .recoveryPhone: "recovery_phone"
        }
    }

    static func name(of method: TwoFactorService.Method) -> String {
        switch method {
        case .factor(let kind): name(of: kind)
        case .recoveryCode: "recovery_code"
        }
    }

    /// The half-way session a challenge names: the user has given the right password in the last 10 minutes.
    private func challenge(_ token: String) async throws -> (Session, User) {
        guard !token.isEmpty, token.count <= 64, let session = try await sessions.resolve(token), session.stage == .awaitingSecondFactor,
            let user = try await accounts.user(id: session.userID)
        else {
            throw APIError(.unauthorized, "invalid_challenge", "The challenge is unknown or expired. Sign in with the password again.")
        }
        return (session, user)
    }

    private struct SendCodeForm: Decodable {
        let challenge: String
        let to: String?
    }

    private func sendSignInCode(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: SendCodeForm.self, context: context)
        let (_, user) = try await challenge(form.challenge)
        let recoveryPhone = try Self.phoneTarget(form.to)
        guard let result = try await twoFactor.sendSignInCode(to: user, recoveryPhone: recoveryPhone) else {
            throw APIError(.conflict, "no_phone", recoveryPhone ? "This account has no recovery phone number." : "This account does not use SMS.")
        }
        return try Self.sent(result, limits: twoFactor.smsCodes.limits, now: now)
    }

    /// `"sms"` (the default) or `"recovery_phone"`.
    static func phoneTarget(_ to: String?) throws -> Bool {
        switch to ?? "sms" {
        case "sms": return false
        case "recovery_phone": return true
        default: throw APIError.invalidField("to", "must be \"sms\" or \"recovery_phone\"")
        }
    }

    private struct CodeForm: Decodable {
        let challenge: String
        let code: String
        let trustDevice: Bool?
    }

    private func completeSecondFactor(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: CodeForm.self, context: context)
        let (session, user) = try await challenge(form.challenge)
        let outcome = try await services.signIns.completeSecondFactor(
            session: session,
            user: user,
            code: form.code,
            trustDevice: form.trustDevice ?? false,
            userAgent: request.headers[.userAgent] ?? ""
        )
        switch outcome {
        case .signedIn(let token, let method, let deviceToken):
            var body = SessionBody(status: "authenticated", token: token, method: Self.name(of: method), deviceToken: deviceToken)
            if case .recoveryCode(let remaining) = method { body.recoveryCodesRemaining = remaining }
            return try API.json(body)
        case .refused(let verification):
            throw Self.refusal(verification, now: now)
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

    // MARK: Account

    private struct AccountBody: Encodable {
        let email: String
        let createdAt: Date
        let twoFactor: StatusBody
    }

    struct StatusBody: Encodable {
        let enabled: Bool
        let method: String?
        let smsPhone: String?
        let recoveryPhone: String?
        let recoveryCodes: RecoveryCodeStatusBody
        let trustedDevices: Int
    }

    /// The two-factor state of an account, as both APIs show it.
    static func status(of user: User, services: Services) async throws -> StatusBody {
        let status = try await services.twoFactor.status(of: user)
        return StatusBody(
            enabled: status.enabled,
            method: status.method.map(Self.name(of:)),
            smsPhone: status.smsPhone,
            recoveryPhone: status.recoveryPhone,
            recoveryCodes: RecoveryCodeStatusBody(try await services.recoveryCodes.status(of: user)),
            trustedDevices: try await services.devices.devices(of: user).count
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

    private struct PasswordForm: Decodable {
        let current: String
        let new: String
    }

    private func changePassword(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: PasswordForm.self, context: context)
        switch try await accounts.changePassword(user: context.user, current: form.current, new: form.new) {
        case .success: return API.noContent()
        case .failure(.wrongPassword): throw APIError(.unauthorized, "wrong_password", "The current password is not right.")
        case .failure(.passwordLength): throw APIError.invalidField("new", "must have 8 to 128 characters")
        }
    }

    private struct ProofForm: Decodable {
        let password: String?
        let code: String?
    }

    private struct ReauthenticatedBody: Encodable {
        let reauthenticatedUntil: Date
    }

    private func reauthenticate(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ProofForm.self, context: context)
        let proof = try await services.signIns.reauthenticate(session: context.session, user: context.user, password: form.password, code: form.code)
        try check(proof)
        return try API.json(ReauthenticatedBody(reauthenticatedUntil: now.addingTimeInterval(SessionService.reauthenticationLifetime)))
    }

    /// A refused "password or current code" as an API error.
    private func check(_ proof: TwoFactorService.Proof) throws {
        switch proof {
        case .confirmed: return
        case .wrongPassword: throw APIError(.unauthorized, "wrong_password", "That password is not right.")
        case .code(let verification): throw Self.refusal(verification, now: now)
        case .proofMissing: throw APIError.invalidField("password", "give the current password, or a current security code in \"code\"")
        }
    }

    static func check(_ start: TwoFactorService.EnrolmentStart, reauthenticated: () throws -> Void) throws {
        switch start {
        case .allowed: return
        case .notWhileEnabled: throw Self.alreadyEnabled
        case .needsReauthentication: try reauthenticated()
        }
    }

    static func check(_ generation: TwoFactorService.RecoveryCodeGeneration) throws {
        switch generation {
        case .allowed: return
        case .notEnabled: throw Self.notEnabled
        }
    }
    static let notEnabled = APIError(.conflict, "two_factor_disabled", "Two-factor authentication is off for this account.")
    static let alreadyEnabled = APIError(
        .conflict,
        "two_factor_enabled",
        "Two-factor authentication is already on; disable it first to change the method."
    )

    private func requireReauthentication(_ context: AccountAPIContext) throws {
        guard sessions.isReauthenticated(context.session) else { throw APIError.reauthenticationRequired }
    }

    // MARK: Enabling and disabling

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

    private func startApp(_ request: Request, context: AccountAPIContext) async throws -> Response {
        try Self.check(try await twoFactor.enrolmentStart(.totp, for: context.user)) { try requireReauthentication(context) }
        return try API.json(EnrolmentBody(try await twoFactor.startAppEnrolment(for: context.user)), status: .created)
    }

    private struct ConfirmForm: Decodable {
        let code: String
        let trustDevice: Bool?
    }

    struct EnabledBody: Encodable {
        let enabled: Bool
        var deviceToken: String?
    }

    private func confirmApp(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ConfirmForm.self, context: context)
        try Self.check(try await twoFactor.activateApp(user: context.user, code: form.code))
        return try await enabled(context, trustDevice: form.trustDevice)
    }

    /// After activation the code just shown counts as re-authentication (as on the pages), so
    /// recovery codes can be generated next.
    private func enabled(_ context: AccountAPIContext, trustDevice: Bool?) async throws -> Response {
        try await sessions.markReauthenticated(context.session)
        var body = EnabledBody(enabled: true)
        if trustDevice == true { body.deviceToken = try await services.devices.trust(user: context.user, userAgent: context.session.userAgent) }
        return try API.json(body)
    }

    static func check(_ result: TwoFactorService.ActivationResult) throws {
        switch result {
        case .activated: return
        case .wrongCode: throw APIError.invalidField("code", "is not right (or expired); enter the current code")
        case .expired: throw APIError(.conflict, "no_enrolment", "Nothing is waiting for a code: start the enrolment again.")
        }
    }

    private struct PhoneForm: Decodable {
        let phone: String
    }

    struct SentBody: Encodable {
        let sentTo: String
        let expiresAt: Date
    }

    private func startPhone(_ request: Request, _ context: AccountAPIContext, kind: FactorKind) async throws -> Response {
        try Self.check(try await twoFactor.enrolmentStart(kind, for: context.user)) { try requireReauthentication(context) }
        let form = try await request.decodeJSON(as: PhoneForm.self, context: context)
        guard let phone = PhoneNumber(form.phone) else {
            throw APIError.invalidField("phone", "must be an international number starting with + and the country code, e.g. +31612345678")
        }
        let result = try await twoFactor.startPhoneEnrolment(for: context.user, phone: phone, kind: kind)
        return try Self.sent(result, limits: twoFactor.smsCodes.limits, now: now)
    }

    /// 202 when the text message is out; 429 with `Retry-After` when a limit stops it (the numbers are the
    /// configured limits); 422 when the server does not text that destination; 502 when the gateway fails.
    static func sent(_ result: SMSCodeService.SendResult, limits: SMSLimits, now: Date) throws -> Response {
        switch result {
        case .sent(let masked):
            return try API.json(SentBody(sentTo: masked, expiresAt: now.addingTimeInterval(SMSCodeService.lifetime)), status: .accepted)
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

    private func confirmPhone(_ request: Request, _ context: AccountAPIContext, kind: FactorKind) async throws -> Response {
        let form = try await request.decodeJSON(as: ConfirmForm.self, context: context)
        try Self.check(try await twoFactor.activatePhone(user: context.user, code: form.code, kind: kind))
        guard kind == .sms else { return try API.json(EnabledBody(enabled: try await twoFactor.isEnabled(for: context.user))) }
        return try await enabled(context, trustDevice: form.trustDevice)
    }

    private func disable(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ProofForm.self, context: context)
        try check(try await twoFactor.disable(user: context.user, password: form.password, code: form.code))
        return try API.json(EnabledBody(enabled: false))
    }

    // MARK: Devices and events

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

    private struct EventsBody: Encodable {
        let events: [EventBody]
    }

    private struct EventBody: Encodable {
        let kind: String
        let detail: String
        let at: Date
    }
}
