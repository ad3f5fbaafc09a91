import Foundation
import HTTPTypes
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The relying services' JSON API (SPEC §3), authenticated with API keys: create or import users,
/// enrol their authenticator app, text them a code, make recovery codes, and validate codes the
/// way sign-in does — the same replay guard and lockout, through the same `TwoFactorService`.
///
/// Each route belongs to one scope of the key (403 without it), and acts only on accounts within
/// the key's reach (`ServiceAccountService`): others answer exactly as an unknown user does.
struct ServiceAPIController: Sendable {
    let services: Services

    private var twoFactor: TwoFactorService { services.twoFactor }
    private var now: Date { services.accounts.now() }

    func addRoutes(to routes: APIRoutes<ServiceAPIContext>) {
        let routes = ScopedRoutes(routes: routes)
        routes.on(.post, "/validate", .validate, use: validate)
        routes.on(.post, "/users", .users, use: createUser)
        routes.on(.get, "/users/:user", .users) { _, context in
            let user = try await user(context)
            return try API.json(UserBody(user, twoFactor: try await API.status(of: user, services: services)))
        }
        routes.on(.post, "/users/:user/totp", .enrol) { _, context in
            let user = try await user(context)
            // Only replacing a recovery phone asks for re-authentication, never the app.
            try API.check(try await twoFactor.enrolmentStart(.totp, for: user))
            return try API.json(API.EnrolmentBody(try await twoFactor.startAppEnrolment(for: user)), status: .created)
        }
        routes.on(.post, "/users/:user/totp/confirm", .enrol) { request, context in
            let form = try await request.decodeJSON(as: CodeForm.self, context: context)
            try API.check(try await twoFactor.activateApp(user: try await user(context), code: form.code))
            return try API.json(API.EnabledBody(enabled: true))
        }
        // Texting a sign-in code is the first half of validating an SMS user.
        routes.on(.post, "/users/:user/sms", .validate) { request, context in
            let form = try await request.decodeJSON(as: SendForm.self, context: context)
            let user = try await user(context)
            let recoveryPhone = try API.phoneTarget(form.to)
            guard let result = try await twoFactor.sendSignInCode(to: user, recoveryPhone: recoveryPhone) else {
                throw APIError(.conflict, "no_phone", recoveryPhone ? "This user has no recovery phone number." : "This user does not use SMS.")
            }
            return try API.sent(result, limits: twoFactor.smsCodes.limits, now: now)
        }
        routes.on(.post, "/users/:user/recovery-codes", .recoveryCodes) { _, context in
            let user = try await user(context)
            try API.check(try await twoFactor.recoveryCodeGeneration(for: user))
            let codes = try await services.recoveryCodes.generate(for: user)
            return try API.json(API.RecoveryCodesBody(codes: codes.map(\.description)), status: .created)
        }
        routes.on(.get, "/users/:user/events", .audit) { _, context in
            try API.json(AccountAPIController.EventsBody(try await services.accounts.events(of: try await user(context), limit: 100)))
        }
        routes.on(.get, "/audit", .audit, use: auditTrail)
    }

    /// Registers routes that refuse keys without the route's scope (403, before anything is read).
    private struct ScopedRoutes {
        let routes: APIRoutes<ServiceAPIContext>

        func on(
            _ method: HTTPRequest.Method,
            _ path: String,
            _ scope: APIKeyScope,
            use handler: @escaping @Sendable (Request, ServiceAPIContext) async throws -> Response
        ) {
            routes.on(method, path) { request, context in
                guard context.apiKey.scopes.contains(scope) else { throw APIError.scopeMissing(scope) }
                return try await handler(request, context)
            }
        }
    }

    private struct CodeForm: Decodable {
        let code: String
    }

    private struct SendForm: Decodable {
        let to: String?
    }

    /// The user named in the path (the key's own id for it, or an address), within the key's reach.
    private func user(_ context: ServiceAPIContext) async throws -> User {
        guard let raw = context.parameters.get("user"),
            let user = try await services.serviceAccounts.account(named: raw.removingPercentEncoding ?? raw, for: context.apiKey)
        else { throw APIError.unknownUser }
        return user
    }

    // MARK: Audit trail

    private struct AuditBody: Encodable {
        let events: [AuditEventBody]
        /// Pass as `before` for the next page; absent on the last.
        let nextBefore: Int64?
    }

    /// `GET /api/v1/audit?user=&since=&before=&limit=`: the whole server's trail, so only for a key
    /// that reaches every account (a reach-limited key would read other services' accounts).
    private func auditTrail(_ request: Request, context: ServiceAPIContext) async throws -> Response {
        guard context.apiKey.reach == .all else {
            throw APIError(.forbidden, "reach_insufficient", "The audit trail needs a key whose reach is all accounts.")
        }
        let query = request.uri.queryParameters
        let limit = try query["limit"].map { text in
            guard let value = Int(String(text)), (1...AuditService.maximumPage).contains(value) else {
                throw APIError.invalidField("limit", "must be a number from 1 to \(AuditService.maximumPage)")
            }
            return value
        }
        let before = try query["before"].map { text in
            guard let value = Int64(String(text)), value > 0 else { throw APIError.invalidField("before", "must be an event id") }
            return value
        }
        let since = try query["since"].map { text in
            guard let date = try? Date(String(text), strategy: .iso8601) else {
                throw APIError.invalidField("since", "must be a time such as 2026-01-31T00:00:00Z")
            }
            return date
        }
        let page = limit ?? 100
        switch try await services.audit.page(email: query["user"].map(String.init), since: since, before: before, limit: page) {
        case .success(let events):
            return try API.json(AuditBody(events: events.map(AuditEventBody.init), nextBefore: events.count == page ? events.last?.id : nil))
        case .failure(.noSuchUser):
            throw APIError.unknownUser
        }
    }

    // MARK: Validate

    private struct ValidateForm: FlatJSONDecodable {
        let user: String
        let code: String

        static let fields = ["user", "code"]
        init(strings: [String]) { (user, code) = (strings[0], strings[1]) }
    }

    private struct ValidateBody: Encodable {
        let valid: Bool
        var method: String?
        var recoveryCodesRemaining: Int?
    }

    /// The commonest answers, encoded once (`JSONEncoder` was about 2 % of a valid check, issue 19).
    private static let validAnswers = Dictionary(
        uniqueKeysWithValues: FactorKind.allCases.map { ($0, API.encoded(ValidateBody(valid: true, method: API.name(of: $0)))) }
    )
    private static let invalidAnswer = API.encoded(ValidateBody(valid: false))

    /// `{"valid": true, "method": "app"}` or `{"valid": false}` (a wrong or replayed code, 200);
    /// 429 with `Retry-After` while the account must wait, 403 when it is locked.
    private func validate(_ request: Request, context: ServiceAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ValidateForm.self, context: context)
        guard form.code.utf8.count <= 64 else { throw APIError.invalidField("code", "is too long") }
        guard let (user, factors) = try await services.serviceAccounts.accountWithFactors(named: form.user, for: context.apiKey) else {
            throw APIError.unknownUser
        }
        switch try await twoFactor.verify(form.code, user: user, factors: factors, apiKey: context.apiKey.name) {
        case .accepted(.factor(let kind)):
            return API.json(encoded: Self.validAnswers[kind]!)
        case .accepted(let method):
            var body = ValidateBody(valid: true, method: API.name(of: method))
            if case .recoveryCode(let remaining) = method { body.recoveryCodesRemaining = remaining }
            return try API.json(body)
        case .rejected(nil):
            return API.json(encoded: Self.invalidAnswer)
        case let refused:
            throw API.refusal(refused, now: now)
        }
    }

    // MARK: Users

    /// An account named by `email`, or by `user`: the service's own id for it.
    private struct NewUser: Decodable {
        let email: String?
        let user: String?
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
        let email: String?
        /// The service's own id for the account.
        let user: String?
        /// `signup`, `operator`, `import` or `api_key`; absent for accounts older than the record.
        let origin: String?
        let createdAt: Date
        let twoFactor: API.TwoFactorStatusBody

        init(_ user: User, twoFactor: API.TwoFactorStatusBody) {
            email = user.email
            self.user = user.externalID
            origin = user.origin?.rawValue
            createdAt = Date(unixTime: user.createdAt)
            self.twoFactor = twoFactor
        }
    }

    private func createUser(_ request: Request, context: ServiceAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: NewUser.self, context: context)
        let key = try form.totp.map(Self.validated)
        let created: User
        switch try await services.serviceAccounts.provision(email: form.email, id: form.user, password: form.password, for: context.apiKey) {
        case .success(let user): created = user
        case .failure(.nameMissing): throw APIError.invalidField("email", "give either email or user (your own id for the account), not both")
        case .failure(.invalidEmail): throw APIError.invalidField("email", "is not an e-mail address such as name@example.com")
        case .failure(.invalidID): throw APIError.invalidField("user", "must be 1 to 128 characters without spaces, control characters or /")
        case .failure(.passwordLength): throw APIError.invalidField("password", "must have \(AccountService.passwordRule)")
        case .failure(.emailTaken):
            throw APIError(
                .conflict,
                "email_taken",
                "An account with that e-mail address already exists. Name the person by your own id instead (\"user\")."
            )
        case .failure(.idTaken): throw APIError(.conflict, "user_taken", "You already have an account with that id.")
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
