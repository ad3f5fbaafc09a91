import Foundation
import HTTPTypes
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Who owns an account (issue 12, High 3): self sign-up shares the address namespace with the
/// relying services, so an attacker can sign up as `ceo@corp.example` first and enrol their own
/// app. API keys have scopes and a reach; a service may name its accounts by its own ids.
@Suite("API key scopes and reach")
struct ServiceReachTests {
    /// A key as `twostep apikey create` makes it by default: everything but audit, own accounts only.
    static func defaultKey(_ server: TestServer, _ name: String) async throws -> String {
        try await server.apiKey(name, scopes: APIKeyScope.defaults, reach: .own)
    }

    /// The attack: the attacker signs up as the CEO and enrols an app. A reach-limited key gets
    /// "unknown user" for that account — the same status and body as for nobody — on every route;
    /// it is not handed the account when it provisions the address, and may name the CEO by its own id.
    @Test func aSquattedAddressIsOutsideAReachLimitedKey() async throws {
        let server = try await TestServer.make()
        let key = try await Self.defaultKey(server, "vpn")
        let legacy = try await server.apiKey("legacy")  // a key made before scopes: every account
        try await server.run { client in
            let attacker = Browser(client)
            try await attacker.signUp("ceo@corp.example")
            let attackersApp = try await attacker.enableApp(at: server.clock)
            server.clock.advance(30)

            let vpn = APIClient(client: client, token: key)
            let nobody = try await vpn.call(
                .post,
                "/api/v1/validate",
                ["user": "nobody@corp.example", "code": attackersApp.code(at: server.clock.now)]
            )
            let squatted = try await vpn.call(
                .post,
                "/api/v1/validate",
                ["user": "ceo@corp.example", "code": attackersApp.code(at: server.clock.now)]
            )
            #expect(nobody.status == .notFound && nobody.errorCode == "unknown_user")
            #expect(squatted.status == nobody.status && squatted.text == nobody.text, "out of reach looks exactly like nobody")
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/v1/users/ceo@corp.example"), (.post, "/api/v1/users/ceo@corp.example/totp"),
                (.post, "/api/v1/users/ceo@corp.example/sms"), (.post, "/api/v1/users/ceo@corp.example/recovery-codes"),
            ] {
                let reply = try await vpn.call(method, path, [:])
                let unknown = try await vpn.call(method, path.replacingOccurrences(of: "ceo@", with: "nobody@"), [:])
                #expect(reply.status == .notFound && reply.text == unknown.text, "\(method) \(path)")
            }

            // Provisioning the address does not hand over the attacker's account.
            let taken = try await vpn.call(.post, "/api/v1/users", ["email": "ceo@corp.example"])
            #expect(taken.status == .conflict && taken.errorCode == "email_taken")
            #expect(try await vpn.call(.get, "/api/v1/users/ceo@corp.example").status == .notFound)

            // The service names the CEO by its own id: a separate account, enrolled by the service.
            let own = try await vpn.call(.post, "/api/v1/users", ["user": "ceo@corp.example"])
            #expect(own.status == .created && own["user"] as? String == "ceo@corp.example" && own["email"] == nil)
            #expect(own["origin"] as? String == "api_key")
            let enrolment = try await vpn.call(.post, "/api/v1/users/ceo@corp.example/totp")
            let ceosApp = try TOTP(secret: try Base32.decode(try #require(enrolment["secret"] as? String)))
            #expect(
                try await vpn.call(.post, "/api/v1/users/ceo@corp.example/totp/confirm", ["code": ceosApp.code(at: server.clock.now)]).status
                    == .ok
            )
            server.clock.advance(30)
            let attackerTries = try await vpn.call(
                .post,
                "/api/v1/validate",
                ["user": "ceo@corp.example", "code": attackersApp.code(at: server.clock.now)]
            )
            #expect(attackerTries.status == .ok && attackerTries["valid"] as? Bool == false, "the attacker's codes are not the CEO's")
            let ceoSignsIn = try await vpn.call(.post, "/api/v1/validate", ["user": "ceo@corp.example", "code": ceosApp.code(at: server.clock.now)])
            #expect(ceoSignsIn["valid"] as? Bool == true)

            // A key with reach "all" (every key made before scopes) sees the self-registered account, and its origin.
            let all = APIClient(client: client, token: legacy)
            let seen = try await all.call(.get, "/api/v1/users/ceo@corp.example")
            #expect(seen.status == .ok && seen["origin"] as? String == "signup" && seen["email"] as? String == "ceo@corp.example")
        }
    }

    /// Two services' `jdoe` are two accounts; neither collides with the other's or with an address.
    @Test func twoKeysOwnIDsAreSeparateAccounts() async throws {
        let server = try await TestServer.make()
        let vpnKey = try await Self.defaultKey(server, "vpn")
        let sshKey = try await Self.defaultKey(server, "ssh")
        try await server.run { client in
            let vpn = APIClient(client: client, token: vpnKey)
            let ssh = APIClient(client: client, token: sshKey)
            var apps: [TOTP] = []
            for service in [vpn, ssh] {
                #expect(try await service.call(.post, "/api/v1/users", ["user": "jdoe"]).status == .created)
                let enrolment = try await service.call(.post, "/api/v1/users/jdoe/totp")
                let app = try TOTP(secret: try Base32.decode(try #require(enrolment["secret"] as? String)))
                #expect(try await service.call(.post, "/api/v1/users/jdoe/totp/confirm", ["code": app.code(at: server.clock.now)]).status == .ok)
                apps.append(app)
            }
            #expect(try await vpn.call(.post, "/api/v1/users", ["user": "jdoe"]).errorCode == "user_taken")
            #expect(try await vpn.call(.post, "/api/v1/users", ["user": "j doe"]).errorCode == "invalid_field")
            #expect(try await vpn.call(.post, "/api/v1/users", ["user": "jdoe", "email": "j@example.com"]).errorCode == "invalid_field")
            server.clock.advance(30)
            let sshCodeAtVPN = try await vpn.call(.post, "/api/v1/validate", ["user": "jdoe", "code": apps[1].code(at: server.clock.now)])
            #expect(sshCodeAtVPN["valid"] as? Bool == false, "the SSH gateway's jdoe is not the VPN's")
            #expect(
                try await vpn.call(.post, "/api/v1/validate", ["user": "jdoe", "code": apps[0].code(at: server.clock.now)])["valid"] as? Bool == true
            )
            #expect(
                try await ssh.call(.post, "/api/v1/validate", ["user": "jdoe", "code": apps[1].code(at: server.clock.now)])["valid"] as? Bool == true
            )

            let users = try await server.store.allUsers()
            #expect(users.count == 2 && users.allSatisfy { $0.email == nil && $0.externalID == "jdoe" && $0.origin == .apiKey })
            #expect(Set(users.compactMap(\.apiKeyID)).count == 2)
            // The app shows the service's id as the account name.
            #expect(try await vpn.call(.get, "/api/v1/users/jdoe")["user"] as? String == "jdoe")
        }
    }

    /// A route outside the key's scopes answers 403, before anything about the account is read.
    @Test func scopesRefuseOtherRoutes() async throws {
        let server = try await TestServer.make()
        let validateOnly = try await server.apiKey("checker", scopes: [.validate], reach: .all)
        let provisioner = try await server.apiKey("provisioner", scopes: [.users, .enrol], reach: .all)
        let auditor = try await server.apiKey("auditor", scopes: [.audit], reach: .all)
        try await server.run { client in
            try await Browser(client).signUp("ann@example.com")
            let checker = APIClient(client: client, token: validateOnly)
            for (method, path) in [
                (HTTPRequest.Method.post, "/api/v1/users"), (.get, "/api/v1/users/ann@example.com"),
                (.post, "/api/v1/users/ann@example.com/totp"), (.post, "/api/v1/users/ann@example.com/totp/confirm"),
                (.post, "/api/v1/users/ann@example.com/recovery-codes"), (.get, "/api/v1/users/ann@example.com/events"),
            ] {
                let reply = try await checker.call(method, path, ["email": "x@example.com", "code": "123456"])
                #expect(reply.status == .forbidden && reply.errorCode == "scope_missing", "\(method) \(path): \(reply.text)")
            }
            #expect(try await checker.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": "123456"]).status == .ok)

            let provisioning = APIClient(client: client, token: provisioner)
            #expect(try await provisioning.call(.post, "/api/v1/validate", ["user": "ann@example.com", "code": "1"]).errorCode == "scope_missing")
            #expect(try await provisioning.call(.post, "/api/v1/users/ann@example.com/sms", [:]).errorCode == "scope_missing")
            #expect(try await provisioning.call(.post, "/api/v1/users/ann@example.com/totp").status == .created)

            let audit = try await APIClient(client: client, token: auditor).call(.get, "/api/v1/users/ann@example.com/events")
            let kinds = (audit["events"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
            #expect(audit.status == .ok && kinds?.last == "signed_up", "newest first: \(kinds ?? [])")
        }
    }

    /// An operator may put an existing account in a reach-limited key's reach.
    @Test func linkingPutsAnAccountInReach() async throws {
        let server = try await TestServer.make()
        let key = try await Self.defaultKey(server, "portal")
        try await server.run { client in
            try await Browser(client).signUp("ann@example.com")
            let portal = APIClient(client: client, token: key)
            #expect(try await portal.call(.get, "/api/v1/users/ann@example.com").status == .notFound)
            let actions = OperatorActions(parts: server.parts, configuration: server.configuration)
            #expect(try await actions.linkAPIKey(name: "portal", email: "Ann@example.com").contains("linked ann@example.com"))
            await #expect(throws: OperatorError.self) { try await actions.linkAPIKey(name: "portal", email: "ann@example.com") }
            await #expect(throws: OperatorError.self) { try await actions.linkAPIKey(name: "nope", email: "ann@example.com") }
            #expect(try await portal.call(.get, "/api/v1/users/ann@example.com").status == .ok)
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(try await server.store.events(userID: user.id, limit: 10).map(\.kind).contains(.apiKeyLinked), "the holder sees it")
        }
    }

    /// `--signup off`: neither the page nor the API makes accounts; operators and services still do.
    @Test func signUpOffRefusesThePageAndTheAPI() async throws {
        let server = try await TestServer.make { $0.signUp = .off }
        let key = try await Self.defaultKey(server, "portal")
        try await server.run { client in
            let browser = Browser(client)
            #expect(try await browser.get("/signin").text.contains("href=\"/signup\"") == false, "no link to a closed door")
            let page = try await browser.get("/signup")
            #expect(page.status == .forbidden && page.text.contains("Sign-up is closed"))
            let posted = try await browser.post("/signup", ["email": "eve@example.com", "password": "correct horse battery"])
            #expect(posted.status == .forbidden && posted.location == nil)
            let api = try await APIClient(client: client).call(
                .post,
                "/api/v1/account",
                ["email": "eve@example.com", "password": "correct horse battery"]
            )
            #expect(api.status == .forbidden && api.errorCode == "signup_closed")
            #expect(try await server.store.allUsers().isEmpty)

            #expect(try await APIClient(client: client, token: key).call(.post, "/api/v1/users", ["email": "eve@example.com"]).status == .created)
            let actions = OperatorActions(parts: server.parts, configuration: server.configuration)
            #expect(try await actions.addUser(email: "ops@example.com", password: "a long operator password").contains("added"))
            #expect(try await server.store.allUsers().map(\.origin) == [.apiKey, .operator])
        }
    }
}
