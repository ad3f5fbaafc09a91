import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 18: roles and the help-desk console at `/admin`, over real HTTP: every refusal, each
/// action's effect, and what staff never see.
@Suite("Help-desk console")
struct HelpDeskTests {
    /// A staff member signed in with two-factor authentication on, and a person (2FA on) to help.
    struct Desk {
        let staff: Browser
        let staffTOTP: TOTP
        let person: Browser
        let personTOTP: TOTP
        let personID: Int64

        var account: String { "/admin/accounts/\(personID)" }
    }

    /// Signs both up; the staff member's enrolment leaves them re-authenticated for 10 minutes.
    static func desk(
        _ client: any TestClientProtocol,
        _ server: TestServer,
        role: String = "support",
        person email: String = "pat@example.com",
        verified: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Desk {
        let person = Browser(client)
        if verified {
            try await EmailTests.signUpVerified(person, server, email, sourceLocation: sourceLocation)
        } else {
            try await person.signUp(email, sourceLocation: sourceLocation)
        }
        let personTOTP = try await person.enableApp(at: server.clock, sourceLocation: sourceLocation)
        let staff = Browser(client)
        staff.userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
        try await staff.signUp("desk-\(role)@example.com", sourceLocation: sourceLocation)
        let staffTOTP = try await staff.enableApp(at: server.clock, sourceLocation: sourceLocation)
        _ = try await OperatorActions(parts: server.parts).grantRole(role, email: "desk-\(role)@example.com", actor: "test")
        let user = try #require(try await server.store.user(email: email), sourceLocation: sourceLocation)
        return Desk(staff: staff, staffTOTP: staffTOTP, person: person, personTOTP: personTOTP, personID: user.id)
    }

    static func user(_ server: TestServer, _ id: Int64, sourceLocation: SourceLocation = #_sourceLocation) async throws -> User {
        try #require(try await server.store.user(id: id), sourceLocation: sourceLocation)
    }

    /// Puts the person's security codes under NIST's 100-failure lock, as a long campaign would.
    static func lock(_ server: TestServer, _ id: Int64, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let now = server.clock.now
        let failures = LockoutPolicy.Failures(
            consecutive: 100,
            runStartedAt: now.addingTimeInterval(-3 * 86_400),
            recent: [now.addingTimeInterval(-60)]
        )
        #expect(
            try await server.store.replaceThrottleState(key: "code:\(id)", expected: nil, new: failures.encoded, at: now.unixTime),
            sourceLocation: sourceLocation
        )
    }

    // MARK: Refusals

    @Test func aNonStaffAccountFindsNoConsole() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server)
            // The person is an ordinary account, re-authenticated and with 2FA on: still nothing.
            let person = desk.person
            try await person.reauthenticate()
            for path in ["/admin", "/admin?q=desk", "/admin/accounts/\(desk.personID)", "/admin/audit"] {
                let page = try await person.get(path)
                #expect(page.status == .notFound, "\(path): \(page.status)")
                #expect(!page.text.contains("desk-support"), "\(path)")
            }
            let staffID = try #require(try await server.store.user(email: "desk-support@example.com")).id
            let reset = try await person.post("/admin/accounts/\(staffID)/reset-two-factor", ["reason": "takeover"])
            #expect(reset.status == .notFound)
            let role = try await person.post("/admin/accounts/\(desk.personID)/role", ["role": "admin"])
            #expect(role.status == .notFound)
            #expect(try await Self.user(server, desk.personID).role == .none)
            #expect(try await server.services.twoFactor.isEnabled(for: try await Self.user(server, staffID)))
            // Signed out: the sign-in page, like every signed-in page.
            #expect(try await Browser(client).get("/admin").location == "/signin")
        }
    }

    @Test func staffWithoutTwoFactorAreToldSoAndSentToEnrol() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let person = Browser(client)
            try await person.signUp("pat@example.com")
            _ = try await person.enableApp(at: server.clock)
            let staff = Browser(client)
            try await staff.signUp("new-support@example.com")
            let granted = try await OperatorActions(parts: server.parts).grantRole("support", email: "new-support@example.com", actor: "test")
            #expect(granted.contains("cannot use the console until it turns two-factor authentication on"), "\(granted)")
            try await staff.reauthenticate()
            let home = try await staff.get("/admin")
            #expect(home.status == .forbidden)
            #expect(home.text.contains("Turn on two-factor authentication first"))
            #expect(home.text.contains(#"href="/profile/two-factor/enable""#))
            let id = try #require(try await server.store.user(email: "pat@example.com")).id
            let view = try await staff.get("/admin/accounts/\(id)")
            #expect(view.status == .forbidden && !view.text.contains("pat@example.com"))
            let reset = try await staff.post("/admin/accounts/\(id)/reset-two-factor", ["reason": "lost phone"])
            #expect(reset.status == .forbidden)
            #expect(try await server.services.twoFactor.isEnabled(for: try await Self.user(server, id)))
            // The profile's menu leads staff to the console.
            #expect(try await staff.get("/profile").text.contains(#"<a href="/admin">Help desk</a>"#))
            #expect(!(try await person.get("/profile").text.contains(#"href="/admin""#)))
        }
    }

    @Test func everyActionNeedsARecentReauthentication() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server)
            try await Self.lock(server, desk.personID)
            // Eleven minutes on, the staff member's "Confirm it's you" has run out; the session has not.
            server.clock.advance(11 * 60)
            let page = try await desk.staff.get(desk.account)
            #expect(page.status == .ok)
            #expect(page.text.contains("asks for your password or a security code first"))
            let next = "/profile/confirm?next=%2Fadmin%2Faccounts%2F\(desk.personID)"
            for action in ["unlock", "signout-everywhere", "revoke-devices", "reset-two-factor", "role"] {
                let refused = try await desk.staff.post("\(desk.account)/\(action)", ["reason": "ticket 7", "role": "support"])
                #expect(refused.status == .seeOther && refused.location == next, "\(action): \(refused.status) \(refused.location ?? "")")
            }
            let person = try await Self.user(server, desk.personID)
            #expect(try await server.services.twoFactor.verify(desk.personTOTP.code(at: server.clock.now), user: person) == .locked)
            #expect(try await server.services.twoFactor.isEnabled(for: person) && person.role == .none)
            #expect(try await desk.person.get("/profile").status == .ok, "still signed in")

            // Confirming goes back to the account; then the action goes ahead.
            try await desk.staff.reauthenticate(next: desk.account)
            #expect(try await desk.staff.post("\(desk.account)/unlock").location == "\(desk.account)?done=unlock")
        }
    }

    @Test func forgedFormsAreRefused() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, role: "admin")
            for action in ["signout-everywhere", "reset-two-factor", "role"] {
                let missing = try await desk.staff.post("\(desk.account)/\(action)", ["reason": "forged", "role": "admin"], csrf: false)
                #expect(missing.status == .forbidden, "\(action) without a token: \(missing.status)")
                let wrong = try await desk.staff.post(
                    "\(desk.account)/\(action)",
                    ["reason": "forged", "role": "admin", "csrf_token": RandomToken.generate()]
                )
                #expect(wrong.status == .forbidden, "\(action) with another token: \(wrong.status)")
            }
            let person = try await Self.user(server, desk.personID)
            #expect(person.role == .none)
            #expect(try await server.services.twoFactor.isEnabled(for: person))
            #expect(try await desk.person.get("/profile").status == .ok, "the person is still signed in")
        }
    }

    @Test func supportCannotChangeRolesOrTouchStaffAccounts() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server)
            let page = try await desk.staff.get(desk.account)
            #expect(page.status == .ok && !page.text.contains("/role\""), "support is offered no role form")
            let grant = try await desk.staff.post("\(desk.account)/role", ["role": "admin", "reason": "please"])
            #expect(grant.status == .forbidden && grant.text.contains("Only admins"), "\(grant.status)")
            #expect(try await Self.user(server, desk.personID).role == .none)
            let staffID = try #require(try await server.store.user(email: "desk-support@example.com")).id
            let raise = try await desk.staff.post("/admin/accounts/\(staffID)/role", ["role": "admin"])
            #expect(raise.status == .forbidden)
            #expect(try await Self.user(server, staffID).role == .support)

            // Another staff account: only an admin may act on it (its reset is how a takeover would start).
            let other = Browser(client)
            try await other.signUp("other-admin@example.com")
            _ = try await other.enableApp(at: server.clock)
            _ = try await OperatorActions(parts: server.parts).grantRole("admin", email: "other-admin@example.com", actor: "test")
            let adminID = try #require(try await server.store.user(email: "other-admin@example.com")).id
            let reset = try await desk.staff.post("/admin/accounts/\(adminID)/reset-two-factor", ["reason": "asked by phone"])
            #expect(reset.status == .forbidden && reset.text.contains("only an admin"), "\(reset.status)")
            #expect(try await server.services.twoFactor.isEnabled(for: try await Self.user(server, adminID)))
            #expect(try await desk.staff.get("/admin/audit").status == .forbidden, "the audit trail is for admins")
        }
    }

    @Test func staffCannotResetOrRaiseThemselves() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, role: "admin")
            let me = try #require(try await server.store.user(email: "desk-admin@example.com"))
            let page = try await desk.staff.get("/admin/accounts/\(me.id)")
            #expect(page.text.contains("This is your own account"))
            for (action, form) in [("reset-two-factor", ["reason": "mine"]), ("role", ["role": "none"]), ("unlock", [:])] {
                let refused = try await desk.staff.post("/admin/accounts/\(me.id)/\(action)", form)
                #expect(refused.status == .forbidden && refused.text.contains("your own account"), "\(action): \(refused.status)")
            }
            let after = try await Self.user(server, me.id)
            #expect(after.role == .admin)
            #expect(try await server.services.twoFactor.isEnabled(for: after))
        }
    }

    @Test func anActionOnAnAccountThatDoesNotExistIs404() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, role: "admin")
            #expect(try await desk.staff.get("/admin/accounts/999999").status == .notFound)
            #expect(try await desk.staff.get("/admin/accounts/not-a-number").status == .notFound)
            for action in ["unlock", "signout-everywhere", "revoke-devices", "reset-two-factor", "role"] {
                let page = try await desk.staff.post("/admin/accounts/999999/\(action)", ["reason": "ticket 9", "role": "support"])
                #expect(page.status == .notFound, "\(action): \(page.status)")
            }
            #expect(try await desk.staff.post("\(desk.account)/reset-two-factor", ["reason": "   "]).status == .unprocessableContent)
            #expect(try await desk.staff.post("\(desk.account)/role", ["role": "root"]).status == .unprocessableContent)
            #expect(try await server.services.twoFactor.isEnabled(for: try await Self.user(server, desk.personID)))
        }
    }

    // MARK: What each action does

    @Test func unlockLetsThePersonTryAgainWithTheirFactorsKept() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server)
            try await Self.lock(server, desk.personID)
            let locked = try await desk.staff.get(desk.account)
            #expect(locked.text.contains("locked (too many failures in a row)"))
            // The person cannot sign in: the right code is refused while locked.
            let person = Browser(client)
            #expect(try await person.signIn("pat@example.com").location == "/signin/code")
            server.clock.advance(30)
            let refused = try await person.post("/signin/code", ["code": desk.personTOTP.code(at: server.clock.now)])
            #expect(refused.location != "/profile" && refused.text.contains("locked"), "\(refused.status)")

            let done = try await desk.staff.post("\(desk.account)/unlock", ["reason": "ticket 12"])
            #expect(done.location == "\(desk.account)?done=unlock")
            let shown = try await desk.staff.get(done.location ?? "")
            #expect(shown.text.contains("Unlocked") && !shown.text.contains("locked (too many"))
            server.clock.advance(30)
            #expect(try await person.post("/signin/code", ["code": desk.personTOTP.code(at: server.clock.now)]).location == "/profile")
            let event = try #require(
                try await server.store.auditEvents(userID: desk.personID, since: nil, beforeID: nil, limit: 10).first { $0.kind == "operator_unlock" }
            )
            #expect(event.actorKind == "staff" && event.actorName == "desk-support@example.com")
            #expect(event.detail.contains("support desk-support@example.com") && event.detail.contains("reason: ticket 12"))
            #expect(event.clientAddress == "127.0.0.1")
        }
    }

    @Test func signOutEverywhereEndsThePersonsSessionsButNotTheStaffMembers() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server)
            let view = try await desk.staff.get(desk.account)
            #expect(view.text.contains(#"<table id="sessions">"#))
            let done = try await desk.staff.post("\(desk.account)/signout-everywhere", ["reason": "stolen laptop"])
            #expect(done.location == "\(desk.account)?done=signout-everywhere")
            #expect(try await desk.person.get("/profile").location == "/signin", "the person's session ended")
            let after = try await desk.staff.get(desk.account)
            #expect(after.status == .ok && after.text.contains("Not signed in anywhere"))
            let event = try #require(
                try await server.store.auditEvents(userID: desk.personID, since: nil, beforeID: nil, limit: 10).first {
                    $0.kind == "signed_out_everywhere"
                }
            )
            #expect(event.actorKind == "staff" && event.detail.contains("reason: stolen laptop") && event.clientAddress == "127.0.0.1")
        }
    }

    @Test func revokeTrustedDevicesMakesEveryBrowserAskAgain() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, role: "admin")
            // The person trusts this browser at sign-in.
            try await desk.person.signOut()
            #expect(try await desk.person.signIn("pat@example.com").location == "/signin/code")
            server.clock.advance(30)
            let signedIn = try await desk.person.post("/signin/code", ["code": desk.personTOTP.code(at: server.clock.now), "trust": "on"])
            #expect(signedIn.location == "/profile")
            let person = try await Self.user(server, desk.personID)
            #expect(try await server.services.devices.devices(of: person).count == 1)
            #expect(try await desk.staff.get(desk.account).text.contains(#"<table id="devices">"#))

            #expect(try await desk.staff.post("\(desk.account)/revoke-devices").location == "\(desk.account)?done=revoke-devices")
            #expect(try await server.services.devices.devices(of: person).isEmpty)
            try await desk.person.signOut()
            #expect(try await desk.person.signIn("pat@example.com").location == "/signin/code", "the browser asks for a code again")
            let event = try #require(
                try await server.store.auditEvents(userID: desk.personID, since: nil, beforeID: nil, limit: 20).first { $0.kind == "device_revoked" }
            )
            #expect(
                event.actorKind == "staff" && event.actorName == "desk-admin@example.com" && event.detail.contains("admin desk-admin@example.com")
            )
        }
    }

    @Test func resetRequiresEnrolmentMailsAnAlertAndIsAuditedWithActorReasonAndAddress() async throws {
        let server = try await TestServer.make()
        let services = server.services
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, verified: true)

            let missing = try await desk.staff.post("\(desk.account)/reset-two-factor", ["reason": ""])
            #expect(missing.status == .unprocessableContent && missing.text.contains("Give a reason"))
            #expect(try await services.twoFactor.isEnabled(for: try await Self.user(server, desk.personID)))

            let done = try await desk.staff.post("\(desk.account)/reset-two-factor", ["reason": "lost phone, ticket 42"])
            #expect(done.location == "\(desk.account)?done=reset-two-factor")
            let person = try await Self.user(server, desk.personID)
            #expect(person.enrolmentRequired)
            #expect(!(try await services.twoFactor.isEnabled(for: person)))
            #expect(try await desk.person.get("/profile").location == "/signin", "every session ended")
            #expect(try await desk.person.signIn("pat@example.com").location == "/profile/two-factor/enable", "the next sign-in must enrol")

            // The live server's own dispatcher may send it first: either way it arrives, once.
            _ = try await services.alerts.dispatch()
            func resets() async throws -> [MailMessage] {
                try await SecurityAlertTests.alerts(server).filter { $0.subject.text.contains("Two-factor authentication was reset") }
            }
            var alerts = try await resets()
            for _ in 0..<50 where alerts.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                alerts = try await resets()
            }
            #expect(alerts.count == 1)
            let alert = try #require(alerts.first)
            #expect(alert.to.address == "pat@example.com")

            let event = try #require(
                try await server.store.auditEvents(userID: desk.personID, since: nil, beforeID: nil, limit: 10).first { $0.kind == "operator_reset" }
            )
            #expect(event.actorKind == "staff" && event.actorName == "desk-support@example.com")
            #expect(event.detail.contains("reason: lost phone, ticket 42"))
            #expect(event.clientAddress == "127.0.0.1" && event.userAgent.contains("Firefox/133.0"))
        }
    }

    @Test func adminsChangeRolesAndReadTheAuditTrail() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, role: "admin")
            #expect(try await desk.staff.get(desk.account).text.contains(#"action="/admin/accounts/\#(desk.personID)/role""#))
            let done = try await desk.staff.post("\(desk.account)/role", ["role": "support", "reason": "joins the help desk"])
            #expect(done.location == "\(desk.account)?done=role")
            #expect(try await Self.user(server, desk.personID).role == .support)
            let trail = try await desk.staff.get("/admin/audit")
            #expect(trail.status == .ok)
            #expect(trail.text.contains("role_changed") && trail.text.contains("staff desk-admin@example.com"))
            #expect(trail.text.contains("help-desk role none → support by admin desk-admin@example.com; reason: joins the help desk"))
            // The new support member's console opens at once (their 2FA is on).
            #expect(try await desk.person.get("/admin").status == .ok)
            #expect(try await desk.staff.post("\(desk.account)/role", ["role": "none"]).location == "\(desk.account)?done=role")
            #expect(try await desk.person.get("/admin").status == .notFound)
        }
    }

    // MARK: What staff see

    @Test func searchIsBoundedAndMatchesPartsOfAddressesLiterally() async throws {
        let server = try await TestServer.make()
        for index in 0..<25 {
            _ = try await server.store.createUser(email: "zed\(index)@example.org", passwordHash: "!", at: server.clock.now.unixTime)
        }
        _ = try await server.store.createUser(email: "under_score@example.net", passwordHash: "!", at: server.clock.now.unixTime)
        try await server.runLive { client in
            let desk = try await Self.desk(client, server)
            let many = try await desk.staff.get("/admin?q=ZED")
            #expect(many.status == .ok)
            #expect(many.text.components(separatedBy: "/admin/accounts/").count - 1 == HelpDeskService.searchLimit)
            #expect(many.text.contains("Only the first 20 matches are shown"))
            #expect(try await desk.staff.get("/admin?q=ze").text.contains("Type at least 3 characters"))
            let one = try await desk.staff.get("/admin?q=r_s")
            #expect(one.text.contains("under_score@example.net") && one.text.components(separatedBy: "/admin/accounts/").count - 1 == 1)
            let wildcard = try await desk.staff.get("/admin?q=%25%25%25")
            #expect(wildcard.text.contains("No account’s address contains"), "% matches itself, not everything")
            let pat = try await desk.staff.get("/admin?q=pat%40")
            #expect(pat.text.contains(#"href="/admin/accounts/\#(desk.personID)""#))
        }
    }

    @Test func theAccountPageShowsNoSecretCodeTokenOrFullNumber() async throws {
        let server = try await TestServer.make()
        let services = server.services
        try await server.runLive { client in
            let desk = try await Self.desk(client, server, role: "admin")
            let person = try await Self.user(server, desk.personID)
            // A recovery phone and a set of recovery codes, straight into the store.
            let phone = try await server.store.createFactor(
                userID: person.id,
                kind: .recoveryPhone,
                sealedSecret: nil,
                phone: "+31612345678",
                algorithm: "SHA1",
                digits: 6,
                period: 30,
                at: server.clock.now.unixTime
            )
            try await server.store.confirmFactor(id: phone.id, lastUsedStep: nil, at: server.clock.now.unixTime)
            let codes = try await services.recoveryCodes.generate(for: person)
            // A security key (issue 17): its name and dates are shown, never its credential id or public key.
            let key = try await server.store.createWebAuthnCredential(
                NewWebAuthnCredential(
                    userID: person.id,
                    credentialID: "Y3JlZGVudGlhbC1pZC1vZi10aGUta2V5",
                    publicKey: "pQECAyYgASFYIFB1YmxpYy1rZXkteC1jb29yZGluYXRl",
                    algorithm: -7,
                    signCount: 0,
                    name: "Blue YubiKey",
                    isPasskey: false,
                    transports: "usb",
                    aaguid: "cb69481e8ff7403993ec0a2729a154a8"
                ),
                at: server.clock.now.unixTime
            )
            let factor = try #require(try await services.twoFactor.factor(.totp, of: person))
            let secret = Base32.encode(
                try server.parts.keyRing.open(try #require(factor.sealedSecret), context: TwoFactorService.sealContext(person.id))
            )

            let page = try await desk.staff.get(desk.account)
            #expect(page.status == .ok)
            let text = page.text
            #expect(text.contains("App (authenticator app)"))
            #expect(text.contains("Recovery phone +31 •••• •••78"), "a masked number")
            #expect(text.contains("10 of 10 left"))
            #expect(text.contains("Security key “Blue YubiKey”, added 2027-01-15"), "\(text)")
            var secrets = ["+31612345678", "31612345678", "612345678", secret, String(secret.prefix(16))]
            secrets += [key.credentialID, key.publicKey, key.aaguid]
            secrets += codes.map(\.description)
            secrets += [desk.person.cookies[Browser.sessionCookie], desk.person.cookies[Browser.csrfCookie]].compactMap { $0 }
            for session in try await server.store.sessions(userID: person.id) { secrets.append(session.idHash) }
            for secret in secrets { #expect(!text.contains(secret), "the page shows \(secret)") }
            let trail = try await desk.staff.get("/admin/audit")
            for secret in secrets { #expect(!trail.text.contains(secret), "the audit page shows \(secret)") }
            // The same headers as every page: no framing, no inline script.
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true)
        }
    }

    // MARK: The operator's commands

    @Test func grantAndRevokeAreOperatorActionsInTheAuditTrail() async throws {
        let server = try await TestServer.make()
        let user = try await server.store.createUser(email: "ops@example.com", passwordHash: "!", at: server.clock.now.unixTime)
        let actions = OperatorActions(parts: server.parts)
        try await RequestOrigin.$operatorName.withValue("alice") { () async throws -> Void in
            #expect(try await actions.grantRole("admin", email: "OPS@example.com", actor: "alice").hasPrefix("ops@example.com is admin now"))
            #expect(try await Self.user(server, user.id).role == .admin)
            #expect(try await actions.revokeRole(email: "ops@example.com", actor: "alice") == "ops@example.com is no longer admin")
            #expect(try await actions.revokeRole(email: "ops@example.com", actor: "alice") == "ops@example.com had no help-desk role")
            await #expect(throws: OperatorError.self) { try await actions.grantRole("none", email: "ops@example.com", actor: "alice") }
            await #expect(throws: OperatorError.self) { try await actions.grantRole("root", email: "ops@example.com", actor: "alice") }
            await #expect(throws: OperatorError.self) { try await actions.grantRole("support", email: "nobody@example.com", actor: "alice") }
        }
        let events = try await server.store.auditEvents(userID: user.id, since: nil, beforeID: nil, limit: 10).filter { $0.kind == "role_changed" }
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0.actorKind == "operator" && $0.actorName == "alice" })
        #expect(events.last?.detail == "help-desk role none → admin by operator alice")
        try await server.parts.database.close()
    }
}
