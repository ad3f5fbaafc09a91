import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TwoStepStore

/// The OpenID Connect provider's endpoints (issue 14). Every rule is in `OIDCService`; this parses
/// requests and renders its answers.
struct OIDCController: Sendable {
    let oidc: OIDCService
    let sessions: SessionService
    let pages: Pages
    let cookies: CookieNames
    let continuation: SignInContinuation

    /// Endpoints the relying party's server calls: no cookies, no CSRF form field.
    func addRoutes(backChannel router: RouterGroup<TwoStepRequestContext>) {
        router.get("/.well-known/openid-configuration") { _, _ in
            guard let document = oidc.discovery() else { throw HTTPError(.notFound) }
            return try Self.json(document)
        }
        router.get("/oauth2/jwks") { _, _ in
            guard oidc.issuer != nil else { throw HTTPError(.notFound) }
            return try Self.json(try await oidc.jwks())
        }
        router.post("/oauth2/token", use: token)
        router.get("/oauth2/userinfo", use: userInfo)
        router.post("/oauth2/userinfo", use: userInfo)
    }

    /// Endpoints the browser visits, with its TwoStep session.
    func addRoutes(browser router: RouterGroup<TwoStepRequestContext>) {
        router.get("/oauth2/authorize", use: authorize)
        router.get("/oauth2/logout", use: logout)
        router.post("/oauth2/logout", use: logout)
    }

    private func authorize(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let query = Self.formQuery(request.uri.query)
        func value(_ name: String) -> String? { query[name] }
        let parameters = OIDCService.AuthorizationRequest(
            responseType: value("response_type"),
            clientID: value("client_id"),
            redirectURI: value("redirect_uri"),
            scope: value("scope"),
            state: value("state"),
            nonce: value("nonce"),
            codeChallenge: value("code_challenge"),
            codeChallengeMethod: value("code_challenge_method"),
            acrValues: value("acr_values"),
            prompt: value("prompt")
        )
        // This very request, to come back to once the browser has signed in.
        let here = "/oauth2/authorize?" + (request.uri.query ?? "")
        switch try await oidc.authorize(parameters, session: context.session, user: context.user) {
        case .refused(let message):
            let page = MessagePage(
                frame: PageFrame(title: "Sign-in refused", csrf: context.csrfToken),
                heading: "This sign-in cannot go on",
                message: message
            )
            return pages.render(page, status: .badRequest)
        case .redirect(let location):
            return Response.redirect(to: location, type: .found)
        case .signIn:
            return Response.redirect(to: "/signin?rd=" + OIDCService.formEncode(here), type: .normal)
        case .enrol:
            var response = Response.redirect(to: "/profile/two-factor/enable", type: .normal)
            continuation.remember(here, in: &response)
            return response
        }
    }

    private struct TokenForm: Decodable {
        let grant_type: String?
        let code: String?
        let redirect_uri: String?
        let code_verifier: String?
        let client_id: String?
        let client_secret: String?
    }

    private func token(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let form: TokenForm
        do {
            form = try await URLEncodedFormDecoder().decode(TokenForm.self, from: request, context: context)
        } catch {
            return try tokenError(.init(code: "invalid_request", description: "the body must be application/x-www-form-urlencoded"))
        }
        var basic: (String, String)?
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            guard let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { return try tokenError(.init(code: "invalid_client", description: "malformed Basic credentials")) }
            // RFC 6749 §2.3.1: both halves are form-encoded before they are joined.
            func decode(_ part: Substring) -> String { String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part) }
            basic = (decode(text[..<colon]), decode(text[text.index(after: colon)...]))
        }
        let result = try await oidc.token(
            OIDCService.TokenRequest(
                grantType: form.grant_type,
                code: form.code,
                redirectURI: form.redirect_uri,
                codeVerifier: form.code_verifier,
                clientID: form.client_id,
                clientSecret: form.client_secret,
                basic: basic.map { (clientID: $0.0, secret: $0.1) }
            )
        )
        switch result {
        case .success(let tokens): return try Self.json(tokens)
        case .failure(let error): return try tokenError(error)
        }
    }

    private func tokenError(_ error: OIDCService.TokenError) throws -> Response {
        var response = try Self.json(
            ["error": error.code, "error_description": error.description],
            status: error.unauthorized ? .unauthorized : .badRequest
        )
        if error.unauthorized { response.headers[.wwwAuthenticate] = "Basic realm=\"TwoStep\"" }
        return response
    }

    private func userInfo(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let token = header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        switch try await oidc.userInfo(accessToken: token) {
        case .claims(let claims):
            return try Self.json(claims)
        case .invalidToken:
            // RFC 6750 §3.1.
            var response = try Self.json(["error": "invalid_token"], status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            return response
        }
    }

    private struct LogoutForm: Decodable {
        let id_token_hint: String?
        let client_id: String?
        let post_logout_redirect_uri: String?
        let state: String?
        let csrf_token: String?
    }

    private func logout(_ request: Request, context: TwoStepRequestContext) async throws -> Response {
        let parameters: LogoutForm
        if request.method == .post {
            parameters = try await request.decodeForm(as: LogoutForm.self, context: context)
        } else {
            let query = Self.formQuery(request.uri.query)
            func value(_ name: String) -> String? { query[name] }
            parameters = LogoutForm(
                id_token_hint: value("id_token_hint"),
                client_id: value("client_id"),
                post_logout_redirect_uri: value("post_logout_redirect_uri"),
                state: value("state"),
                csrf_token: nil
            )
        }
        let decision = try await oidc.logout(
            idTokenHint: parameters.id_token_hint,
            clientID: parameters.client_id,
            postLogoutRedirectURI: parameters.post_logout_redirect_uri,
            state: parameters.state,
            session: context.session
        )
        // A POST carried the CSRF token (the middleware checked it): the person clicked Sign out here.
        let confirmed = request.method == .post
        switch decision {
        case .confirm where !confirmed && context.session != nil:
            let page = SignOutConfirmPage(
                frame: PageFrame(title: "Sign out", csrf: context.csrfToken),
                redirectURI: parameters.post_logout_redirect_uri,
                clientID: parameters.client_id,
                state: parameters.state
            )
            return pages.render(page)
        case .confirm(let redirect), .signOut(let redirect):
            if let session = context.session { try await sessions.end(session) }
            var response = Response.redirect(to: redirect ?? "/signin?done=signed-out", type: .normal)
            response.setCookie(cookies.expired(cookies.session))
            return response
        }
    }

    /// The query as `application/x-www-form-urlencoded` (RFC 6749 Appendix B): `+` is a space, as
    /// OAuth clients send `scope=openid+email`. A parameter given twice is refused as absent (RFC 6749 §3.1).
    static func formQuery(_ query: String?) -> [String: String] {
        var values: [String: String] = [:]
        var repeated: Set<String> = []
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { continue }
            if values[name] != nil { repeated.insert(name) }
            values[name] = value
        }
        for name in repeated { values[name] = nil }
        return values
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }
}
