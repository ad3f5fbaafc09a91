import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore
import WebAuthnTestSupport

@testable import TwoStepServer

/// Security keys and passkeys over the JSON API of a live server (issue 17), with a software authenticator.
@Suite("WebAuthn API")
struct WebAuthnAPITests {
    /// `{"public_key": options}` as the options text a browser would parse.
    static func options(_ reply: APIClient.Reply, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(reply.status == .ok, "\(reply.status) \(reply.text)", sourceLocation: sourceLocation)
        let options = try #require(reply["public_key"] as? [String: Any], "\(reply.text)", sourceLocation: sourceLocation)
        return SoftKey.string(options)
    }

    static func object(_ json: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
    }

    /// Signs up over the API, re-authenticates and adds `key`; returns the client with its token.
    static func accountWithKey(
        _ client: any TestClientProtocol,
        email: String,
        key: SoftKey,
        passkey: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIClient {
        var api = APIClient(client: client)
        let signUp = try await api.call(.post, "/api/v1/account", ["email": email, "password": "correct horse battery"])
        api.token = try #require(signUp["token"] as? String, "\(signUp.text)", sourceLocation: sourceLocation)
        try await api.reauthenticate(sourceLocation: sourceLocation)
        let options = try Self.options(try await api.call(.post, "/api/v1/account/webauthn/registration/options", ["passkey": passkey]))
        let added = try await api.call(
            .post,
            "/api/v1/account/webauthn/registration",
            ["name": "YubiKey 5", "credential": Self.object(try key.register(options, sourceLocation: sourceLocation))]
        )
        #expect(added.status == .created, "\(added.status) \(added.text)", sourceLocation: sourceLocation)
        return api
    }

    @Test(arguments: [COSEAlgorithm.es256, .edDSA, .rs256])
    func aKeyIsAddedAndCompletesTheSignIn(_ algorithm: COSEAlgorithm) async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.runLive { client in
            var api = APIClient(client: client)
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "ann@example.com", "password": "correct horse battery"])
            api.token = try #require(signUp["token"] as? String)
            // Adding a method needs the password first (SPEC §2).
            let early = try await api.call(.post, "/api/v1/account/webauthn/registration/options", [:])
            #expect(early.status == .forbidden && early.errorCode == "reauthentication_required")
            try await api.reauthenticate()
            let key = try SoftKey(algorithm)
            let options = try Self.options(try await api.call(.post, "/api/v1/account/webauthn/registration/options", [:]))
            let added = try await api.call(
                .post,
                "/api/v1/account/webauthn/registration",
                ["name": "YubiKey 5", "credential": Self.object(try key.register(options)), "trust_device": false]
            )
            #expect(added.status == .created, "\(added.text)")
            #expect(added["turned_on"] as? Bool == true && added["enabled"] as? Bool == true)
            let stored = try #require(added["credential"] as? [String: Any])
            #expect(stored["name"] as? String == "YubiKey 5" && stored["passkey"] as? Bool == false)
            #expect(stored["algorithm"] as? String == ["ES256", "EdDSA", "RS256"][[COSEAlgorithm.es256, .edDSA, .rs256].firstIndex(of: algorithm)!])
            let status = try await api.call(.get, "/api/v1/account/two-factor")
            #expect(status["enabled"] as? Bool == true && status["method"] as? String == "security_key" && status["security_keys"] as? Int == 1)
            #expect((try await api.call(.get, "/api/v1/account/webauthn/credentials")["credentials"] as? [Any])?.count == 1)

            // Sign in: the password, then the key.
            let password = try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])
            #expect(password["status"] as? String == "second_factor_required")
            #expect((password["methods"] as? [String])?.contains("security_key") == true)
            let challenge = try #require(password["challenge"] as? String)
            let request = try Self.options(try await api.call(.post, "/api/v1/session/webauthn/options", ["challenge": challenge]))
            let signedIn = try await api.call(
                .post,
                "/api/v1/session/webauthn",
                ["challenge": challenge, "credential": Self.object(try key.assert(request))]
            )
            #expect(signedIn.status == .ok, "\(signedIn.text)")
            #expect(signedIn["status"] as? String == "authenticated" && signedIn["method"] as? String == "security_key")
            let token = try #require(signedIn["token"] as? String)
            #expect(try await api.call(.get, "/api/v1/account", token: token).status == .ok)
            // RFC 8176 method references, as ID tokens and forward-auth report them.
            #expect(try await server.store.session(idHash: RandomToken.hash(token))?.methods == ["pwd", "hwk", "mfa"])
        }
    }

    @Test func aPasskeySignsInOverJSON() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.runLive { client in
            let key = try SoftKey()
            let api = try await Self.accountWithKey(client, email: "ann@example.com", key: key, passkey: true)
            let keys = try await api.call(.get, "/api/v1/account/webauthn/credentials")
            #expect(((keys["credentials"] as? [[String: Any]])?.first?["passkey"] as? Bool) == true)

            let anonymous = APIClient(client: client)
            let reply = try await anonymous.call(.post, "/api/v1/session/passkey/options")
            let ceremony = try #require(reply["ceremony"] as? String)
            let options = try Self.options(reply)
            let answer = Self.object(try key.assert(options))
            // The ceremony token is the binding: another one does not finish it.
            let foreign = try await anonymous.call(.post, "/api/v1/session/passkey", ["ceremony": RandomToken.generate(), "credential": answer])
            #expect(foreign.status == .unauthorized && foreign.errorCode == "webauthn_refused", "\(foreign.text)")
            let fresh = try await anonymous.call(.post, "/api/v1/session/passkey/options")
            let signedIn = try await anonymous.call(
                .post,
                "/api/v1/session/passkey",
                ["ceremony": try #require(fresh["ceremony"] as? String), "credential": Self.object(try key.assert(try Self.options(fresh)))]
            )
            #expect(signedIn.status == .ok && signedIn["method"] as? String == "passkey", "\(signedIn.text)")
            let token = try #require(signedIn["token"] as? String)
            #expect(try await server.store.session(idHash: RandomToken.hash(token))?.methods == ["hwk", "user", "mfa"])
            _ = ceremony
        }
    }

    @Test func keysAreRenamedAndRemovedOverJSON() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.runLive { client in
            var api = try await Self.accountWithKey(client, email: "ann@example.com", key: try SoftKey())
            let second = try Self.options(try await api.call(.post, "/api/v1/account/webauthn/registration/options", [:]))
            let added = try await api.call(
                .post,
                "/api/v1/account/webauthn/registration",
                ["name": "Backup", "credential": Self.object(try SoftKey(.edDSA).register(second))]
            )
            #expect(added["turned_on"] as? Bool == false)
            let list = try #require(try await api.call(.get, "/api/v1/account/webauthn/credentials")["credentials"] as? [[String: Any]])
            let ids = list.compactMap { $0["id"] as? Int }
            #expect(ids.count == 2)

            let renamed = try await api.call(.patch, "/api/v1/account/webauthn/credentials/\(ids[0])", ["name": "Office"])
            #expect(renamed.status == .ok && renamed["name"] as? String == "Office")
            #expect(try await api.call(.patch, "/api/v1/account/webauthn/credentials/\(ids[0])", ["name": ""]).status == .unprocessableContent)
            #expect(try await api.call(.patch, "/api/v1/account/webauthn/credentials/999999", ["name": "x"]).status == .notFound)
            #expect(try await api.call(.patch, "/api/v1/account/webauthn/credentials/abc", ["name": "x"]).status == .notFound)

            server.clock.advance(11 * 60)
            let refused = try await api.call(.delete, "/api/v1/account/webauthn/credentials/\(ids[0])")
            #expect(refused.status == .forbidden && refused.errorCode == "reauthentication_required")
            try await api.reauthenticate()
            #expect(try await api.call(.delete, "/api/v1/account/webauthn/credentials/\(ids[0])").status == .noContent)
            #expect(try await api.call(.delete, "/api/v1/account/webauthn/credentials/\(ids[0])").status == .notFound)
            let last = try await api.call(.delete, "/api/v1/account/webauthn/credentials/\(ids[1])")
            #expect(last.status == .conflict && last.errorCode == "last_method")
        }
    }

    /// 20 concurrent finishes of one assertion over HTTP: exactly one signs in.
    @Test func twentyConcurrentFinishesSignInOnce() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.runLive { client in
            let key = try SoftKey()
            let api = try await Self.accountWithKey(client, email: "ann@example.com", key: key)
            let password = try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])
            let challenge = try #require(password["challenge"] as? String)
            let options = try Self.options(try await api.call(.post, "/api/v1/session/webauthn/options", ["challenge": challenge]))
            // Counter 0 (no counter): only the challenge's single use can stop the copies.
            let body = SoftKey.string(["challenge": challenge, "credential": Self.object(try key.assert(options, signCount: 0))])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await api.send(.post, "/api/v1/session/webauthn", raw: body).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.allSatisfy { $0.code < 500 }, "\(statuses)")
        }
    }

    /// Malformed or hostile JSON, base64url and CBOR answer a 4xx with a JSON error, never a 5xx.
    @Test func hostileCredentialsAreRefusedNeverServerErrors() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.runLive { client in
            let key = try SoftKey()
            var api = try await Self.accountWithKey(client, email: "ann@example.com", key: key)
            try await api.reauthenticate()
            let password = try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])
            let challenge = try #require(password["challenge"] as? String)
            let id = key.id
            let credentials: [String] = [
                "null", "[]", "\"x\"", "{}", #"{"id":1}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"***","attestationObject":"***","authenticatorData":"***","signature":"***"}}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"v2E","authenticatorData":"AA","signature":"AA"}}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"\#(base64URLString(Array(#"{"type":"webauthn.create","challenge":"AAAA","origin":"http://localhost:8080"}"#.utf8)))","attestationObject":"\#(base64URLString([0xA1] + [UInt8](repeating: 0x81, count: 64)))","authenticatorData":"AA","signature":"AA"}}"#,
            ]
            let routes: [(String, (String) -> String)] = [
                ("/api/v1/account/webauthn/registration", { #"{"name":"k","credential":\#($0)}"# }),
                ("/api/v1/session/webauthn", { #"{"challenge":"\#(challenge)","credential":\#($0)}"# }),
                ("/api/v1/session/passkey", { #"{"ceremony":"c","credential":\#($0)}"# }),
            ]
            for (path, wrap) in routes {
                for credential in credentials {
                    let reply = try await api.send(.post, path, raw: wrap(credential))
                    #expect(
                        (400..<500).contains(reply.status.code) && reply.errorCode != nil,
                        "\(path) \(credential.prefix(60)): \(reply.status) \(reply.text)"
                    )
                }
                let huge = wrap(#"{"id":"\#(String(repeating: "A", count: 70_000))"}"#)
                #expect(try await api.send(.post, path, raw: huge).status == .contentTooLarge)
                #expect(try await api.send(.post, path, raw: "{not json").status == .badRequest)
            }
            #expect(try await api.call(.post, "/api/v1/session/webauthn/options", ["challenge": "nope"]).status == .unauthorized)
        }
    }

    /// A reset link's second factor (issue 15) may be a security key (issue 17).
    @Test func aKeyIsTheSecondFactorOfAPasswordReset() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let key = try SoftKey()
            let (user, session) = try await server.signedIn("ann@example.com")
            try await server.addKey(key, user: user, session: session)
            let token = RandomToken.generate()
            _ = try await server.store.createEmailToken(
                userID: user.id,
                purpose: .reset,
                tokenHash: RandomToken.hash(token),
                email: "ann@example.com",
                at: server.clock.now.unixTime,
                expiresAt: server.clock.now.unixTime + 3600
            )
            let email = server.services.email
            #expect(try await email.resetStage(token: token) == .secondFactor(user))
            #expect(try await email.resetKeyOptions(token: "another link") == nil)
            let options = try #require(try await email.resetKeyOptions(token: token))
            // The options are bound to this link: another link's ceremony cannot use them.
            #expect(try await email.resetSecondFactorWithKey(token: "another link", responseJSON: try key.assert(options)) == .invalid)
            #expect(try await email.resetSecondFactorWithKey(token: token, responseJSON: try key.assert(options)) == .accepted)
            #expect(try await email.resetStage(token: token) == .newPassword(user))
        }
    }
}
