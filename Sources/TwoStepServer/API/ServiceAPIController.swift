import Foundation
import HTTPTypes
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The relying services' JSON API (SPEC §3), authenticated with API keys: create or import users,
/// enrol their authenticator app, text them a code, make recovery codes, and validate codes the
/// way sign-in does — the same replay guard and lockout, through the same `TwoFactorService`.
struct ServiceAPIController: Sendable {
    let services: Services

    private var twoFactor: TwoFactorService { services.twoFactor }
    private var now: Date { services.accounts.now() }

    func addRoutes(to routes: APIRoutes<ServiceAPIContext>) {
        routes.on(.post, "/validate", use: validate)
        routes.on(.post, "/users", use: createUser)
        routes.on(.get, "/users/:user") { _, context in
            let user = try await user(context)
            return try API.json(UserBody(user, twoFactor: try await API.status(of: user, services: services)))
        }
        routes.on(.post, "/users/:user/totp") { _, context in
            let user = try await user(context)
            // Only replacing a recovery phone asks for re-authentication, never the app.
            try API.check(try await twoFactor.enrolmentStart(.totp, for: user)) {}
            return try API.json(API.EnrolmentBody(try await twoFactor.startAppEnrolment(for: user)), status: .created)
        }
        routes.on(.post, "/users/:user/totp/confirm") { request, context in
            let form = try await request.decodeJSON(as: CodeForm.self, context: context)
            try API.check(try await twoFactor.activateApp(user: try await user(context), code: form.code))
            return try API.json(API.EnabledBody(enabled: true))
        }
        routes.on(.post, "/users/:user/sms") { request, context in
            let form = try await request.decodeJSON(as: SendForm.self, context: context)
            let user = try await user(context)
            let recoveryPhone = try API.phoneTarget(form.to)
            guard let result = try await twoFactor.sendSignInCode(to: user, recoveryPhone: recoveryPhone) else {
                throw APIError(.conflict, "no_phone", recoveryPhone ? "This user has no recovery phone number." : "This user does not use SMS.")
            }
            return try API.sent(result, limits: twoFactor.smsCodes.limits, now: now)
        }
        routes.on(.post, "/users/:user/recovery-codes") { _, context in
            let user = try await user(context)
            try API.check(try await twoFactor.recoveryCodeGeneration(for: user))
            let codes = try await services.recoveryCodes.generate(for: user)
            return try API.json(API.RecoveryCodesBody(codes: codes.map(\.description)), status: .created)
        }
    }

    private struct CodeForm: Decodable {
        let code: String
    }

    private struct SendForm: Decodable {
        let to: String?
    }

    /// The user named in the path, by e-mail address.
    private func user(_ context: ServiceAPIContext) async throws -> User {
        guard let raw = context.parameters.get("user"), let user = try await services.accounts.user(email: raw.removingPercentEncoding ?? raw) else {
            throw APIError.unknownUser
        }
        return user
    }

    // MARK: Validate

    private struct ValidateForm: Decodable {
        let user: String
        let code: String
    }

    private struct ValidateBody: Encodable {
        let valid: Bool
        var method: String?
        var recoveryCodesRemaining: Int?
    }

    /// `{"valid": true, "method": "app"}` or `{"valid": false}` (a wrong or replayed code, 200);
    /// 429 with `Retry-After` while the account must wait, 403 when it is locked.
    private func validate(_ request: Request, context: ServiceAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ValidateForm.self, context: context)
        guard form.code.utf8.count <= 64 else { throw APIError.invalidField("code", "is too long") }
        guard let (user, factors) = try await services.accounts.userWithConfirmedFactors(email: form.user) else { throw APIError.unknownUser }
        switch try await twoFactor.verify(form.code, user: user, factors: factors) {
        case .accepted(let method):
            var body = ValidateBody(valid: true, method: API.name(of: method))
            if case .recoveryCode(let remaining) = method { body.recoveryCodesRemaining = remaining }
            return try API.json(body)
        case .rejected(nil):
            return try API.json(ValidateBody(valid: false))
        case let refused:
            throw API.refusal(refused, now: now)
        }
    }

    // MARK: Users

    private struct NewUser: Decodable {
        let email: String
        let password: String?
        let totp: ImportedKey?
    }

    /// A key the user already has in an app, from the system TwoStep replaces.
    private struct ImportedKey: Decodable {
        let secret: String
        let algorithm: String?
        let digits: Int?
        let period: Int?
    }

    struct UserBody: Encodable {
        let email: String
        let createdAt: Date
        let twoFactor: API.TwoFactorStatusBody

        init(_ user: User, twoFactor: API.TwoFactorStatusBody) {
            email = user.email
            createdAt = Date(unixTime: user.createdAt)
            self.twoFactor = twoFactor
        }
    }

    private func createUser(_ request: Request, context: ServiceAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: NewUser.self, context: context)
        let key = try form.totp.map(Self.validated)
        let created: User
        switch try await services.accounts.create(email: form.email, password: form.password) {
        case .success(let user): created = user
        case .failure(.invalidEmail): throw APIError.invalidField("email", "is not an e-mail address such as name@example.com")
        case .failure(.passwordLength): throw APIError.invalidField("password", "must have 8 to 128 characters")
        case .failure(.emailTaken): throw APIError(.conflict, "email_taken", "A user with that e-mail address already exists.")
        }
        if let key { try await twoFactor.importApp(for: created, key: key) }
        return try API.json(UserBody(created, twoFactor: try await API.status(of: created, services: services)), status: .created)
    }

    private static func validated(_ key: ImportedKey) throws -> TwoFactorService.ImportedKey {
        do {
            return try TwoFactorService.ImportedKey(base32: key.secret, algorithm: key.algorithm, digits: key.digits, period: key.period)
        } catch {
            throw APIError.invalidField("totp.\(error.field)", error.message)
        }
    }
}
