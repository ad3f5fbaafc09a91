import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// A JSON API client: bodies in, parsed bodies out.
struct APIClient {
    let client: any TestClientProtocol
    var token: String?

    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        subscript(key: String) -> Any? { json[key] }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String? = nil) async throws -> Reply {
        try await send(method, path, raw: body.map { String(decoding: try! JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }, token: token)
    }

    func send(_ method: HTTPRequest.Method, _ path: String, raw: String?, bytes: [UInt8]? = nil, token: String? = nil) async throws -> Reply {
        var headers: HTTPFields = [.userAgent: "curl/8.5.0"]
        if let bearer = token ?? self.token { headers[.authorization] = "Bearer \(bearer)" }
        let body = bytes.map { ByteBuffer(bytes: $0) } ?? raw.map { ByteBuffer(string: $0) }
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        return Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    /// "Sudo mode" with the password; the session's token is replaced (SPEC §2), so the new one is kept.
    mutating func reauthenticate(
        password: String = "correct horse battery",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let reply = try await call(.post, "/api/v1/account/reauthenticate", ["password": password])
        #expect(reply.status == .ok, "re-authentication: \(reply.status) \(reply.text)", sourceLocation: sourceLocation)
        let token = try #require(reply["token"] as? String, sourceLocation: sourceLocation)
        #expect(token != self.token, "the token is rotated", sourceLocation: sourceLocation)
        self.token = token
    }
}

extension TestServer {
    /// A live API key for a relying service; by default with every scope and every account in
    /// reach, as keys made before scopes have.
    func apiKey(_ name: String = "portal", scopes: Set<APIKeyScope> = Set(APIKeyScope.allCases), reach: APIKeyReach = .all) async throws -> String {
        try await APIKeyService(store: store, now: { Date() }).create(name: name, scopes: scopes, reach: reach).get()
    }
}

@Suite struct APITests {
    @Test func aRelyingServiceEnrolsAUserAndValidatesCodes() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let created = try await api.call(.post, "/api/v1/users", ["email": "Ann@Example.com"])
            #expect(created.status == .created)
            #expect(created["email"] as? String == "ann@example.com")

            let enrolment = try await api.call(.post, "/api/v1/users/ann@example.com/totp")
            #expect(enrolment.status == .created)
            let secret = try #require(enrolment["secret"] as? String)
            let uri = try OTPKeyURI(parsing: try #require(enrolment["uri"] as? String))
            #expect(Base32.encode(uri.secret, padding: false) == secret)
            #expect((enrolment["qr_svg"] as? String)?.hasPrefix("<svg") == true)
            let totp = try TOTP(secret: try Base32.decode(secret))

            let wrong = try await api.call(.post, "/api/v1/users/ann@example.com/totp/confirm", ["code": "000000"])
            #expect(wrong.status == .unprocessableContent && wrong.errorCode == "invalid_field")
            let confirmed = try await api.call(.post, "/api/v1/users/ann@example.com/totp/confirm", ["code": totp.code(at: server.clock.now)])
            #expect(confirmed.status == .ok && confirmed["enabled"] as? Bool == true)
            #expect(try await api.call(.post, "/api/v1/users/ann@example.com/totp").status == .conflict)

            // The code that confirmed the app is used (RFC 6238 §5.2); the next step's code is not.
            let replay = try await api.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": totp.code(at: server.clock.now)])
            #expect(replay.status == .ok && replay["valid"] as? Bool == false)
            server.clock.advance(30)
            let valid = try await api.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": totp.code(at: server.clock.now)])
            #expect(valid.status == .ok && valid["valid"] as? Bool == true && valid["method"] as? String == "app")
            let again = try await api.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": totp.code(at: server.clock.now)])
            #expect(again["valid"] as? Bool == false)

            // Recovery codes work through validate too, once each.
            let codes = try #require(try await api.call(.post, "/api/v1/users/ann@example.com/recovery-codes")["codes"] as? [String])
            #expect(codes.count == 10)
            let recovery = try await api.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": codes[0]])
            #expect(recovery["method"] as? String == "recovery_code" && recovery["recovery_codes_remaining"] as? Int == 9)
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": codes[0]])["valid"] as? Bool == false)

            let status = try await api.call(.get, "/api/v1/users/ann@example.com")
            let twoFactor = try #require(status["two_factor"] as? [String: Any])
            #expect(twoFactor["enabled"] as? Bool == true && twoFactor["method"] as? String == "app")
            #expect(try await api.call(.get, "/api/v1/users/nobody@example.com").status == .notFound)
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "nobody@example.com", "code": "123456"]).errorCode == "unknown_user")
        }
    }

    /// A server with an API key for every account, and `bo@example.com`, made through the API with
    /// an app that holds RFC 6238's SHA-1 key.
    private static func withAppUser(
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: @Sendable (TestServer, String, any TestClientProtocol, APIClient, TOTP) async throws -> Void
    ) async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        let rfcKey = Array("12345678901234567890".utf8)
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let created = try await api.call(
                .post,
                "/api/v1/users",
                ["email": "bo@example.com", "totp": ["secret": Base32.encode(rfcKey, padding: false)]]
            )
            #expect(created.status == .created, sourceLocation: sourceLocation)
            try await body(server, key, client, api, try TOTP(secret: rfcKey))
        }
    }

    /// Validate reads the plainest bodies without `JSONDecoder` (issue 19); every other form of the
    /// same request is answered exactly as before, errors included.
    @Test func validateAnswersEveryFormOfItsBodyAlike() async throws {
        try await Self.withAppUser { server, key, client, api, totp in
            func code() -> String { totp.code(at: server.clock.now) }

            let plain = try await api.send(.post, "/api/v1/validate", raw: #"{"user": "bo@example.com", "code": ""# + code() + #""}"#)
            #expect(plain.status == .ok && plain.text == #"{"method":"app","valid":true}"#, "\(plain.text)")
            server.clock.advance(30)
            let escaped = try await api.send(.post, "/api/v1/validate", raw: #"{"user": "bo\u0040example.com", "code": ""# + code() + #""}"#)
            #expect(escaped.status == .ok && escaped["valid"] as? Bool == true, "escapes: \(escaped.text)")
            let replayed = try await api.send(.post, "/api/v1/validate", raw: #"{"code": ""# + code() + #"", "user": "BO@example.com", "note": 1}"#)
            #expect(replayed.status == .ok && replayed.text == #"{"valid":false}"#, "another field is ignored: \(replayed.text)")

            let number = try await api.send(.post, "/api/v1/validate", raw: #"{"user": "bo@example.com", "code": 123456}"#)
            #expect(number.status == .unprocessableContent && number.errorCode == "invalid_field", "\(number.text)")
            let missing = try await api.send(.post, "/api/v1/validate", raw: #"{"user": "bo@example.com"}"#)
            #expect(missing.status == .unprocessableContent && missing.errorCode == "invalid_field", "\(missing.text)")
            let twice = try await api.send(.post, "/api/v1/validate", raw: #"{"user": "bo@example.com", "code": "1", "code": "2"}"#)
            #expect(twice.status == .badRequest && twice.errorCode == "duplicate_key", "\(twice.text)")
            let unknown = try await api.send(.post, "/api/v1/validate", raw: #"{"user": "bö@example.com", "code": "123456"}"#)
            #expect(unknown.status == .notFound && unknown.errorCode == "unknown_user", "\(unknown.text)")

            // The scheme in any case, the token between spaces; another scheme is no key at all.
            server.clock.advance(30)
            let lowerCase = try await client.executeRequest(
                uri: "/api/v1/validate",
                method: .post,
                headers: [.authorization: "bearer  \(key) ", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"user": "bo@example.com", "code": ""# + code() + #""}"#)
            )
            #expect(lowerCase.status == .ok && String(buffer: lowerCase.body) == #"{"method":"app","valid":true}"#)
            let basic = try await client.executeRequest(
                uri: "/api/v1/validate",
                method: .post,
                headers: [.authorization: "Basic \(key)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"user": "bo@example.com", "code": "123456"}"#)
            )
            #expect(basic.status == .unauthorized)
        }
    }

    @Test func validateHasTheSignInLockout() async throws {
        try await Self.withAppUser { server, _, _, api, totp in
            for attempt in 1...4 {
                let reply = try await api.call(.post, "/api/v1/validate", ["user": "bo@example.com", "code": "000000"])
                #expect(reply.status == .ok && reply["valid"] as? Bool == false, "attempt \(attempt)")
            }
            // The fifth failure starts a 30 s wait; during it even the right code is not checked.
            let fifth = try await api.call(.post, "/api/v1/validate", ["user": "bo@example.com", "code": "000000"])
            #expect(fifth.status == .tooManyRequests && fifth.headers[.retryAfter] == "30")
            // Each failure is one line of the activity list, and the wait the fifth starts one more.
            let bo = try #require(try await server.store.user(email: "bo@example.com"))
            let events = try await server.store.events(userID: bo.id, limit: 100).map(\.kind)
            #expect(events.filter { $0 == .secondFactorFailed }.count == 5 && events.filter { $0 == .lockedOut }.count == 1, "\(events)")
            let waiting = try await api.call(.post, "/api/v1/validate", ["user": "bo@example.com", "code": totp.code(at: server.clock.now)])
            #expect(waiting.status == .tooManyRequests && waiting.errorCode == "too_many_attempts")
            #expect(Int(waiting.headers[.retryAfter] ?? "") == 30)
            server.clock.advance(31)
            let right = try await api.call(.post, "/api/v1/validate", ["user": "bo@example.com", "code": totp.code(at: server.clock.now)])
            #expect(right["valid"] as? Bool == true)
            // Success reset the count: one more failure is a plain false again.
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "bo@example.com", "code": "000000"]).status == .ok)
        }
    }

    @Test(
        "imported keys are checked",
        arguments: [
            (["secret": "not base32!"], "totp.secret"),
            (["secret": "GEZDGNBV"], "totp.secret"),  // 5 bytes: too short to be a key
            (["secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "algorithm": "md5"], "totp.algorithm"),
            (["secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "digits": 9], "totp.digits"),
            (["secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "period": 15], "totp.period"),
            (["secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "digits": "six"], "totp.digits"),
        ] as [([String: any Sendable], String)]
    )
    func importedKeysAreChecked(totp: [String: any Sendable], field: String) async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let reply = try await APIClient(client: client, token: key).call(.post, "/api/v1/users", ["email": "cy@example.com", "totp": totp])
            #expect(reply.status == .unprocessableContent)
            #expect(((reply.json["error"] as? [String: Any])?["message"] as? String)?.hasPrefix(field) == true, "\(reply.text)")
            // Nothing was made: the address is still free.
            #expect(try await server.store.user(email: "cy@example.com") == nil)
        }
    }

    @Test func importedSHA256KeysAndEightDigitsValidate() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        let secret = Array("12345678901234567890123456789012".utf8)
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let body: [String: Any] = ["email": "di@example.com", "totp": ["secret": Base32.encode(secret), "algorithm": "sha256", "digits": 8]]
            #expect(try await api.call(.post, "/api/v1/users", body).status == .created)
            let code = try TOTP(secret: secret, algorithm: .sha256, digits: 8).code(at: server.clock.now)
            #expect(try await api.call(.post, "/api/v1/validate", ["user": "di@example.com", "code": code])["valid"] as? Bool == true)
            #expect(try await api.call(.post, "/api/v1/users", ["email": "di@example.com"]).status == .conflict)
        }
    }

    @Test func serviceRoutesNeedALiveAPIKey() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey("vpn")
        let other = try await server.apiKey("ssh")
        try await server.run { client in
            let api = APIClient(client: client)
            let body = ["user": "ann@example.com", "code": "123456"]
            #expect(try await api.call(.post, "/api/v1/validate", body).errorCode == "unauthorized")
            #expect(try await api.call(.post, "/api/v1/validate", body, token: "tsk_" + String(repeating: "A", count: 43)).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/validate", body, token: String(key.dropLast())).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/validate", body, token: key).status == .notFound)  // authenticated: no such user

            // An account holder's session is not an API key, and an API key is not a session.
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "ann@example.com", "password": "correct horse battery"])
            let session = try #require(signUp["token"] as? String)
            #expect(try await api.call(.post, "/api/v1/validate", body, token: session).status == .unauthorized)
            #expect(try await api.call(.get, "/api/v1/account", token: key).status == .unauthorized)

            // Only the hash is stored; revoking works at once and only for that key.
            let stored = try await server.store.apiKeys()
            #expect(stored.map(\.keyHash) == [RandomToken.hash(key), RandomToken.hash(other)])
            // `twostep apikey revoke` is another process: the server notices within its 10-second key cache.
            #expect(try await APIKeyService(store: server.store, now: { Date() }).revoke(name: "vpn"))
            let cached = try await api.call(.post, "/api/v1/validate", body, token: key)
            #expect(cached.status == .ok, "still cached: \(cached.text)")
            server.clock.advance(APIKeyService.cacheLifetime + 1)
            #expect(try await api.call(.post, "/api/v1/validate", body, token: key).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/validate", body, token: other).status == .ok)
        }
    }

    @Test func anAccountHolderDoesEverythingOverJSON() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            var api = APIClient(client: client)
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "eve@example.com", "password": "correct horse battery"])
            #expect(signUp.status == .created && signUp["status"] as? String == "authenticated")
            #expect(try await api.call(.post, "/api/v1/account", ["email": "eve@example.com", "password": "another password"]).status == .conflict)
            api.token = try #require(signUp["token"] as? String)

            #expect(try await api.call(.post, "/api/v1/account/recovery-codes").status == .conflict)  // 2FA is off
            // Adding a method needs the password first, even on a fresh session (issue 12).
            #expect(try await api.call(.post, "/api/v1/account/two-factor/app").errorCode == "reauthentication_required")
            try await api.reauthenticate()
            let enrolment = try await api.call(.post, "/api/v1/account/two-factor/app")
            let totp = try TOTP(secret: try Base32.decode(try #require(enrolment["secret"] as? String)))
            let enabled = try await api.call(.post, "/api/v1/account/two-factor/app/confirm", ["code": totp.code(at: server.clock.now)])
            #expect(enabled["enabled"] as? Bool == true)
            #expect(try await api.call(.post, "/api/v1/account/two-factor/app").status == .conflict)

            // The re-authentication before enrolling still holds (activating the app adds none).
            let codes = try #require(try await api.call(.post, "/api/v1/account/recovery-codes")["codes"] as? [String])
            #expect(codes.count == 10)
            server.clock.advance(11 * 60)
            let shown = try await api.call(.get, "/api/v1/account/recovery-codes")
            #expect(shown.status == .forbidden && shown.errorCode == "reauthentication_required")
            #expect(try await api.call(.post, "/api/v1/account/reauthenticate", ["password": "wrong password"]).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/account/reauthenticate", [:]).status == .unprocessableContent)
            let old = api.token
            try await api.reauthenticate()
            #expect(try await api.call(.get, "/api/v1/account", token: old).status == .unauthorized, "the old token ended at re-authentication")
            #expect((try await api.call(.get, "/api/v1/account/recovery-codes")["codes"] as? [String])?.sorted() == codes.sorted())
            let count = try await api.call(.get, "/api/v1/account/recovery-codes/status")
            #expect(count["remaining"] as? Int == 10 && count["low"] as? Bool == false)

            #expect(try await api.call(.delete, "/api/v1/session").status == .noContent)
            #expect(try await api.call(.get, "/api/v1/account").status == .unauthorized)
            api.token = nil

            // Password, then the code: a challenge, not a token.
            #expect(try await api.call(.post, "/api/v1/session", ["email": "eve@example.com", "password": "wrong"]).errorCode == "wrong_credentials")
            let first = try await api.call(.post, "/api/v1/session", ["email": "eve@example.com", "password": "correct horse battery"])
            #expect(first["status"] as? String == "second_factor_required" && first["token"] == nil)
            #expect(first["methods"] as? [String] == ["app", "recovery_code"])
            let challenge = try #require(first["challenge"] as? String)
            #expect(try await api.call(.get, "/api/v1/account", token: challenge).status == .unauthorized)  // half-way is not signed in
            let wrong = try await api.call(.post, "/api/v1/session/second-factor", ["challenge": challenge, "code": "000000"])
            #expect(wrong.status == .unauthorized && wrong.errorCode == "wrong_code")
            server.clock.advance(30)
            let second = try await api.call(
                .post,
                "/api/v1/session/second-factor",
                ["challenge": challenge, "code": totp.code(at: server.clock.now), "trust_device": true]
            )
            #expect(second["status"] as? String == "authenticated" && second["method"] as? String == "app")
            let deviceToken = try #require(second["device_token"] as? String)
            api.token = try #require(second["token"] as? String)
            // The challenge was used up by signing in.
            #expect(
                try await api.call(.post, "/api/v1/session/second-factor", ["challenge": challenge, "code": "000000"]).errorCode
                    == "invalid_challenge"
            )

            // The trusted device skips the code next time; another account cannot use its token.
            let trusted = try await api.call(
                .post,
                "/api/v1/session",
                ["email": "eve@example.com", "password": "correct horse battery", "device_token": deviceToken],
                token: ""
            )
            #expect(trusted["status"] as? String == "authenticated")
            let devices = try #require(try await api.call(.get, "/api/v1/account/trusted-devices")["devices"] as? [[String: Any]])
            #expect(devices.count == 1 && devices.first?["browser"] as? String == "curl")
            let id = try #require(devices.first?["id"] as? Int)
            #expect(try await api.call(.delete, "/api/v1/account/trusted-devices/\(id + 1000)").status == .notFound)
            #expect(try await api.call(.delete, "/api/v1/account/trusted-devices/\(id)").status == .noContent)
            let untrusted = try await api.call(
                .post,
                "/api/v1/session",
                ["email": "eve@example.com", "password": "correct horse battery", "device_token": deviceToken],
                token: ""
            )
            #expect(untrusted["status"] as? String == "second_factor_required")

            // A recovery code signs in and says how many are left.
            let third = try await api.call(.post, "/api/v1/session", ["email": "eve@example.com", "password": "correct horse battery"], token: "")
            let recovery = try await api.call(
                .post,
                "/api/v1/session/second-factor",
                ["challenge": try #require(third["challenge"] as? String), "code": codes[3].uppercased()]
            )
            #expect(recovery["method"] as? String == "recovery_code" && recovery["recovery_codes_remaining"] as? Int == 9)

            let events = try #require(try await api.call(.get, "/api/v1/account/events")["events"] as? [[String: Any]])
            let kinds = Set(events.compactMap { $0["kind"] as? String })
            #expect(
                kinds.isSuperset(of: [
                    "signed_up", "two_factor_enabled", "recovery_codes_generated", "device_trusted", "device_revoked", "recovery_code_used",
                ])
            )

            #expect(try await api.call(.post, "/api/v1/account/two-factor/disable", [:]).status == .unprocessableContent)  // never a bare click
            #expect(try await api.call(.post, "/api/v1/account/two-factor/disable", ["password": "nope"]).status == .unauthorized)
            let off = try await api.call(.post, "/api/v1/account/two-factor/disable", ["password": "correct horse battery"])
            #expect(off["enabled"] as? Bool == false)
            api.token = try #require(off["token"] as? String, "disabling gives this session a new token")
            #expect((try await api.call(.get, "/api/v1/account/two-factor")["enabled"] as? Bool) == false)

            #expect(try await api.call(.post, "/api/v1/account/password", ["current": "nope", "new": "a new password"]).status == .unauthorized)
            #expect(
                try await api.call(.post, "/api/v1/account/password", ["current": "correct horse battery", "new": "short"]).status
                    == .unprocessableContent
            )
            let changed = try await api.call(.post, "/api/v1/account/password", ["current": "correct horse battery", "new": "a new password"])
            #expect(changed.status == .ok && changed["token"] is String)
            #expect(
                try await api.call(.post, "/api/v1/session", ["email": "eve@example.com", "password": "a new password"], token: "")["token"] != nil
            )
        }
    }

    @Test func smsOverJSON() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            var api = APIClient(client: client)
            api.token = try #require(
                try await api.call(.post, "/api/v1/account", ["email": "fay@example.com", "password": "correct horse battery"])["token"] as? String
            )
            try await api.reauthenticate()
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "12345"]).errorCode == "invalid_field")
            let sent = try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31 6 1234 5678"])
            #expect(sent.status == .accepted)
            #expect((sent["sent_to"] as? String)?.hasSuffix("78") == true && (sent["sent_to"] as? String)?.contains("1234") == false)
            let confirmed = try await api.call(.post, "/api/v1/account/two-factor/sms/confirm", ["code": try server.lastCode()])
            #expect(confirmed["enabled"] as? Bool == true)

            // A relying service asks for a sign-in text; the 60 s cooldown answers 429 with Retry-After.
            let service = APIClient(client: client, token: key)
            server.clock.advance(61)
            #expect(try await service.call(.post, "/api/v1/users/fay@example.com/sms", [:]).status == .accepted)
            let limited = try await service.call(.post, "/api/v1/users/fay@example.com/sms", [:])
            #expect(limited.status == .tooManyRequests && limited.errorCode == "sms_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") == 60)
            #expect(try await service.call(.post, "/api/v1/users/fay@example.com/sms", ["to": "recovery_phone"]).errorCode == "no_phone")
            #expect(try await service.call(.post, "/api/v1/users/fay@example.com/sms", ["to": "pigeon"]).status == .unprocessableContent)
            let valid = try await service.call(.post, "/api/v1/validate", ["user": "fay@example.com", "code": try server.lastCode()])
            #expect(valid["valid"] as? Bool == true && valid["method"] as? String == "sms")

            // The account holder's own sign-in by SMS.
            server.clock.advance(61)
            let first = try await api.call(.post, "/api/v1/session", ["email": "fay@example.com", "password": "correct horse battery"], token: "")
            let challenge = try #require(first["challenge"] as? String)
            #expect(try await api.call(.post, "/api/v1/session/sms", ["challenge": challenge]).status == .accepted)
            let second = try await api.call(.post, "/api/v1/session/second-factor", ["challenge": challenge, "code": try server.lastCode()])
            #expect(second["method"] as? String == "sms")
        }
    }

    /// SPEC F8 over JSON: adding, changing and removing the recovery phone need re-authentication.
    @Test func recoveryPhoneChangesNeedReauthentication() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            var api = APIClient(client: client)
            api.token = try #require(
                try await api.call(.post, "/api/v1/account", ["email": "gil@example.com", "password": "correct horse battery"])["token"] as? String
            )
            let add = try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": "+31612345678"])
            #expect(add.status == .forbidden && add.errorCode == "reauthentication_required")
            try await api.reauthenticate()
            server.clock.advance(11 * 60)  // the re-authentication has run out
            #expect(try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": "+31612345678"]).status == .forbidden)
            try await api.reauthenticate()
            #expect(try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": "+31612345678"]).status == .accepted)
            #expect(try await api.call(.post, "/api/v1/account/recovery-phone/confirm", ["code": try server.lastCode()]).status == .ok)
            #expect((try await api.call(.get, "/api/v1/account/two-factor")["recovery_phone"] as? String)?.hasSuffix("78") == true)

            server.clock.advance(11 * 60)
            let change = try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": "+31687654321"])
            #expect(change.status == .forbidden && change.errorCode == "reauthentication_required")
            let remove = try await api.call(.delete, "/api/v1/account/recovery-phone")
            #expect(remove.status == .forbidden && remove.errorCode == "reauthentication_required")
            try await api.reauthenticate()
            #expect(try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": "+31687654321"]).status == .accepted)
            #expect(try await api.call(.delete, "/api/v1/account/recovery-phone").status == .noContent)
            // A failed call would have no recovery_phone either: check it answered the status first.
            let after = try await api.call(.get, "/api/v1/account/two-factor")
            #expect(after.status == .ok && after["enabled"] as? Bool == false, "\(after.text)")
            #expect(after["recovery_phone"] == nil)
        }
    }

    @Test(
        "bad input gets a JSON 4xx, never a 500",
        arguments: [
            ("/api/v1/validate", #"{"user": "a@example.com", "code": "#, "malformed_json"),
            ("/api/v1/validate", "", "malformed_json"),
            ("/api/v1/validate", "[1, 2]", "malformed_json"),
            ("/api/v1/validate", "null", "malformed_json"),
            ("/api/v1/validate", #"{"user": 5, "code": "123456"}"#, "invalid_field"),
            ("/api/v1/validate", #"{"user": null, "code": "123456"}"#, "invalid_field"),
            ("/api/v1/validate", #"{"user": "a@example.com"}"#, "invalid_field"),
            ("/api/v1/validate", #"{"user": ["a"], "code": {"x": 1}}"#, "invalid_field"),
            (
                "/api/v1/validate", #"{"user": "a@example.com", "code": "1234567890123456789012345678901234567890123456789012345678901234567890"}"#,
                "invalid_field"
            ),
            ("/api/v1/validate", #"{"user": "' OR 1=1; DROP TABLE users; --", "code": "123456"}"#, "unknown_user"),
            ("/api/v1/validate", #"{"user": "a@example.com\u0000", "code": "\u0000"}"#, "unknown_user"),
            ("/api/v1/users", #"{"email": "x@example.com'); DROP TABLE users; --"}"#, "invalid_field"),
            ("/api/v1/users", #"{"email": "ok@example.com", "password": 12345678}"#, "invalid_field"),
            ("/api/v1/users", #"{"email": "ok@example.com", "totp": "JBSWY3DPEHPK3PXP"}"#, "invalid_field"),
            ("/api/v1/session", #"{"email": "a@example.com", "password": true}"#, "invalid_field"),
            ("/api/v1/session/second-factor", #"{"challenge": "", "code": "123456"}"#, "invalid_challenge"),
            ("/api/v1/session/sms", #"{"challenge": "x", "to": 7}"#, "invalid_field"),
            ("/api/v1/account", #"{"email": "a@example.com", "password": "short"}"#, "invalid_field"),
            ("/api/v1/account", #"{"email": "not an address", "password": "long enough password"}"#, "invalid_field"),
        ]
    )
    func badInput(path: String, body: String, code: String) async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let reply = try await APIClient(client: client, token: key).send(.post, path, raw: body)
            #expect((400..<500).contains(reply.status.code), "\(reply.status) \(reply.text)")
            #expect(reply.errorCode == code, "\(reply.text)")
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try await server.store.allUsers().count <= 1)  // the table is still there
        }
    }

    @Test func abusiveBodies() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let api = APIClient(client: client, token: key)
            let huge = try await api.send(.post, "/api/v1/validate", raw: #"{"user": ""# + String(repeating: "a", count: 100_000) + #""}"#)
            #expect(huge.status == .contentTooLarge && huge.errorCode == "body_too_large")
            let deep = try await api.send(.post, "/api/v1/validate", raw: String(repeating: #"{"a":"#, count: 5_000))
            #expect(deep.status == .badRequest)
            let deepArrays = try await api.send(
                .post,
                "/api/v1/validate",
                raw: String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
            )
            #expect(deepArrays.status == .badRequest)
            let badUTF8 = try await api.send(
                .post,
                "/api/v1/validate",
                raw: nil,
                bytes: Array(#"{"user": ""#.utf8) + [0xFF, 0xFE, 0xC0] + Array(#"", "code": "1"}"#.utf8)
            )
            #expect(badUTF8.status == .badRequest && badUTF8.errorCode == "malformed_json")
            // Unknown fields are ignored, not an error.
            #expect(try await api.call(.post, "/api/v1/users", ["email": "gus@example.com", "admin": true, "role": "root"]).status == .created)
            // No route: JSON 404; a known route with another method: 405 with Allow.
            let missing = try await api.call(.get, "/api/v1/nothing")
            #expect(missing.status == .notFound && missing.errorCode == "not_found")
            let method = try await api.call(.put, "/api/v1/validate")
            #expect(method.status == .methodNotAllowed && method.headers[.allow] == "POST")
            let devices = try await api.call(.post, "/api/v1/account/trusted-devices/7")
            #expect(devices.status == .methodNotAllowed && devices.headers[.allow] == "DELETE")
            let authorization = try await api.send(.get, "/api/v1/account", raw: nil, token: String(repeating: "x", count: 10_000))
            #expect(authorization.status == .unauthorized)
        }
    }

    /// An unexpected error answers 500 with nothing of its cause, and the log names the cause by type
    /// only: an error's description may quote a value it was given (SPEC §2, no secrets in logs).
    @Test(arguments: [false, true]) func anUnexpectedErrorIsLoggedByTypeOnly(json: Bool) async throws {
        struct QuotingError: Error, CustomStringConvertible {
            var description: String { "could not store JBSWY3DPEHPK3PXP for dave@example.com" }
        }
        let logs = LogCapture(json: json)
        let router = Router(context: TwoStepRequestContext.self)
        router.add(middleware: APIErrorMiddleware(routes: APIRouteList()))
        router.get("/api/v1/broken") { _, _ -> Response in throw QuotingError() }
        let app = Application(router: router, logger: logs.logger())
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: "/api/v1/broken", method: .get, headers: [:], body: nil)
            #expect(response.status == .internalServerError)
            #expect(String(buffer: response.body).contains(#""internal""#))
            #expect(!String(buffer: response.body).contains("JBSWY3DPEHPK3PXP"))
        }
        let line = try #require(logs.allLines.first { $0.contains("API request failed") })
        #expect(line.contains(json ? #""error_type":""# : " error_type=") && line.contains("QuotingError"), "\(line)")
        #expect(!logs.text.contains("JBSWY3DPEHPK3PXP"), "\(logs.text)")
        #expect(!logs.text.contains("dave@example.com"), "\(logs.text)")
    }

    @Test func theOpenAPIDocumentListsExactlyTheRoutes() async throws {
        let server = try await TestServer.make()
        let routes = APIRouteList()
        _ = try buildRouter(server.configuration, parts: server.parts, passwordHasher: TestServer.hasher, apiRoutes: routes)
        try await server.parts.database.close()

        let text = String(decoding: PackageResources.openapi_json, as: UTF8.self)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        let registered = Set(routes.all)
        #expect(registered.count == routes.all.count, "a route is registered twice")
        #expect(registered.subtracting(documented).isEmpty, "routes missing from the document: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented routes that do not exist: \(documented.subtracting(registered).sorted())")

        // Every reference (to a schema or a shared response) resolves, and every operation has a success response.
        let components = try #require(document["components"] as? [String: Any])
        let references = text.matches(of: /"\$ref": "#\/components\/([A-Za-z]+)\/([A-Za-z]+)"/).map { (String($0.1), String($0.2)) }
        let dangling = references.filter { kind, name in (components[kind] as? [String: Any])?[name] == nil }.map { "\($0)/\($1)" }
        #expect(references.contains { $0.0 == "schemas" })
        #expect(references.contains { $0.0 == "responses" })
        #expect(dangling.isEmpty, "references that resolve to nothing: \(dangling)")
        #expect(text.matches(of: /"\$ref"/).count == references.count, "a reference outside #/components/schemas or #/components/responses")
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try #require((operation as? [String: Any])?["responses"] as? [String: Any])
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path) has no success response")
            }
        }
    }

    @Test func theDocumentIsServed() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let reply = try await APIClient(client: client).call(.get, "/api/v1/openapi.json")
            #expect(reply.status == .ok && reply.json["openapi"] as? String == "3.1.0")
        }
    }
}
