import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// The OpenID Connect provider (issue 14): each rule, and each refusal performed as an attack.
@Suite("OpenID Connect provider")
struct OIDCTests {
    static let issuer = "https://auth.example.com"
    static let redirectURI = "https://app.example.com/callback"

    static func makeServer(_ adjust: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await TestServer.make { configuration in
            configuration.publicURL = issuer
            adjust(&configuration)
        }
    }

    /// A relying party registered on the server, speaking to it through the test client.
    struct RelyingParty {
        let client: OIDCClient
        let secret: String?
        let verifier = "verifier-" + RandomToken.generate()

        static func register(
            _ server: TestServer,
            name: String = "portal",
            isPublic: Bool = true,
            twoFactors: Bool = false,
            postLogout: [String] = [],
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> RelyingParty {
            let result = try await server.services.oidc.addClient(
                name: name,
                redirectURIs: [OIDCTests.redirectURI],
                postLogoutRedirectURIs: postLogout,
                isPublic: isPublic,
                twoFactorsRequired: twoFactors
            )
            let new = try #require(try? result.get(), "\(result)", sourceLocation: sourceLocation)
            return RelyingParty(client: new.client, secret: new.secret)
        }

        var challenge: String { OIDCService.s256(verifier) }

        func authorizePath(
            redirectURI: String = OIDCTests.redirectURI,
            pkce: Bool = true,
            method: String = "S256",
            extra: [String: String] = [:]
        ) -> String {
            var parameters = [
                "response_type": "code", "client_id": client.clientID, "redirect_uri": redirectURI, "scope": "openid email",
                "state": "st-123", "nonce": "n-456",
            ]
            if pkce { (parameters["code_challenge"], parameters["code_challenge_method"]) = (challenge, method) }
            parameters.merge(extra) { $1 }
            return "/oauth2/authorize?"
                + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(OIDCService.formEncode($0.value))" }.joined(separator: "&")
        }

        /// Authorizes in the browser's session and returns the code from the redirect.
        func code(_ browser: Browser, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
            let page = try await browser.get(authorizePath())
            let location = try #require(page.location, "\(page.status) \(page.text.prefix(300))", sourceLocation: sourceLocation)
            #expect(location.hasPrefix(OIDCTests.redirectURI + "?"), "\(location)", sourceLocation: sourceLocation)
            let query = OIDCTests.query(location)
            #expect(query["state"] == "st-123", sourceLocation: sourceLocation)
            #expect(query["iss"] == OIDCTests.issuer, "RFC 9207", sourceLocation: sourceLocation)
            return try #require(query["code"], sourceLocation: sourceLocation)
        }

        /// `POST /oauth2/token`; `basic` sends the secret in the header, else in the form.
        func redeem(
            _ code: String,
            on client: any TestClientProtocol,
            verifier: String? = nil,
            redirectURI: String = OIDCTests.redirectURI,
            basic: Bool = true,
            secret: String? = nil
        ) async throws -> TestResponse {
            var form = ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": verifier ?? self.verifier]
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            if let secret = secret ?? self.secret {
                if basic {
                    headers[.authorization] = "Basic " + Data("\(self.client.clientID):\(secret)".utf8).base64EncodedString()
                } else {
                    (form["client_id"], form["client_secret"]) = (self.client.clientID, secret)
                }
            } else {
                form["client_id"] = self.client.clientID
            }
            let body = form.map { "\($0.key)=\(OIDCService.formEncode($0.value))" }.joined(separator: "&")
            return try await client.executeRequest(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: body))
        }
    }

    static func query(_ location: String) -> [String: String] {
        let items = URLComponents(string: location)?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any] ?? [:]
    }

    /// An account with the authenticator app, signed in with password and code: a two-factor session.
    static func signedInWithApp(
        _ browser: Browser,
        _ server: TestServer,
        email: String = "alice@example.com",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TOTP {
        try await browser.signUp(email, sourceLocation: sourceLocation)
        let totp = try await browser.enableApp(at: server.clock, sourceLocation: sourceLocation)
        try await browser.signOut()
        #expect(try await browser.signIn(email).location == "/signin/code", sourceLocation: sourceLocation)
        server.clock.advance(30)
        #expect(
            try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/profile",
            sourceLocation: sourceLocation
        )
        return totp
    }

    /// The claims of a JWS, after checking its ES256 signature against the server's JWKS with
    /// swift-crypto directly (not the jwt-kit the server signs with).
    static func verifiedClaims(
        _ token: String,
        client: any TestClientProtocol,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String: Any] {
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3, sourceLocation: sourceLocation)
        let decoded = parts.map(base64URL)
        let (headerBytes, payload, signatureBytes) = (
            try #require(decoded[0], sourceLocation: sourceLocation), try #require(decoded[1], sourceLocation: sourceLocation),
            try #require(decoded[2], sourceLocation: sourceLocation)
        )
        let header = try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] ?? [:]
        #expect(header["alg"] as? String == "ES256", sourceLocation: sourceLocation)
        let jwks = try json(try await client.executeRequest(uri: "/oauth2/jwks", method: .get, headers: [:], body: nil))
        let keys = jwks["keys"] as? [[String: Any]] ?? []
        let key = try #require(keys.first { $0["kid"] as? String == header["kid"] as? String }, "kid not in the JWKS", sourceLocation: sourceLocation)
        let x = try #require(base64URL(key["x"] as? String ?? ""), sourceLocation: sourceLocation)
        let y = try #require(base64URL(key["y"] as? String ?? ""), sourceLocation: sourceLocation)
        let publicKey = try P256.Signing.PublicKey(rawRepresentation: x + y)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: signatureBytes)
        #expect(publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8)), "ES256 signature", sourceLocation: sourceLocation)
        return try JSONSerialization.jsonObject(with: payload) as? [String: Any] ?? [:]
    }

    static func base64URL(_ text: String) -> Data? {
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return Data(base64Encoded: standard + String(repeating: "=", count: (4 - standard.count % 4) % 4))
    }

    static func userInfo(_ token: String, on client: any TestClientProtocol) async throws -> TestResponse {
        try await client.executeRequest(uri: "/oauth2/userinfo", method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
    }

    // MARK: The flow

    @Test func discoveryNamesTheEndpointsAndES256() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let response = try await client.executeRequest(uri: "/.well-known/openid-configuration", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            let document = try Self.json(response)
            #expect(document["issuer"] as? String == Self.issuer)
            #expect(document["token_endpoint"] as? String == Self.issuer + "/oauth2/token")
            #expect(document["jwks_uri"] as? String == Self.issuer + "/oauth2/jwks")
            #expect(document["id_token_signing_alg_values_supported"] as? [String] == ["ES256"])
            #expect(document["code_challenge_methods_supported"] as? [String] == ["S256"])
            let jwks = try Self.json(try await client.executeRequest(uri: "/oauth2/jwks", method: .get, headers: [:], body: nil))
            let keys = jwks["keys"] as? [[String: Any]] ?? []
            #expect(keys.count == 1 && keys[0]["kty"] as? String == "EC" && keys[0]["crv"] as? String == "P-256" && keys[0]["d"] == nil)
        }
    }

    @Test func withoutAPublicURLTheProviderIsOff() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let response = try await client.executeRequest(uri: "/.well-known/openid-configuration", method: .get, headers: [:], body: nil)
            #expect(response.status == .notFound)
        }
    }

    /// Password and app code, then a public client with PKCE: a signed ID token with `amr` otp.
    @Test func codeFlowWithPKCEIssuesASignedIDTokenWithAMR() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            let code = try await party.code(browser)
            let response = try await party.redeem(code, on: client)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(response.headers[.cacheControl] == "no-store")
            let tokens = try Self.json(response)
            let claims = try await Self.verifiedClaims(try #require(tokens["id_token"] as? String), client: client)
            #expect(claims["iss"] as? String == Self.issuer)
            #expect(claims["aud"] as? String == party.client.clientID)
            #expect(claims["sub"] as? String == "1", "the account id, not the address")
            #expect(claims["email"] as? String == "alice@example.com")
            #expect(claims["email_verified"] as? Bool == false, "nobody has used the link sent to the address yet")
            #expect(claims["nonce"] as? String == "n-456")
            #expect(claims["amr"] as? [String] == ["pwd", "otp", "mfa"])
            #expect(claims["acr"] as? String == OIDCService.twoFactorACR)
            let now = Int(server.clock.now.timeIntervalSince1970)
            #expect(claims["exp"] as? Int == now + 300)
            #expect((claims["auth_time"] as? Int ?? 0) <= now)

            let info = try await Self.userInfo(try #require(tokens["access_token"] as? String), on: client)
            #expect(info.status == .ok)
            #expect(try Self.json(info)["sub"] as? String == "1")
            #expect(try Self.json(info)["email_verified"] as? Bool == false)
            #expect(try await Self.userInfo("not-a-token", on: client).headers[.wwwAuthenticate] == "Bearer error=\"invalid_token\"")

            // Once the address is confirmed (its link used), both say so.
            #expect(try await server.store.setEmailVerified(userID: 1, email: "alice@example.com", at: UnixTime(now)))
            let confirmed = try Self.json(try await party.redeem(try await party.code(browser), on: client))
            let confirmedClaims = try await Self.verifiedClaims(try #require(confirmed["id_token"] as? String), client: client)
            #expect(confirmedClaims["email_verified"] as? Bool == true)
            let confirmedInfo = try await Self.userInfo(try #require(confirmed["access_token"] as? String), on: client)
            #expect(try Self.json(confirmedInfo)["email_verified"] as? Bool == true)
        }
    }

    /// Query parameters are form-encoded (RFC 6749 Appendix B): `scope=openid+email` is two scopes,
    /// as Authlib and most clients send it; a parameter given twice counts as missing (RFC 6749 §3.1).
    @Test func authorizationQueriesAreFormEncoded() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            let path = party.authorizePath().replacingOccurrences(of: "scope=openid%20email", with: "scope=openid+email")
            let location = try #require(try await browser.get(path).location)
            #expect(Self.query(location)["code"] != nil, "\(location)")
            let twice = try await browser.get(party.authorizePath() + "&client_id=" + party.client.clientID)
            #expect(twice.status == .badRequest && twice.location == nil)
        }
    }

    /// Confidential clients: `client_secret_basic` and `client_secret_post`; a wrong or missing secret is 401.
    @Test func confidentialClientsAuthenticateWithTheirSecret() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server, isPublic: false)
            #expect(party.secret?.hasPrefix("tcs_") == true)
            let stored = try await server.store.database.sql.raw("SELECT secret_hash FROM oidc_clients").all(
                decodingColumn: "secret_hash",
                as: String.self
            )
            #expect(stored == [RandomToken.hash(party.secret!)], "only the hash is kept")

            #expect(try await party.redeem(try await party.code(browser), on: client, basic: true).status == .ok)
            #expect(try await party.redeem(try await party.code(browser), on: client, basic: false).status == .ok)
            let wrong = try await party.redeem(try await party.code(browser), on: client, secret: "tcs_wrong")
            #expect(wrong.status == .unauthorized)
            #expect(try Self.json(wrong)["error"] as? String == "invalid_client")
            // Without PKCE a confidential client still works (its secret binds the code).
            let page = try await browser.get(party.authorizePath(pkce: false))
            let location = try #require(page.location)
            let code = try #require(Self.query(location)["code"])
            #expect(try await party.redeem(code, on: client, verifier: "").status == .badRequest, "a verifier the request never had")
        }
    }

    // MARK: Refusals

    /// RFC 9700 §4.1.3: exact match. Near misses get an error page, never a redirect.
    @Test func redirectURIsMatchExactly() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            for attempt in [
                Self.redirectURI + "/", "https://APP.example.com/callback", Self.redirectURI + "?next=https://evil.example",
                "https://app.example.com:8443/callback", "https://app.example.com/Callback", "https://evil.example/callback",
                "https://app.example.com.evil.example/callback", "http://app.example.com/callback",
            ] {
                let page = try await browser.get(party.authorizePath(redirectURI: attempt))
                #expect(page.status == .badRequest, "\(attempt)")
                #expect(page.location == nil, "no redirect to \(attempt)")
                #expect(page.text.contains("has not registered"))
            }
            let unknown = try await browser.get("/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=https://evil.example/&scope=openid")
            #expect(unknown.status == .badRequest && unknown.location == nil)
            // At the token endpoint the redirect URI must be the authorization request's.
            let code = try await party.code(browser)
            let response = try await party.redeem(code, on: client, redirectURI: Self.redirectURI + "/")
            #expect(try Self.json(response)["error"] as? String == "invalid_grant")
        }
    }

    /// A public client must send an S256 challenge; `plain` is refused.
    @Test func publicClientsMustUsePKCEWithS256() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            for path in [party.authorizePath(pkce: false), party.authorizePath(method: "plain")] {
                let location = try #require(try await browser.get(path).location)
                #expect(Self.query(location)["error"] == "invalid_request", "\(location)")
                #expect(Self.query(location)["code"] == nil)
            }
        }
    }

    /// RFC 6749 §4.1.2: one use; a second revokes the tokens the first issued.
    @Test func aReusedCodeIsRefusedAndRevokesItsTokens() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            let code = try await party.code(browser)
            let first = try Self.json(try await party.redeem(code, on: client))
            let accessToken = try #require(first["access_token"] as? String)
            #expect(try await Self.userInfo(accessToken, on: client).status == .ok)

            let second = try await party.redeem(code, on: client)
            #expect(second.status == .badRequest)
            #expect(try Self.json(second)["error"] as? String == "invalid_grant")
            #expect(try await Self.userInfo(accessToken, on: client).status == .unauthorized, "revoked by the reuse")
        }
    }

    /// Eight redemptions of one code at once: exactly one gets tokens.
    @Test func concurrentRedemptionsOfOneCodeYieldOneTokenSet() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            let code = try await party.code(browser)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 { group.addTask { try await party.redeem(code, on: client).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
        }
    }

    /// A code is bound to its client: client B cannot redeem A's code (and A's code is spent by the try).
    @Test func aCodeIssuedToOneClientIsRefusedToAnother() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let a = try await RelyingParty.register(server, name: "a")
            let b = try await RelyingParty.register(server, name: "b", isPublic: false)
            let code = try await a.code(browser)
            let stolen = try await b.redeem(code, on: client, verifier: a.verifier)
            #expect(try Self.json(stolen)["error"] as? String == "invalid_grant")
        }
    }

    /// PKCE (RFC 7636): a wrong verifier, or none, gets nothing.
    @Test func aWrongPKCEVerifierIsRefused() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            for verifier in ["verifier-" + RandomToken.generate(), party.challenge, "short", ""] {
                let response = try await party.redeem(try await party.code(browser), on: client, verifier: verifier)
                #expect(try Self.json(response)["error"] as? String == "invalid_grant", "\(verifier)")
            }
        }
    }

    /// Codes live 60 seconds.
    @Test func anExpiredCodeIsRefused() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            let inTime = try await party.code(browser)
            server.clock.advance(59)
            #expect(try await party.redeem(inTime, on: client).status == .ok)
            let expired = try await party.code(browser)
            server.clock.advance(60)
            #expect(try Self.json(try await party.redeem(expired, on: client))["error"] as? String == "invalid_grant")
        }
    }

    // MARK: Sign-in, two factors, enrolment

    /// Not signed in: to the sign-in page and, after password and code, back to the authorization request.
    @Test func anAuthorizationRequestWaitsForTheSignIn() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            let totp = try await Self.signedInWithApp(browser, server)
            try await browser.signOut()
            let party = try await RelyingParty.register(server)
            let toSignIn = try #require(try await browser.get(party.authorizePath()).location)
            #expect(toSignIn.hasPrefix("/signin?rd=%2Foauth2%2Fauthorize%3F"))
            let form = try await browser.get(toSignIn)
            #expect(form.text.contains("name=\"rd\""))
            let rd = try #require(Self.query("https://x" + toSignIn)["rd"])
            #expect(
                try await browser.post("/signin", ["email": "alice@example.com", "password": "correct horse battery", "rd": rd]).location
                    == "/signin/code"
            )
            server.clock.advance(30)
            #expect(try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/signin/continue")
            let next = try await browser.get("/signin/continue")
            #expect(next.text.contains("http-equiv=\"refresh\""))
            #expect(next.text.contains(rd.replacingOccurrences(of: "&", with: "&amp;")))
            let back = try #require(try await browser.get(rd).location)
            let code = try #require(Self.query(back)["code"])
            #expect(try await party.redeem(code, on: client).status == .ok)
        }
    }

    /// An account without 2FA gets `amr` pwd from a client that does not demand more, and is sent
    /// to set up a method by one that does (per client, or by `acr_values`).
    @Test func clientsThatDemandTwoFactorsSendPasswordOnlyAccountsToEnrolment() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("bob@example.com")
            let lenient = try await RelyingParty.register(server, name: "lenient")
            let tokens = try Self.json(try await lenient.redeem(try await lenient.code(browser), on: client))
            let claims = try await Self.verifiedClaims(try #require(tokens["id_token"] as? String), client: client)
            #expect(claims["amr"] as? [String] == ["pwd"])
            #expect(claims["acr"] as? String == OIDCService.passwordACR)

            let strict = try await RelyingParty.register(server, name: "strict", twoFactors: true)
            for path in [strict.authorizePath(), lenient.authorizePath(extra: ["acr_values": OIDCService.twoFactorACR])] {
                let page = try await browser.get(path)
                #expect(page.location == "/profile/two-factor/enable", "\(page.status) \(page.location ?? "")")
            }
            // Enrolment, then back to the authorization request; the session is still the password-only
            // one, so the code is asked for with a new sign-in.
            try await browser.reauthenticate(next: "/profile/two-factor/enable")
            try await browser.post("/profile/two-factor/app")
            let key = try #require(try await browser.get("/profile/two-factor/app").manualKey)
            let totp = try TOTP(secret: try Base32.decode(key))
            let activated = try await browser.post("/profile/two-factor/app/activate", ["code": totp.code(at: server.clock.now)])
            #expect(activated.location == "/signin/continue")
            let next = try await browser.get("/signin/continue")
            #expect(next.text.contains("/oauth2/authorize?"))
            #expect(try await browser.get(strict.authorizePath()).location?.hasPrefix("/signin?rd=") == true)
            _ = try await browser.signIn("bob@example.com")
            server.clock.advance(30)
            _ = try await browser.post("/signin/code", ["code": totp.code(at: server.clock.now)])
            #expect(try await strict.redeem(try await strict.code(browser), on: client).status == .ok)
        }
    }

    /// The SMS method set up for a demanding client returns to it; a texted code gives `amr` sms.
    @Test func anSMSEnrolmentReturnsToTheClientAndSignsInWithSMS() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("gus@example.com")
            let strict = try await RelyingParty.register(server, twoFactors: true)
            #expect(try await browser.get(strict.authorizePath()).location == "/profile/two-factor/enable")
            try await browser.reauthenticate(next: "/profile/two-factor/enable")
            #expect(try await browser.post("/profile/two-factor/sms", ["phone": "+31 6 1234 5678"]).status == .ok)
            let activated = try await browser.post("/profile/two-factor/sms/activate", ["code": try server.lastCode()])
            #expect(activated.location == "/signin/continue")

            try await browser.signOut()
            #expect(try await browser.signIn("gus@example.com").location == "/signin/code")
            server.clock.advance(61)
            #expect(try await browser.post("/signin/sms").status == .ok)
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile")
            let tokens = try Self.json(try await strict.redeem(try await strict.code(browser), on: client))
            let claims = try await Self.verifiedClaims(try #require(tokens["id_token"] as? String), client: client)
            #expect(claims["amr"] as? [String] == ["pwd", "sms", "mfa"])
        }
    }

    /// After an operator reset the account may only enrol: no code on the password alone.
    @Test func anAccountThatMustEnrolGetsNoCode() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("erin@example.com")
            try await server.store.setEnrolmentRequired(true, userID: 1)
            let party = try await RelyingParty.register(server)
            #expect(try await browser.get(party.authorizePath()).location == "/profile/two-factor/enable")
        }
    }

    // MARK: Keys and logout

    /// `twostep keys rotate`: a new signing key; the old one stays published until its tokens expire.
    @Test func rotatedSigningKeysStayPublishedUntilTheirTokensExpire() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server)
            let old = try #require(try Self.json(try await party.redeem(try await party.code(browser), on: client))["id_token"] as? String)
            let oldKid = try #require(try await server.store.signingKeys().first?.kid)
            let sealed = try #require(try await server.store.signingKeys().first?.sealedKey)
            #expect(sealed.hasPrefix("v1."), "sealed under the master key")

            let newKid = try await server.services.oidc.rotateSigningKey()
            let published = { () async throws -> [String] in
                let jwks = try Self.json(try await client.executeRequest(uri: "/oauth2/jwks", method: .get, headers: [:], body: nil))
                return (jwks["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
            }
            #expect(Set(try await published()) == [oldKid, newKid])
            _ = try await Self.verifiedClaims(old, client: client)
            let new = try #require(try Self.json(try await party.redeem(try await party.code(browser), on: client))["id_token"] as? String)
            #expect(new != old)
            server.clock.advance(Double(OIDCService.retiredKeyPublication) + 1)
            #expect(try await published() == [newKid])
        }
    }

    /// The master-key rotation re-seals the signing keys and makes a new one.
    @Test func masterKeyRotationResealsAndReplacesTheSigningKey() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            _ = try await server.services.oidc.jwks()
            let before = try await server.store.signingKeys()
            let report = try await OperatorActions(parts: server.parts, configuration: server.configuration).rotateKeys(dropRetired: true)
            #expect(report.contains("re-sealed 1 secrets"), "\(report)")
            let ring = try MasterKeyFile.load(at: server.configuration.masterKeyPath)
            let after = try await server.store.signingKeys()
            #expect(after.count == 2 && after.allSatisfy { $0.sealedKey.hasPrefix("v1.\(ring.active.id).") })
            #expect(after.first { $0.kid == before[0].kid }?.retiredAt != nil)
            for key in after { _ = try ring.open(key.sealedKey, context: OIDCService.sealContext(key.kid)) }
        }
    }

    /// RP-initiated logout: a valid `id_token_hint` signs out and returns only to a registered address.
    @Test func logoutReturnsOnlyToARegisteredAddress() async throws {
        let server = try await Self.makeServer()
        try await server.run { client in
            let browser = Browser(client)
            _ = try await Self.signedInWithApp(browser, server)
            let party = try await RelyingParty.register(server, postLogout: ["https://app.example.com/bye"])
            let idToken = try #require(try Self.json(try await party.redeem(try await party.code(browser), on: client))["id_token"] as? String)

            // A hint that does not verify proves nothing: the person is asked, and stays signed in.
            let forged = try await browser.get(
                "/oauth2/logout?id_token_hint=\(idToken.dropLast(4))AAAA&post_logout_redirect_uri=https://app.example.com/bye"
            )
            #expect(forged.status == .ok && forged.location == nil)
            #expect(forged.text.contains("Sign out of TwoStep?"))
            #expect(try await browser.get("/profile").status == .ok)

            let foreign = try await browser.get("/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https://evil.example/")
            #expect(foreign.location == "/signin?done=signed-out", "signed out, but not sent to an unregistered address")
            #expect(try await browser.get("/profile").location == "/signin")

            let registered = try await browser.get(
                "/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https://app.example.com/bye&state=s1"
            )
            #expect(registered.location == "https://app.example.com/bye?state=s1")
        }
    }

    /// `twostep client add|list|remove`.
    @Test func operatorsRegisterListAndRemoveClients() async throws {
        let server = try await Self.makeServer()
        try await server.run { _ in
            let actions = OperatorActions(parts: server.parts, configuration: server.configuration)
            let added = try await actions.addClient(
                name: "portal",
                redirectURIs: [Self.redirectURI],
                isPublic: false,
                twoFactorsRequired: true
            )
            #expect(added.contains("client_secret: tcs_"))
            await #expect(throws: OperatorError.self) {
                try await actions.addClient(name: "bad", redirectURIs: ["http://app.example.com/cb"], isPublic: true, twoFactorsRequired: false)
            }
            await #expect(throws: OperatorError.self) {
                try await actions.addClient(name: "frag", redirectURIs: ["https://app.example.com/cb#x"], isPublic: true, twoFactorsRequired: false)
            }
            #expect(
                try await actions.addClient(name: "local", redirectURIs: ["http://127.0.0.1:5000/cb"], isPublic: true, twoFactorsRequired: false)
                    .contains("PKCE")
            )
            let list = try await actions.listClients()
            #expect(list.count == 3 && list[1].contains("portal") && list[1].contains("required"))
            #expect(!list.joined().contains("tcs_"), "the secret is never shown again")
            #expect(try await actions.removeClient(name: "portal").contains("removed"))
            await #expect(throws: OperatorError.self) { try await actions.removeClient(name: "portal") }
        }
    }
}
