import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 12 item 6: the help desk's answer to a lockout must not turn 2FA off.
@Suite("Operator unlock and reset")
struct OperatorTests {
    @Test func unlockClearsTheLockButTheAttackerStillNeedsACode() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("ann@example.com")
            let totp = try await owner.enableApp(at: server.clock)

            // An attacker with the password locks the account with wrong codes.
            let attacker = Browser(client)
            for _ in 1...5 {
                if try await attacker.get("/signin/code").location != nil { _ = try await attacker.signIn("ann@example.com") }
                _ = try await attacker.post("/signin/code", ["code": "000000"])
            }
            let waiting = try await attacker.post("/signin/code", ["code": "000000"])
            #expect(waiting.text.contains("Too many wrong codes"))

            // The help desk unlocks: the wait is gone, the factor stays.
            let line = try await OperatorActions(parts: server.parts).unlock(email: "ann@example.com", actor: "helpdesk-bob")
            #expect(line.contains("unlocked ann@example.com"))
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(try await server.services.lockout.failures(.codes(userID: user.id)) == .none)
            #expect(try await server.store.factors(userID: user.id).map(\.kind) == [.totp])
            let events = try await server.store.events(userID: user.id, limit: 5)
            #expect(events.contains { $0.kind == .operatorUnlock && $0.detail.contains("helpdesk-bob") }, "the operator is recorded")

            // The password alone still stops at the code; the owner, with the app, signs in at once.
            #expect(try await attacker.signIn("ann@example.com").location == "/signin/code")
            #expect(try await attacker.post("/signin/code", ["code": "000000"]).text.contains("not right"), "codes are checked again")
            let again = Browser(client)
            #expect(try await again.signIn("ann@example.com").location == "/signin/code")
            server.clock.advance(30)
            #expect(try await again.post("/signin/code", ["code": totp.code(at: server.clock.now)]).location == "/profile")
        }
    }

    @Test func resetEndsEverySessionAndTheNextSignInMustEnrol() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let owner = Browser(client)
            try await owner.signUp("ann@example.com")
            let totp = try await owner.enableApp(at: server.clock)
            let api = try await SessionEndTests.apiSession(client, totp: totp, clock: server.clock)

            let line = try await OperatorActions(parts: server.parts).resetTwoFactor(email: "ann@example.com", actor: "helpdesk-bob")
            #expect(line.contains("every session ended"))
            #expect(try await owner.get("/profile").location == "/signin", "the browser session ended")
            #expect(try await api.call(.get, "/api/v1/account").status == .unauthorized, "the API token ended")
            let user = try #require(try await server.store.user(email: "ann@example.com"))
            #expect(
                try await server.store.events(userID: user.id, limit: 5).contains { $0.kind == .operatorReset && $0.detail.contains("helpdesk-bob") }
            )

            // The next sign-in goes straight to enrolment, and nothing else opens until a method is on.
            #expect(try await owner.signIn("ann@example.com").location == "/profile/two-factor/enable")
            for page in ["/profile", "/profile/two-factor", "/profile/two-factor/recovery-codes"] {
                #expect(try await owner.get(page).location == "/profile/two-factor/enable", "\(page)")
            }
            #expect(
                try await owner.post("/profile/password", ["current": "correct horse battery", "new": "another password"]).location
                    == "/profile/two-factor/enable"
            )
            _ = try await owner.enableApp(at: server.clock)
            #expect(try await owner.get("/profile").status == .ok, "a method is on: everything opens again")
            #expect(try await server.store.user(email: "ann@example.com")?.enrolmentRequired == false)
        }
    }

    @Test func afterAResetTheAPISignInAnswersEnrolmentRequired() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await Browser(client).signUp("ann@example.com")
            _ = try await OperatorActions(parts: server.parts).resetTwoFactor(email: "ann@example.com", actor: "ops")
            var api = APIClient(client: client)
            let signIn = try await api.call(.post, "/api/v1/session", ["email": "ann@example.com", "password": "correct horse battery"])
            #expect(signIn["status"] as? String == "enrolment_required")
            api.token = try #require(signIn["token"] as? String)
            #expect(try await api.call(.get, "/api/v1/account").errorCode == "enrolment_required")
            #expect(try await api.call(.get, "/api/v1/account/events").errorCode == "enrolment_required")
            #expect(try await api.call(.get, "/api/v1/account/two-factor").status == .ok)
            try await api.reauthenticate()
            let enrolment = try await api.call(.post, "/api/v1/account/two-factor/app")
            let totp = try TOTP(secret: try Base32.decode(try #require(enrolment["secret"] as? String)))
            let enabled = try await api.call(.post, "/api/v1/account/two-factor/app/confirm", ["code": totp.code(at: server.clock.now)])
            #expect(enabled["enabled"] as? Bool == true)
            #expect(try await api.call(.get, "/api/v1/account").status == .ok)
        }
    }
}
