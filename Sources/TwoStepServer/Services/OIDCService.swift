import Crypto
import Foundation
import JWTKit
import TwoStepCore
import TwoStepStore

/// The OpenID Connect provider (issue 14, SPEC F13): Authorization Code flow (OpenID Connect Core
/// 1.0 §3.1) with PKCE (RFC 7636), as the OAuth 2.0 Security BCP (RFC 9700) asks. Every rule is
/// here; `OIDCController` only parses and renders.
struct OIDCService: Sendable {
    typealias Storage = OIDCRepository & UserRepository
    let store: any Storage
    let twoFactor: TwoFactorService
    /// The operator's 2FA policy (issue 18): past its grace, no application gets a code for the account.
    let policy: TwoFactorPolicyService
    let keyRing: KeyRing
    /// The issuer (`--public-url`), e.g. `https://auth.example.com`; `nil` turns the provider off.
    let issuer: String?
    let now: Now

    /// RFC 6749 §4.1.2 recommends at most 10 minutes; the client redeems at once, so one is plenty.
    static let codeLifetime: UnixTime = 60
    static let idTokenLifetime: UnixTime = 300
    static let accessTokenLifetime: UnixTime = 600
    /// How long a retired signing key stays published: every token it signed has expired by then.
    static var retiredKeyPublication: UnixTime { max(idTokenLifetime, accessTokenLifetime) + 60 }

    /// `acr` values (OpenID Connect Core §2): a client asks for two factors with `acr_values`.
    static let twoFactorACR = "urn:twostep:acr:2fa"
    static let passwordACR = "urn:twostep:acr:pwd"

    // MARK: Clients

    enum ClientProblem: Error, Equatable {
        case invalidName
        case nameTaken
        /// Not an absolute `https` URI (or `http` on a loopback address, RFC 8252 §7.3), or it has a fragment.
        case invalidRedirectURI(String)
        case noRedirectURI
    }

    struct NewClient: Equatable {
        let client: OIDCClient
        /// Shown once; only its SHA-256 is kept. `nil` for a public client.
        let secret: String?
    }

    func addClient(
        name: String,
        redirectURIs: [String],
        postLogoutRedirectURIs: [String] = [],
        isPublic: Bool,
        twoFactorsRequired: Bool
    ) async throws -> Result<NewClient, ClientProblem> {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            return .failure(.invalidName)
        }
        guard !redirectURIs.isEmpty else { return .failure(.noRedirectURI) }
        for uri in redirectURIs + postLogoutRedirectURIs where !Self.isRegistrableRedirectURI(uri) {
            return .failure(.invalidRedirectURI(uri))
        }
        let secret = isPublic ? nil : "tcs_" + RandomToken.generate()
        let client = OIDCClient(
            clientID: "tsc_" + String(RandomToken.generate().prefix(22)),
            name: name,
            secretHash: secret.map(RandomToken.hash),
            redirectURIs: redirectURIs,
            postLogoutRedirectURIs: postLogoutRedirectURIs,
            twoFactorsRequired: twoFactorsRequired,
            createdAt: now().unixTime
        )
        do {
            try await store.createOIDCClient(client)
        } catch let error as StoreError where error == .duplicate {
            return .failure(.nameTaken)
        }
        return .success(NewClient(client: client, secret: secret))
    }

    /// RFC 9700 §2.1 and RFC 8252 §7.3/§8.3: https, or plain http to the machine itself; no fragment
    /// (RFC 6749 §3.1.2), no user part, nothing a browser would read differently from us.
    static func isRegistrableRedirectURI(_ uri: String) -> Bool {
        guard uri.utf8.count <= 2000, !uri.contains("#"), !uri.contains("\\"),
            uri.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }),
            let components = URLComponents(string: uri), let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil
        else { return false }
        switch components.scheme {
        case "https": return true
        case "http": return ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host)
        default: return false
        }
    }

    // MARK: Authorization endpoint

    /// The parameters of `/oauth2/authorize` (OpenID Connect Core §3.1.2.1).
    struct AuthorizationRequest: Sendable {
        var responseType: String?
        var clientID: String?
        var redirectURI: String?
        var scope: String?
        var state: String?
        var nonce: String?
        var codeChallenge: String?
        var codeChallengeMethod: String?
        var acrValues: String?
        var prompt: String?
    }

    enum AuthorizationDecision: Equatable {
        /// The request cannot be trusted to name its return address (unknown client, unregistered
        /// redirect URI): an error page, never a redirect (RFC 6749 §4.1.2.1, against open redirects).
        case refused(String)
        /// Back to the client: with a code, or with an `error` (RFC 6749 §4.1.2, §4.1.2.1).
        case redirect(String)
        /// Sign in first (or again, with the second factor), then come back to the authorization request.
        case signIn(reason: SignInReason)
        /// The client demands two factors and the account has none: set one up first.
        case enrol
    }

    enum SignInReason: Equatable {
        case notSignedIn
        /// Signed in with the password only, and this client needs the second factor too.
        case secondFactorRequired
    }

    /// Decides an authorization request for the browser's session.
    func authorize(_ request: AuthorizationRequest, session: Session?, user: User?) async throws -> AuthorizationDecision {
        guard let issuer else { return .refused("This server is not set up as an OpenID Connect provider (no --public-url).") }
        guard let clientID = request.clientID, let client = try await store.oidcClient(clientID: clientID) else {
            return .refused("The application that sent you here is not registered with this server.")
        }
        // Exact, whole-string match (RFC 9700 §4.1.3): no trailing-slash, case or query leniency.
        guard let redirectURI = request.redirectURI, client.redirectURIs.contains(redirectURI) else {
            return .refused("The application asked to send you to an address it has not registered.")
        }
        func error(_ code: String, _ description: String) -> AuthorizationDecision {
            .redirect(
                Self.appending(to: redirectURI, [("error", code), ("error_description", description), ("state", request.state), ("iss", issuer)])
            )
        }
        guard request.responseType == "code" else { return error("unsupported_response_type", "only response_type=code is supported") }
        let scopes = Set((request.scope ?? "").split(separator: " ").map(String.init))
        guard scopes.contains("openid") else { return error("invalid_scope", "the scope must include openid") }
        guard (request.state?.utf8.count ?? 0) <= 1024, (request.nonce?.utf8.count ?? 0) <= 1024 else {
            return error("invalid_request", "state and nonce are limited to 1024 bytes")
        }
        if let challenge = request.codeChallenge {
            // `plain` would hand the verifier to whoever reads the authorization request (RFC 7636 §7.2, RFC 9700 §2.1.1).
            guard request.codeChallengeMethod == "S256" else { return error("invalid_request", "code_challenge_method must be S256") }
            guard challenge.utf8.count == 43, challenge.utf8.allSatisfy(Self.isBase64URL) else {
                return error("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)")
            }
        } else if client.isPublic {
            // A public client has no secret: without PKCE an intercepted code would be worth a token.
            return error("invalid_request", "this client must use PKCE (code_challenge with code_challenge_method=S256)")
        } else if request.codeChallengeMethod != nil {
            return error("invalid_request", "code_challenge_method without code_challenge")
        }
        guard let session, session.stage == .signedIn, let user, user.id == session.userID else {
            if request.prompt == "none" { return error("login_required", "the user is not signed in") }
            return .signIn(reason: .notSignedIn)
        }
        // The enrolment gate (issue 18) holds for other applications too: a session that signed in before the
        // deadline passed, or with only a method the operator no longer allows, must not leave through here.
        if try await policy.standing(of: user).isEnrolmentOnly {
            return request.prompt == "none" ? error("interaction_required", "two-factor authentication must be set up first") : .enrol
        }
        let requested = Set((request.acrValues ?? "").split(separator: " ").map(String.init))
        let twoFactorsDemanded = client.twoFactorsRequired || requested.contains(Self.twoFactorACR)
        let hasSecondFactor = session.methods.contains(SignInService.multiFactor)
        if !hasSecondFactor {
            let enabled = try await twoFactor.isEnabled(for: user)
            // After an operator reset the account may do nothing but enrol (EnrolmentGate): no code for it either.
            if !enabled && (twoFactorsDemanded || user.enrolmentRequired) {
                return request.prompt == "none" ? error("interaction_required", "two-factor authentication must be set up first") : .enrol
            }
            if enabled && twoFactorsDemanded {
                if request.prompt == "none" { return error("login_required", "a second factor is required") }
                return .signIn(reason: .secondFactorRequired)
            }
        }
        let code = RandomToken.generate()
        let time = now().unixTime
        try await store.createAuthorizationCode(
            AuthorizationCode(
                codeHash: RandomToken.hash(code),
                clientID: client.clientID,
                userID: user.id,
                redirectURI: redirectURI,
                codeChallenge: request.codeChallenge,
                nonce: request.nonce,
                scope: scopes.sorted().joined(separator: " "),
                amr: session.amr,
                authTime: session.createdAt,
                createdAt: time,
                expiresAt: time + Self.codeLifetime
            )
        )
        // `iss` in the response: RFC 9207, against mix-up attacks.
        return .redirect(Self.appending(to: redirectURI, [("code", code), ("state", request.state), ("iss", issuer)]))
    }

    // MARK: Token endpoint

    /// The parameters of `/oauth2/token` (RFC 6749 §4.1.3) and the client's credentials.
    struct TokenRequest: Sendable {
        var grantType: String?
        var code: String?
        var redirectURI: String?
        var codeVerifier: String?
        var clientID: String?
        var clientSecret: String?
        /// `client_secret_basic`: the `Authorization: Basic` header's client id and secret, if sent.
        var basic: (clientID: String, secret: String)?
    }

    /// An OAuth error answer (RFC 6749 §5.2).
    struct TokenError: Error, Equatable {
        let code: String
        let description: String
        /// `invalid_client` with HTTP authentication answers 401 with `WWW-Authenticate` (RFC 6749 §5.2).
        var unauthorized: Bool { code == "invalid_client" }
    }

    struct Tokens: Sendable, Equatable, Encodable {
        let accessToken: String
        let tokenType = "Bearer"
        let expiresIn: UnixTime
        let idToken: String
        let scope: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
            case idToken = "id_token"
            case scope
        }
    }

    func token(_ request: TokenRequest) async throws -> Result<Tokens, TokenError> {
        guard issuer != nil else { return .failure(TokenError(code: "invalid_request", description: "the provider is off")) }
        let client: OIDCClient
        switch try await authenticateClient(request) {
        case .success(let found): client = found
        case .failure(let error): return .failure(error)
        }
        guard request.grantType == "authorization_code" else {
            return .failure(TokenError(code: "unsupported_grant_type", description: "only authorization_code is supported"))
        }
        guard let presented = request.code, !presented.isEmpty, presented.utf8.count <= 128 else {
            return .failure(TokenError(code: "invalid_request", description: "code is missing"))
        }
        let time = now().unixTime
        // The code is spent before anything else is checked: whatever is wrong with this request,
        // the code has been seen and must not work again (RFC 6749 §10.5).
        let code: AuthorizationCode
        switch try await store.redeemAuthorizationCode(hash: RandomToken.hash(presented), at: time) {
        case .unknown:
            return .failure(TokenError(code: "invalid_grant", description: "the code is not valid"))
        case .reused:
            return .failure(TokenError(code: "invalid_grant", description: "the code was used already; the tokens it issued are revoked"))
        case .redeemed(let redeemed):
            code = redeemed
        }
        guard code.clientID == client.clientID else {
            return .failure(TokenError(code: "invalid_grant", description: "the code was issued to another client"))
        }
        guard time < code.expiresAt else { return .failure(TokenError(code: "invalid_grant", description: "the code has expired")) }
        guard request.redirectURI == code.redirectURI else {
            return .failure(TokenError(code: "invalid_grant", description: "redirect_uri differs from the authorization request's"))
        }
        switch (code.codeChallenge, request.codeVerifier) {
        case (nil, nil):
            break
        case (let challenge?, let verifier?):
            guard (43...128).contains(verifier.utf8.count), verifier.utf8.allSatisfy(Self.isVerifierCharacter),
                ConstantTime.equals(Self.s256(verifier), challenge)
            else { return .failure(TokenError(code: "invalid_grant", description: "code_verifier does not match the code_challenge")) }
        case (nil, _?):
            // A verifier for a code issued without a challenge: a PKCE downgrade (RFC 9700 §2.1.1).
            return .failure(TokenError(code: "invalid_grant", description: "the authorization request had no code_challenge"))
        case (_?, nil):
            return .failure(TokenError(code: "invalid_grant", description: "code_verifier is missing"))
        }
        guard let user = try await store.user(id: code.userID) else {
            return .failure(TokenError(code: "invalid_grant", description: "the account no longer exists"))
        }
        let accessToken = RandomToken.generate()
        try await store.createAccessToken(hash: RandomToken.hash(accessToken), codeHash: code.codeHash, expiresAt: time + Self.accessTokenLifetime)
        let idToken = try await signIDToken(for: user, code: code, at: time)
        return .success(Tokens(accessToken: accessToken, expiresIn: Self.accessTokenLifetime, idToken: idToken, scope: code.scope))
    }

    /// `client_secret_basic`, `client_secret_post`, or `none` for a public client (OpenID Connect Core §9).
    private func authenticateClient(_ request: TokenRequest) async throws -> Result<OIDCClient, TokenError> {
        let invalid = TokenError(code: "invalid_client", description: "client authentication failed")
        if request.basic != nil && request.clientSecret != nil {
            // RFC 6749 §2.3: a client MUST NOT use more than one method in a request.
            return .failure(TokenError(code: "invalid_request", description: "use one client authentication method"))
        }
        let clientID = request.basic?.clientID ?? request.clientID
        let secret = request.basic?.secret ?? request.clientSecret
        if let basic = request.basic, let formID = request.clientID, formID != basic.clientID { return .failure(invalid) }
        guard let clientID, let client = try await store.oidcClient(clientID: clientID) else { return .failure(invalid) }
        switch (client.secretHash, secret) {
        case (nil, nil):
            return .success(client)
        case (let hash?, let secret?) where ConstantTime.equals(RandomToken.hash(secret), hash):
            return .success(client)
        default:
            // A public client presenting a secret, a confidential one without, or a wrong one.
            return .failure(invalid)
        }
    }

    // MARK: ID tokens and signing keys

    /// The ID token's claims (OpenID Connect Core §2, RFC 8176 for `amr`).
    struct IDToken: JWTPayload, Equatable {
        var iss: String
        var sub: String
        var aud: String
        var azp: String
        var exp: UnixTime
        var iat: UnixTime
        var authTime: UnixTime
        var nonce: String?
        var amr: [String]
        var acr: String
        var email: String?
        var emailVerified: Bool?

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, azp, exp, iat, nonce, amr, acr, email
            case authTime = "auth_time"
            case emailVerified = "email_verified"
        }

        /// Only the signature and issuer: an `id_token_hint` at logout may have expired (RP-Initiated Logout §2).
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// `sub` is the account's id: stable across address changes, and not the address (issue 14).
    static func subject(_ userID: Int64) -> String { String(userID) }

    private func signIDToken(for user: User, code: AuthorizationCode, at time: UnixTime) async throws -> String {
        let methods = code.amr.split(separator: " ").map(String.init)
        let withEmail = code.scope.split(separator: " ").contains("email") && user.email != nil
        let claims = IDToken(
            iss: issuer ?? "",
            sub: Self.subject(user.id),
            aud: code.clientID,
            azp: code.clientID,
            exp: time + Self.idTokenLifetime,
            iat: time,
            authTime: code.authTime,
            nonce: code.nonce,
            amr: methods,
            acr: methods.contains(SignInService.multiFactor) ? Self.twoFactorACR : Self.passwordACR,
            email: withEmail ? user.email : nil,
            // True only once the account holder used the link sent to the address (EmailService).
            emailVerified: withEmail ? user.emailVerifiedAt != nil : nil
        )
        let (kid, key) = try await activeSigningKey()
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: try ES256PrivateKey(backing: key), kid: JWKIdentifier(string: kid))
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// Verifies a token this provider signed (any published key), without checking its age.
    func verifiedIDToken(_ token: String) async throws -> IDToken? {
        let keys = JWTKeyCollection()
        for stored in try await publishedKeys() {
            await keys.add(ecdsa: try ES256PublicKey(backing: try privateKey(stored).publicKey), kid: JWKIdentifier(string: stored.kid))
        }
        guard let claims = try? await keys.verify(token, as: IDToken.self), claims.iss == issuer else { return nil }
        return claims
    }

    static func sealContext(_ kid: String) -> String { "oidc-signing-key:\(kid)" }

    private func privateKey(_ stored: StoredSigningKey) throws -> P256.Signing.PrivateKey {
        try P256.Signing.PrivateKey(rawRepresentation: keyRing.open(stored.sealedKey, context: Self.sealContext(stored.kid)))
    }

    /// The newest live key, made (and stored sealed) on first use.
    private func activeSigningKey() async throws -> (String, P256.Signing.PrivateKey) {
        if let live = try await store.signingKeys().first(where: { $0.retiredAt == nil }) { return (live.kid, try privateKey(live)) }
        try await makeSigningKey()
        guard let live = try await store.signingKeys().first(where: { $0.retiredAt == nil }) else { throw SigningKeyMissing() }
        return (live.kid, try privateKey(live))
    }

    struct SigningKeyMissing: Error {}

    @discardableResult
    private func makeSigningKey() async throws -> String {
        let key = P256.Signing.PrivateKey()
        let kid = SecureRandom.bytes(8).map { String($0 >> 4, radix: 16) + String($0 & 0x0F, radix: 16) }.joined()
        try await store.createSigningKey(
            StoredSigningKey(
                kid: kid,
                sealedKey: keyRing.seal(key.rawRepresentation, context: Self.sealContext(kid)),
                createdAt: now().unixTime,
                retiredAt: nil
            )
        )
        return kid
    }

    /// `twostep keys rotate`: a new signing key; the old ones are retired but stay published until
    /// every token they signed has expired, so relying parties keep validating them.
    /// - Returns: The new key's id.
    func rotateSigningKey() async throws -> String {
        let time = now().unixTime
        let kid = try await makeSigningKey()
        try await store.retireSigningKeys(except: kid, at: time)
        try await store.deleteSigningKeys(retiredBefore: time - Self.retiredKeyPublication)
        return kid
    }

    /// The live key and those retired recently enough that tokens they signed may still be in use.
    private func publishedKeys() async throws -> [StoredSigningKey] {
        let time = now().unixTime
        return try await store.signingKeys().filter { ($0.retiredAt ?? .max) > time - Self.retiredKeyPublication }
    }

    /// The JWK Set (RFC 7517) of the published keys.
    func jwks() async throws -> JWKSet {
        if try await store.signingKeys().allSatisfy({ $0.retiredAt != nil }) { _ = try await activeSigningKey() }
        return JWKSet(
            keys: try await publishedKeys().map { stored in
                let raw = Array(try privateKey(stored).publicKey.rawRepresentation)
                return JWKSet.Key(kid: stored.kid, x: Self.base64URL(raw[0..<32]), y: Self.base64URL(raw[32..<64]))
            }
        )
    }

    struct JWKSet: Encodable, Equatable {
        struct Key: Encodable, Equatable {
            let kty = "EC"
            let crv = "P-256"
            let use = "sig"
            let alg = "ES256"
            let kid: String
            let x: String
            let y: String
        }
        let keys: [Key]
    }

    // MARK: UserInfo

    enum UserInfoResult: Equatable {
        case claims(UserInfo)
        /// A missing, unknown, expired or revoked token (RFC 6750 §3.1 `invalid_token`).
        case invalidToken
    }

    struct UserInfo: Encodable, Equatable {
        let sub: String
        let email: String?
        let emailVerified: Bool?

        enum CodingKeys: String, CodingKey {
            case sub, email
            case emailVerified = "email_verified"
        }
    }

    func userInfo(accessToken: String?) async throws -> UserInfoResult {
        guard let accessToken, !accessToken.isEmpty, accessToken.utf8.count <= 128,
            let grant = try await store.accessToken(hash: RandomToken.hash(accessToken), at: now().unixTime),
            let user = try await store.user(id: grant.userID)
        else { return .invalidToken }
        let withEmail = grant.scope.split(separator: " ").contains("email") && user.email != nil
        return .claims(
            UserInfo(sub: Self.subject(user.id), email: withEmail ? user.email : nil, emailVerified: withEmail ? user.emailVerifiedAt != nil : nil)
        )
    }

    // MARK: RP-initiated logout

    enum LogoutDecision: Equatable {
        /// Sign out, then go to `redirect` (a registered post-logout URI, with `state`) or TwoStep's own page.
        case signOut(redirect: String?)
        /// The request does not prove which application sent it: ask the person before signing out
        /// (RP-Initiated Logout 1.0 §2), then go to `redirect` if it was registered.
        case confirm(redirect: String?)
    }

    /// OpenID Connect RP-Initiated Logout 1.0: a return address is honoured only when registered
    /// for the client the `id_token_hint` (or `client_id`) names; a valid hint of the signed-in
    /// account signs out at once.
    func logout(
        idTokenHint: String?,
        clientID: String?,
        postLogoutRedirectURI: String?,
        state: String?,
        session: Session?
    ) async throws
        -> LogoutDecision
    {
        let hint = try await idTokenHint.asyncMap { try await verifiedIDToken($0) } ?? nil
        var redirect: String?
        if let uri = postLogoutRedirectURI, let id = hint?.aud ?? clientID, hint == nil || clientID == nil || clientID == hint?.aud,
            let client = try await store.oidcClient(clientID: id), client.postLogoutRedirectURIs.contains(uri)
        {
            redirect = Self.appending(to: uri, [("state", state)])
        }
        if let hint, session == nil || session.map({ Self.subject($0.userID) }) == hint.sub { return .signOut(redirect: redirect) }
        return .confirm(redirect: redirect)
    }

    // MARK: Discovery

    /// OpenID Connect Discovery 1.0 §3.
    func discovery() -> [String: DiscoveryValue]? {
        guard let issuer else { return nil }
        return [
            "issuer": .text(issuer),
            "authorization_endpoint": .text(issuer + "/oauth2/authorize"),
            "token_endpoint": .text(issuer + "/oauth2/token"),
            "userinfo_endpoint": .text(issuer + "/oauth2/userinfo"),
            "jwks_uri": .text(issuer + "/oauth2/jwks"),
            "end_session_endpoint": .text(issuer + "/oauth2/logout"),
            "response_types_supported": .list(["code"]),
            "response_modes_supported": .list(["query"]),
            "grant_types_supported": .list(["authorization_code"]),
            "subject_types_supported": .list(["public"]),
            "id_token_signing_alg_values_supported": .list(["ES256"]),
            "scopes_supported": .list(["openid", "email"]),
            "claims_supported": .list(["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "email", "email_verified", "azp"]),
            "token_endpoint_auth_methods_supported": .list(["client_secret_basic", "client_secret_post", "none"]),
            "code_challenge_methods_supported": .list(["S256"]),
            "acr_values_supported": .list([Self.passwordACR, Self.twoFactorACR]),
            "prompt_values_supported": .list(["none"]),
            "authorization_response_iss_parameter_supported": .flag(true),
            "claims_parameter_supported": .flag(false),
            "request_parameter_supported": .flag(false),
        ]
    }

    enum DiscoveryValue: Encodable, Equatable {
        case text(String)
        case list([String])
        case flag(Bool)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let value): try container.encode(value)
            case .list(let value): try container.encode(value)
            case .flag(let value): try container.encode(value)
            }
        }
    }

    // MARK: Helpers

    /// Adds query parameters to a registered URI (which may have a query of its own, RFC 6749 §3.1.2).
    static func appending(to uri: String, _ parameters: [(String, String?)]) -> String {
        let query = parameters.compactMap { name, value in value.map { "\(name)=\(formEncode($0))" } }.joined(separator: "&")
        guard !query.isEmpty else { return uri }
        return uri + (uri.contains("?") ? "&" : "?") + query
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func s256(_ verifier: String) -> String { base64URL(Array(SHA256.hash(data: Array(verifier.utf8)))) }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URL(_ bytes: ArraySlice<UInt8>) -> String { base64URL(Array(bytes)) }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// RFC 7636 §4.1: `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
    private static func isVerifierCharacter(_ byte: UInt8) -> Bool {
        isBase64URL(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
