import Foundation
import HTTPTypes
import Hummingbird
import TwoStepCore
import TwoStepStore

/// Signing up, signing in (password, then a second factor) and signing out over JSON (SPEC F1, F2, §3):
/// the same sessions and rules as the pages, with the session id as a bearer token.
struct SessionAPIController: Sendable {
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
        // "Sign out everywhere" (SPEC F14): this token, every other one, and every browser session.
        account.on(.delete, "/sessions") { _, context in
            try await services.accounts.signOutEverywhere(user: context.user)
            return API.noContent()
        }
    }

    private struct Credentials: Decodable {
        let email: String
        let password: String
        let deviceToken: String?
    }

    private struct SessionBody: Encodable {
        var status: String
        var token: String?
        var challenge: String?
        var methods: [String]?
        var expiresAt: Date?
        var method: String?
        var deviceToken: String?
        var recoveryCodesRemaining: Int?
        /// With `enrolment_required` (issue 18): why, and the end of the grace period, until which the
        /// token reaches everything; without a deadline it reaches only enrolment (`EnrolmentGate`).
        var enrolmentReason: String?
        var enrolmentDeadline: Date?

        mutating func ask(_ demand: SignInService.EnrolmentDemand?) {
            guard let demand else { return }
            status = "enrolment_required"
            enrolmentReason = API.name(of: demand.reason)
            enrolmentDeadline = demand.deadline
        }
    }

    private func signUp(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: Credentials.self, context: context)
        switch try await services.email.signUp(email: form.email, password: form.password) {
        case .success(let user):
            let token = try await sessions.start(userID: user.id, stage: .signedIn, userAgent: request.headers[.userAgent] ?? "", replacing: nil)
            return try API.json(SessionBody(status: "authenticated", token: token), status: .created)
        case .failure(.invalidEmail): throw APIError.invalidField("email", "is not an e-mail address such as name@example.com")
        case .failure(.passwordLength): throw APIError.invalidField("password", "must have \(AccountService.passwordRule)")
        case .failure(.emailTaken): throw APIError(.conflict, "email_taken", "An account with that e-mail address already exists.")
        case .failure(.closed): throw APIError.signUpClosed
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
        case .tooManyAttempts(let retryAt):
            throw APIError.tooManyPasswordAttempts(retryAt: retryAt, now: now)
        case .signedIn(_, let token):
            return try API.json(SessionBody(status: "authenticated", token: token))
        case .enrolmentRequired(_, let token, let demand):
            // Past any grace, the token only reaches enrolment until a method is on (EnrolmentGate).
            var body = SessionBody(status: "enrolment_required", token: token)
            body.ask(demand)
            return try API.json(body)
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
        let status = try await twoFactor.status(of: user)
        let kinds = status.kinds.map(API.name(of:))
        // POST /session/webauthn/options, then /session/webauthn (issue 17).
        let keys = status.securityKeys > 0 ? ["security_key"] : []
        let recoveryCodes = try await services.recoveryCodes.status(of: user).remaining > 0 ? ["recovery_code"] : []
        return kinds + keys + recoveryCodes
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
        let recoveryPhone = try API.phoneTarget(form.to)
        guard let result = try await twoFactor.sendSignInCode(to: user, recoveryPhone: recoveryPhone) else {
            throw APIError(.conflict, "no_phone", recoveryPhone ? "This account has no recovery phone number." : "This account does not use SMS.")
        }
        return try API.sent(result, limits: twoFactor.smsCodes.limits, now: now)
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
        case .signedIn(let token, let method, let deviceToken, let demand):
            var body = SessionBody(status: "authenticated", token: token, method: API.name(of: method), deviceToken: deviceToken)
            if case .recoveryCode(let remaining) = method { body.recoveryCodesRemaining = remaining }
            body.ask(demand)
            return try API.json(body)
        case .refused(let verification):
            throw API.refusal(verification, now: now)
        }
    }
}
