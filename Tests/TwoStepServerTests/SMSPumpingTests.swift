import Foundation
import HTTPTypes
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// SMS pumping (issue 12, High 2): every path that texts a code counts toward the same limits,
/// over a send log that restarting an enrolment, enrolling an app or disabling cannot shorten.
/// Each test counts the messages that actually left (the outbox).
@Suite("SMS pumping")
struct SMSPumpingTests {
    static let number = "+31612345612"
    static let recoveryNumber = "+31612345699"

    /// The attack as found: restarting the phone enrolment deleted the pending factor and with it
    /// the challenges the limits were counted over — 25 texts to one number in 2 s, and 25 more
    /// from a second account. Now the cooldown holds: one text per account.
    @Test func restartingAnEnrolmentSendsNothingMore() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            for email in ["mallory@example.com", "mallory2@example.com"] {
                let browser = Browser(client)
                try await browser.signUp(email)
                try await browser.reauthenticate()
                for attempt in 1...25 {
                    if attempt % 5 == 0 { try await browser.post("/profile/two-factor/app") }  // an app enrolment in between
                    try await browser.post("/profile/two-factor/sms", ["phone": Self.number])
                }
            }
            #expect(try server.outbox().count == 2, "one text per account, not 25")
        }
    }

    /// Every path, one account, then a second account on the same number: 5 per account per hour,
    /// 10 per number per day, whatever was deleted in between.
    @Test func everyPathCountsTowardTheSameLimits() async throws {
        let server = try await TestServer.make()
        let key = try await server.apiKey()
        try await server.run { client in
            let browser = Browser(client)
            let service = APIClient(client: client, token: key)
            func sent(_ expected: Int, _ note: Comment, sourceLocation: SourceLocation = #_sourceLocation) throws {
                #expect(try server.outbox().count == expected, note, sourceLocation: sourceLocation)
            }
            func step() { server.clock.advance(61) }

            // Hour 1, alice: enrol, app enrolment in between, re-enrol, resend, restart at once,
            // recovery phone, disable in between, the account API.
            try await browser.signUp("alice@example.com")
            try await browser.reauthenticate()
            try await browser.post("/profile/two-factor/sms", ["phone": Self.number])
            try sent(1, "enrol")
            step()
            try await browser.post("/profile/two-factor/app")
            try await browser.post("/profile/two-factor/sms", ["phone": Self.number])
            try sent(2, "re-enrol after an app enrolment")
            step()
            try await browser.post("/profile/two-factor/sms/resend")
            try sent(3, "resend")
            let restarted = try await browser.post("/profile/two-factor/sms", ["phone": Self.number])
            #expect(restarted.status == .tooManyRequests && restarted.text.contains("less than a minute ago"))
            try sent(3, "restarting at once is the cooldown")
            #expect(try await browser.post("/profile/two-factor/sms/activate", ["code": try server.lastCode()]).location != nil)
            step()
            try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": "/profile/two-factor"])
            try await browser.post("/profile/two-factor/recovery-phone", ["phone": Self.recoveryNumber])
            try sent(4, "recovery phone")
            let disabled = try await browser.post("/profile/two-factor/disable", ["password": "correct horse battery"])
            #expect(disabled.location == "/profile/two-factor?done=disabled", "every factor and challenge deleted")
            step()
            var api = APIClient(client: client)
            api.token = try #require(
                try await api.call(.post, "/api/v1/session", ["email": "alice@example.com", "password": "correct horse battery"])["token"] as? String
            )
            try await api.reauthenticate()
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": Self.number]).status == .accepted)
            try sent(5, "the account API")
            step()
            try await api.reauthenticate()
            let hourly = try await api.call(.post, "/api/v1/account/recovery-phone", ["phone": Self.recoveryNumber])
            #expect(hourly.status == .tooManyRequests && hourly.errorCode == "sms_limited")
            let page = try await browser.post("/profile/two-factor/sms", ["phone": Self.number])
            #expect(page.status == .tooManyRequests && page.text.contains("5 codes in the last hour"))
            try sent(5, "5 per account per hour, after a disable and two restarts")
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms/confirm", ["code": try server.lastCode()])["enabled"] as? Bool == true)

            // Hour 2 (the sessions have expired): sign-in texts on the page, a recovery phone, the
            // recovery-phone sign-in, the service API, the session API.
            server.clock.advance(3_600)
            #expect(try await browser.signIn("alice@example.com").location == "/signin/code")
            #expect(try await browser.post("/signin/sms").status == .ok)
            try sent(6, "sign-in text")
            #expect(try await browser.post("/signin/code", ["code": try server.lastCode()]).location == "/profile")
            step()
            try await browser.post("/profile/confirm", ["password": "correct horse battery", "next": "/profile/two-factor"])
            try await browser.post("/profile/two-factor/recovery-phone", ["phone": Self.recoveryNumber])
            #expect(
                try await browser.post("/profile/two-factor/recovery-phone/activate", ["code": try server.lastCode()]).location
                    == "/profile/two-factor?done=recovery-phone"
            )
            try sent(7, "recovery phone")
            try await browser.signOut()
            step()
            _ = try await browser.signIn("alice@example.com")
            #expect(try await browser.post("/signin/recovery-phone").status == .ok)
            try sent(8, "recovery-phone sign-in")
            step()
            #expect(try await service.call(.post, "/api/v1/users/alice@example.com/sms", [:]).status == .accepted)
            try sent(9, "the service API")
            step()
            let first = try await api.call(.post, "/api/v1/session", ["email": "alice@example.com", "password": "correct horse battery"], token: "")
            let challenge = try #require(first["challenge"] as? String)
            #expect(try await api.call(.post, "/api/v1/session/sms", ["challenge": challenge]).status == .accepted)
            try sent(10, "the session API")
            step()
            let refused = try await service.call(.post, "/api/v1/users/alice@example.com/sms", ["to": "recovery_phone"])
            #expect(refused.status == .tooManyRequests && refused.errorCode == "sms_limited")
            try sent(10, "5 per account per hour, on the sign-in paths too")

            // To alice's number so far: 1, 2, 3, 5 (hour 1) and 6, 9, 10 (hour 2): 7 today.
            // Bob, a second account, may send it 3 more, whatever he restarts.
            let bob = Browser(client)
            try await bob.signUp("bob@example.com")
            try await bob.reauthenticate()
            try await bob.post("/profile/two-factor/sms", ["phone": Self.number])
            step()
            try await bob.post("/profile/two-factor/sms/resend")
            step()
            try await bob.post("/profile/two-factor/app")
            try await bob.post("/profile/two-factor/sms", ["phone": Self.number])
            try sent(13, "bob's three")
            step()
            let daily = try await bob.post("/profile/two-factor/sms", ["phone": Self.number])
            #expect(daily.status == .tooManyRequests && daily.text.contains("10 codes today"))
            try sent(13, "10 per number per day across accounts")
            #expect(try server.outbox().filter { $0.to == Self.number }.count == 10)
        }
    }

    /// The server-wide budget caps what many accounts and many numbers can cost, and lifts with time.
    @Test func theServerBudgetHoldsAcrossAccountsAndNumbers() async throws {
        let server = try await TestServer.make {
            $0.smsLimits.serverPerHour = 3
            $0.smsLimits.serverPerDay = 5
        }
        try await server.run { client in
            for index in 0..<4 {
                let browser = Browser(client)
                try await browser.signUp("user\(index)@example.com")
                try await browser.reauthenticate()
                let page = try await browser.post("/profile/two-factor/sms", ["phone": "+3161234500\(index)"])
                if index < 3 {
                    #expect(page.status == .ok)
                } else {
                    #expect(page.status == .tooManyRequests && page.text.contains("paused on this server"))
                }
            }
            #expect(try server.outbox().count == 3)
            #expect(server.logs.text.contains("SMS budget of the server spent"), "the operator is told")

            var api = APIClient(client: client)
            api.token = try #require(
                try await api.call(.post, "/api/v1/account", ["email": "late@example.com", "password": "correct horse battery"])["token"] as? String
            )
            try await api.reauthenticate()
            let limited = try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31612345099"])
            #expect(limited.status == .tooManyRequests && limited.errorCode == "sms_limited" && limited.headers[.retryAfter] != nil)

            server.clock.advance(3_601)
            api.token = try #require(
                try await api.call(.post, "/api/v1/session", ["email": "late@example.com", "password": "correct horse battery"])["token"] as? String,
                "signed in again: the session expired"
            )
            try await api.reauthenticate()
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31612345099"]).status == .accepted)
            server.clock.advance(61)
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31612345098"]).status == .accepted)
            server.clock.advance(61)
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+31612345097"]).status == .tooManyRequests, "the day's 5")
            #expect(try server.outbox().count == 5)
        }
    }

    /// Concurrent requests cannot slip past a limit together: a burst from one account sends one
    /// text (the cooldown), and a burst from 29 more accounts sends exactly the rest of the server's hourly budget.
    @Test func burstsCannotExceedTheLimits() async throws {
        let server = try await TestServer.make { $0.smsLimits.serverPerHour = 10 }
        try await server.run { client in
            var tokens: [String] = []
            for index in 0..<30 {
                var api = APIClient(client: client)
                let created = try await api.call(
                    .post,
                    "/api/v1/account",
                    ["email": "burst\(index)@example.com", "password": "correct horse battery"]
                )
                api.token = try #require(created["token"] as? String)
                try await api.reauthenticate()  // adding a method needs it (issue 12)
                tokens.append(try #require(api.token))
            }
            let one = tokens[0]
            let single = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await APIClient(client: client, token: one).call(.post, "/api/v1/account/two-factor/sms", ["phone": Self.number]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(single.filter { $0 == .accepted }.count == 1)
            #expect(try server.outbox().count == 1)

            let many = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for (index, token) in tokens.enumerated().dropFirst() {
                    group.addTask {
                        try await APIClient(client: client, token: token).call(
                            .post,
                            "/api/v1/account/two-factor/sms",
                            ["phone": "+316123450\(10 + index)"]
                        ).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(many.filter { $0 == .accepted }.count == 9, "the hour's 10, with the first")
            #expect(many.filter { $0 == .tooManyRequests }.count == 20)
            #expect(try server.outbox().count == 10)
        }
    }

    /// Premium and special ranges are refused unless allowed; an allow-list limits the countries.
    @Test func destinationsOutsideTheAllowListAreRefused() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("ivan@example.com")
            try await browser.reauthenticate()
            for premium in ["+882 1234 5678", "+1 900 555 0123", "+979 1234 5678", "+881 6 1234 5678"] {
                let page = try await browser.post("/profile/two-factor/sms", ["phone": premium])
                #expect(page.status == .unprocessableContent && page.text.contains("does not send text messages to that number"), "\(premium)")
            }
            var api = APIClient(client: client)
            api.token = try #require(
                try await api.call(.post, "/api/v1/account", ["email": "judy@example.com", "password": "correct horse battery"])["token"] as? String
            )
            try await api.reauthenticate()
            let refused = try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+883 5100 1234 5678"])
            #expect(refused.status == .unprocessableContent && refused.errorCode == "sms_destination_refused")
            #expect(try server.outbox().isEmpty)
            let user = try #require(try await server.store.user(email: "ivan@example.com"))
            #expect(try await server.store.factors(userID: user.id).isEmpty, "nothing pending")
            #expect(try await api.call(.post, "/api/v1/account/two-factor/sms", ["phone": "+44 7700 900123"]).status == .accepted)
        }

        let limited = try await TestServer.make {
            $0.smsDestinations = SMSDestinationPolicy(allowedPrefixes: ["31", "49"], allowedSpecialPrefixes: ["882"])
        }
        try await limited.run { client in
            let browser = Browser(client)
            try await browser.signUp("ken@example.com")
            try await browser.reauthenticate()
            #expect(try await browser.post("/profile/two-factor/sms", ["phone": "+44 7700 900123"]).status == .unprocessableContent)
            #expect(try await browser.post("/profile/two-factor/sms", ["phone": "+882 1234 5678"]).status == .ok, "allowed by the operator")
            limited.clock.advance(61)
            #expect(try await browser.post("/profile/two-factor/sms", ["phone": "+49 151 2345 6789"]).status == .ok)
            #expect(try limited.outbox().map(\.to) == ["+88212345678", "+4915123456789"])
        }
    }
}
