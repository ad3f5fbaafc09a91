import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TwoStepCore
import TwoStepStore

/// Security keys and passkeys over JSON (issue 17): adding, listing, renaming and removing keys with
/// a session token; the second step of a sign-in with a key; passkey sign-in. Options are answered as
/// `{"public_key": <options>}`, the options in WebAuthn L3's JSON form, ready for
/// `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`; a finished
/// ceremony sends `credential.toJSON()` as `credential`.
struct WebAuthnAPIController: Sendable {
    let services: Services
    private var keys: WebAuthnService { services.webAuthn }
    private var now: Date { services.accounts.now() }

    func addRoutes(public routes: APIRoutes<TwoStepRequestContext>, account: APIRoutes<AccountAPIContext>) {
        account.on(.post, "/account/webauthn/registration/options", use: registrationOptions)
        account.on(.post, "/account/webauthn/registration", use: register)
        account.on(.get, "/account/webauthn/credentials") { _, context in
            try API.json(KeysBody(credentials: try await keys.credentials(of: context.user).map(KeyBody.init)))
        }
        account.on(.patch, "/account/webauthn/credentials/:id", use: rename)
        account.on(.delete, "/account/webauthn/credentials/:id", use: remove)
        routes.on(.post, "/session/webauthn/options", use: secondFactorOptions)
        routes.on(.post, "/session/webauthn", use: completeSecondFactor)
        routes.on(.post, "/session/passkey/options", use: passkeyOptions)
        routes.on(.post, "/session/passkey", use: passkeySignIn)
    }

    // MARK: Keys of the account

    private struct OptionsForm: Decodable {
        let passkey: Bool?
    }

    private func registrationOptions(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: OptionsForm.self, context: context)
        switch try await keys.registrationOptions(user: context.user, session: context.session, passkey: form.passkey ?? false) {
        case .options(let options): return Self.options(options)
        case .reauthenticationRequired: throw APIError.reauthenticationRequired
        case .methodNotAllowed: throw API.methodNotAllowed
        }
    }

    private struct RegistrationForm: Decodable {
        let name: String
        let credential: WebAuthnService.RegistrationResponse
        let trustDevice: Bool?
    }

    private struct RegisteredBody: Encodable {
        let credential: KeyBody
        /// Two-factor authentication is on (it may just have been turned on by this key).
        let enabled: Bool
        /// This key was the account's first method: recovery codes are worth generating now.
        let turnedOn: Bool
        let deviceToken: String?
    }

    private func register(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let form = try await request.decodeJSON(as: RegistrationForm.self, context: context)
        let result = try await keys.finishRegistration(
            user: context.user,
            session: context.session,
            name: form.name,
            response: form.credential,
            trustDevice: form.trustDevice ?? false
        )
        switch result {
        case .registered(let credential, let turnedOn, let deviceToken):
            return try API.json(
                RegisteredBody(credential: KeyBody(credential), enabled: true, turnedOn: turnedOn, deviceToken: deviceToken),
                status: .created
            )
        case .invalidName(let why): throw APIError.invalidField("name", why)
        case .malformed(let why): throw Self.malformed(why)
        case .challengeInvalid: throw Self.noChallenge
        case .refused(let error): throw APIError(.badRequest, "webauthn_refused", "The security key's answer was refused: \(error).")
        case .alreadyRegistered: throw APIError(.conflict, "key_registered", "This security key is registered already.")
        case .methodNotAllowed: throw API.methodNotAllowed
        }
    }

    private struct NameForm: Decodable {
        let name: String
    }

    private func rename(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let id = try Self.keyID(context)
        let form = try await request.decodeJSON(as: NameForm.self, context: context)
        switch try await keys.rename(credentialID: id, user: context.user, name: form.name) {
        case .renamed:
            guard let key = try await keys.credentials(of: context.user).first(where: { $0.id == id }) else { throw Self.noSuchKey }
            return try API.json(KeyBody(key))
        case .invalidName(let why): throw APIError.invalidField("name", why)
        case .notFound: throw Self.noSuchKey
        }
    }

    private func remove(_ request: Request, context: AccountAPIContext) async throws -> Response {
        let id = try Self.keyID(context)
        switch try await keys.remove(credentialID: id, user: context.user, session: context.session) {
        case .removed: return API.noContent()
        case .reauthenticationRequired: throw APIError.reauthenticationRequired
        case .notFound: throw Self.noSuchKey
        case .lastMethod:
            throw APIError(
                .conflict,
                "last_method",
                "This is the account's only second factor: add another first, or turn two-factor authentication off (POST /api/v1/account/two-factor/disable)."
            )
        }
    }

    // MARK: Signing in

    private struct ChallengeForm: Decodable {
        let challenge: String
    }

    private func secondFactorOptions(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: ChallengeForm.self, context: context)
        let (session, user) = try await halfWaySession(form.challenge)
        guard let options = try await keys.authenticationOptions(user: user, session: session) else {
            throw APIError(.conflict, "no_security_key", "This account has no security key.")
        }
        return Self.options(options)
    }

    private struct KeyForm: Decodable {
        let challenge: String
        let credential: WebAuthnService.AuthenticationResponse
        let trustDevice: Bool?
    }

    private struct SignedInBody: Encodable {
        var status = "authenticated"
        let token: String
        let method: String
        var deviceToken: String?
        /// The 2FA policy asks the account to switch to a method it allows (issue 18), as `POST /session/second-factor` says it.
        var enrolmentReason: String?
        var enrolmentDeadline: Date?
    }

    private func completeSecondFactor(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: KeyForm.self, context: context)
        let (session, user) = try await halfWaySession(form.challenge)
        let outcome = try await services.signIns.completeSecondFactorWithKey(
            session: session,
            user: user,
            response: form.credential,
            trustDevice: form.trustDevice ?? false,
            userAgent: request.headers[.userAgent] ?? ""
        )
        switch outcome {
        case .signedIn(let token, let method, let deviceToken, let demand):
            var body = SignedInBody(token: token, method: API.name(of: method), deviceToken: deviceToken)
            if let demand {
                (body.status, body.enrolmentReason, body.enrolmentDeadline) = ("enrolment_required", API.name(of: demand.reason), demand.deadline)
            }
            return try API.json(body)
        case .malformed(let why): throw Self.malformed(why)
        case .refused(let verification): throw Self.refusal(verification, now: now)
        }
    }

    private func passkeyOptions(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        // No cookie here: the browser's secret the challenge is bound to is handed out with the
        // options and must come back with the answer (WebAuthnService.Binding).
        let ceremony = RandomToken.generate()
        let options = try await keys.passkeyOptions(browserSecret: ceremony)
        return Self.options(options, ceremony: ceremony)
    }

    private struct PasskeyForm: Decodable {
        let ceremony: String
        let credential: WebAuthnService.AuthenticationResponse
    }

    private func passkeySignIn(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form = try await request.decodeJSON(as: PasskeyForm.self, context: context)
        guard !form.ceremony.isEmpty, form.ceremony.utf8.count <= 64 else { throw Self.noChallenge }
        let outcome = try await services.signIns.signInWithPasskey(
            binding: .browser(secret: form.ceremony),
            response: form.credential,
            userAgent: request.headers[.userAgent] ?? "",
            replacing: nil
        )
        switch outcome {
        case .signedIn(_, let token): return try API.json(SignedInBody(token: token, method: "passkey"))
        case .malformed(let why): throw Self.malformed(why)
        case .refused(let verification): throw Self.refusal(verification, now: now)
        }
    }

    // MARK: Parts

    /// The half-way session a sign-in challenge names (as `/session/second-factor` reads it).
    private func halfWaySession(_ token: String) async throws -> (Session, User) {
        guard !token.isEmpty, token.count <= 64, let session = try await services.sessions.resolve(token), session.stage == .awaitingSecondFactor,
            let user = try await services.accounts.user(id: session.userID)
        else {
            throw APIError(.unauthorized, "invalid_challenge", "The challenge is unknown or expired. Sign in with the password again.")
        }
        return (session, user)
    }

    /// `{"public_key": options}` (and the passkey ceremony's token): the options as the service wrote them.
    private static func options(_ options: String, ceremony: String? = nil) -> Response {
        let prefix = ceremony.map { #"{"ceremony":""# + $0 + #"","public_key":"# } ?? #"{"public_key":"#
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: prefix + options + "}"))
        )
    }

    /// A refused key as an API error: 401 refused, 429 with `Retry-After` while waiting, 403 when locked.
    private static func refusal(_ verification: TwoFactorService.Verification, now: Date) -> APIError {
        if case .rejected(nil) = verification {
            return APIError(.unauthorized, "webauthn_refused", "The security key's answer was refused, or the ceremony expired: ask for new options.")
        }
        return API.refusal(verification, now: now)
    }

    private static func malformed(_ why: String) -> APIError {
        APIError(.badRequest, "invalid_credential", "The credential is not a WebAuthn response: \(why).")
    }

    private static let noChallenge = APIError(
        .badRequest,
        "invalid_ceremony",
        "No such ceremony: the options were never asked for here, were used already or are older than 5 minutes. Ask for new options."
    )

    private static let noSuchKey = APIError(.notFound, "no_such_key", "This account has no security key with that id.")

    private static func keyID(_ context: AccountAPIContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw noSuchKey }
        return id
    }

    private struct KeysBody: Encodable {
        let credentials: [KeyBody]
    }

    struct KeyBody: Encodable {
        let id: Int64
        let name: String
        let passkey: Bool
        let createdAt: Date
        let lastUsedAt: Date?
        let transports: [String]
        /// `ES256`, `EdDSA` or `RS256`.
        let algorithm: String

        init(_ key: WebAuthnCredential) {
            id = key.id
            name = key.name
            passkey = key.isPasskey
            createdAt = Date(unixTime: key.createdAt)
            lastUsedAt = key.lastUsedAt.map(Date.init(unixTime:))
            transports = key.transports.split(separator: ",").map(String.init)
            algorithm =
                switch COSEAlgorithm(rawValue: key.algorithm) {
                case .es256: "ES256"
                case .edDSA: "EdDSA"
                case .rs256: "RS256"
                case nil: "\(key.algorithm)"
                }
        }
    }
}
