import Foundation
import Testing
import TwoStepCore
import TwoStepStore
import WebAuthnTestSupport

@testable import TwoStepServer

/// Security keys and passkeys in the service layer (issue 17), with a software authenticator and the
/// server's real store: registration, the second step, passkey sign-in, and each attack refused.
@Suite("WebAuthn service")
struct WebAuthnServiceTests {
    /// The assertion options of a session that owes its second factor.
    static func options(
        _ server: TestServer,
        _ user: User,
        _ session: Session,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> String
    {
        try #require(try await server.services.webAuthn.authenticationOptions(user: user, session: session), sourceLocation: sourceLocation)
    }

    static func failures(_ server: TestServer, _ user: User) async throws -> [SecurityEvent] {
        try await server.store.events(userID: user.id, limit: 100).filter { $0.kind == .secondFactorFailed }
    }

    /// `--rp-id` / `--origin` defaults: the public URL's host and origin; without one, `localhost` (browsers
    /// refuse an IP address as RP ID, W3C WebAuthn §5.1.4), and only origins the RP ID fits.
    @Test func theRelyingPartyDefaultsFitTheOrigins() {
        var configuration = ServerConfiguration()
        #expect(configuration.resolvedRPID == "localhost" && configuration.resolvedOrigins() == ["http://localhost:8080"])
        #expect(!configuration.rpIDIsAnAddress && StartupReport.warnings(configuration).isEmpty)
        configuration.publicURL = "https://auth.example.com"
        #expect(configuration.resolvedRPID == "auth.example.com" && configuration.resolvedOrigins() == ["https://auth.example.com"])
        configuration.webAuthnRPID = "example.com"
        #expect(configuration.resolvedOrigins() == ["https://auth.example.com"], "a parent domain fits")
        configuration.webAuthnOrigins = ["https://auth.example.com", "https://login.example.com:8443"]
        #expect(configuration.relyingParty.allowedOrigins == configuration.webAuthnOrigins)
        #expect(ServerConfiguration.fits(origin: "https://login.example.com:8443", rpID: "example.com"))
        #expect(!ServerConfiguration.fits(origin: "https://evil-example.com", rpID: "example.com"), "a suffix is not a parent domain")
        #expect(!ServerConfiguration.fits(origin: "https://example.com.evil.net", rpID: "example.com"))
        #expect(ServerConfiguration.origin(of: "https://Auth.Example.com:443/path") == "https://auth.example.com")
        var byAddress = ServerConfiguration()
        byAddress.publicURL = "http://192.0.2.7:9000"
        #expect(byAddress.resolvedRPID == "192.0.2.7" && byAddress.rpIDIsAnAddress)
        #expect(StartupReport.warnings(byAddress).contains { $0.contains("is an IP address") })
    }

    @Test(arguments: [COSEAlgorithm.es256, .edDSA, .rs256])
    func aKeyOfEachAlgorithmRegistersAndTheFirstTurnsTwoFactorOn(_ algorithm: COSEAlgorithm) async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let (user, session) = try await server.signedIn("ann@example.com")
            try await server.store.setEnrolmentRequired(true, userID: user.id)
            let enrolling = try #require(try await server.store.user(id: user.id))
            let key = try SoftKey(algorithm)
            guard case .options(let options) = try await keys.registrationOptions(user: enrolling, session: session, passkey: false) else {
                Issue.record("no options")
                return
            }
            let parsed = try SoftKey.object(options)
            #expect((parsed["pubKeyCredParams"] as? [[String: Any]])?.compactMap { $0["alg"] as? Int } == [-7, -8, -257])
            #expect(parsed["attestation"] as? String == "none" && parsed["timeout"] as? Int == 300_000)
            #expect((parsed["rp"] as? [String: Any])?["id"] as? String == "localhost")
            let handle = try #require((parsed["user"] as? [String: Any])?["id"] as? String)
            #expect(base64URL(handle).count == 32 && !handle.contains("ann"), "a random handle, not the address")
            #expect(try base64URL(#require(parsed["challenge"] as? String)).count >= 16)

            let result = try await keys.finishRegistration(
                user: enrolling,
                session: session,
                name: "  YubiKey 5  ",
                responseJSON: try key.register(options)
            )
            guard case .registered(let stored, let turnedOn, nil) = result else {
                Issue.record("not registered: \(result)")
                return
            }
            #expect(turnedOn && stored.name == "YubiKey 5" && stored.algorithm == algorithm.rawValue && stored.credentialID == key.id)
            #expect(stored.transports == "usb" && !stored.isPasskey)
            #expect(try await server.services.twoFactor.isEnabled(for: user))
            #expect(try await server.store.user(id: user.id)?.enrolmentRequired == false, "a method is on: the operator's reset is answered")
            #expect(try await server.services.twoFactor.recoveryCodeGeneration(for: user) == .allowed, "recovery codes are offered")
            #expect(try await server.services.twoFactor.enrolmentStart(.totp, for: user) == .allowed, "keys sit beside the app or SMS")
            #expect(try await server.store.events(userID: user.id, limit: 10).first?.kind == .twoFactorEnabled)

            // The next key is one more method; the options exclude the first.
            guard case .options(let second) = try await keys.registrationOptions(user: user, session: session, passkey: false) else { return }
            let excluded = (try SoftKey.object(second)["excludeCredentials"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(excluded == [key.id])
            #expect((try SoftKey.object(second)["user"] as? [String: Any])?["id"] as? String == handle, "the handle is stable")
            let other = try await keys.finishRegistration(user: user, session: session, name: "Backup", responseJSON: try SoftKey().register(second))
            guard case .registered(_, false, _) = other else {
                Issue.record("second key: \(other)")
                return
            }
            #expect(try await server.store.events(userID: user.id, limit: 10).first?.kind == .securityKeyAdded)
            #expect(try await server.services.twoFactor.status(of: user).securityKeys == 2)
        }
    }

    /// RFC 8176: a key as the second factor makes `pwd hwk mfa`; "Trust this device" works as with a code.
    @Test func aKeyCompletesTheSecondStep() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let key = try SoftKey(.edDSA)
            let (owner, session) = try await server.signedIn("ann@example.com")
            let stored = try await server.addKey(key, user: owner, session: session)
            server.clock.advance(60)
            let (user, waiting) = try await server.halfSignedIn("ann@example.com")
            let options = try await Self.options(server, user, waiting)
            let parsed = try SoftKey.object(options)
            #expect((parsed["allowCredentials"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [key.id])
            #expect(parsed["userVerification"] as? String == "discouraged")
            let outcome = try await server.services.signIns.completeSecondFactorWithKey(
                session: waiting,
                user: user,
                responseJSON: try key.assert(options),
                trustDevice: true,
                userAgent: "test"
            )
            guard case .signedIn(let id, .securityKey(synced: false), let deviceToken?, nil) = outcome else {
                Issue.record("not signed in: \(outcome)")
                return
            }
            let signedIn = try #require(try await server.store.session(idHash: RandomToken.hash(id)))
            #expect(signedIn.stage == .signedIn && signedIn.methods == ["pwd", "hwk", "mfa"])
            #expect(try await server.store.session(idHash: waiting.idHash) == nil, "the half-way session is replaced")
            #expect(try await server.services.devices.isTrusted(token: deviceToken, user: user))
            let used = try #require(try await server.store.webAuthnCredential(credentialID: stored.credentialID))
            #expect(used.signCount == 1 && used.lastUsedAt == server.clock.now.unixTime)
            #expect(
                try await server.store.events(userID: user.id, limit: 10).contains {
                    $0.kind == .signedIn && $0.detail == "password and security key"
                }
            )
        }
    }

    /// A passkey signs in alone; the session is made as a completed second factor makes it.
    @Test func aPasskeySignsInWithoutPasswordOrCode() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let key = try SoftKey()
            let (user, session) = try await server.signedIn("ann@example.com")
            guard case .options(let creation) = try await keys.registrationOptions(user: user, session: session, passkey: true) else { return }
            let selection = try SoftKey.object(creation)["authenticatorSelection"] as? [String: Any]
            #expect(selection?["residentKey"] as? String == "required" && selection?["userVerification"] as? String == "required")
            // A passkey must verify its user: a touch alone is refused.
            let untouched = try await keys.finishRegistration(
                user: user,
                session: session,
                name: "Phone",
                responseJSON: try key.register(creation, flags: TestAuthenticator.flagUP | TestAuthenticator.flagAT)
            )
            #expect(untouched == .refused(.userNotVerified))
            let passkey = try await server.addKey(key, user: user, session: session, passkey: true, name: "Phone")
            #expect(passkey.isPasskey)

            let options = try await keys.passkeyOptions(browserSecret: "csrf-cookie-of-this-browser")
            let parsed = try SoftKey.object(options)
            #expect((parsed["allowCredentials"] as? [Any])?.isEmpty == true && parsed["userVerification"] as? String == "required")
            let outcome = try await server.services.signIns.signInWithPasskey(
                binding: .browser(secret: "csrf-cookie-of-this-browser"),
                responseJSON: try key.assert(options),
                userAgent: "test",
                replacing: nil
            )
            guard case .signedIn(let signedInUser, let id) = outcome else {
                Issue.record("not signed in: \(outcome)")
                return
            }
            #expect(signedInUser.id == user.id)
            let made = try #require(try await server.store.session(idHash: RandomToken.hash(id)))
            #expect(made.stage == .signedIn && made.methods == ["hwk", "user", "mfa"])

            // Without user verification, or from another browser, the same passkey does not sign in.
            let again = try await keys.passkeyOptions(browserSecret: "csrf-cookie-of-this-browser")
            let unverified = try await server.services.signIns.signInWithPasskey(
                binding: .browser(secret: "csrf-cookie-of-this-browser"),
                responseJSON: try key.assert(again, flags: TestAuthenticator.flagUP),
                userAgent: "test",
                replacing: nil
            )
            guard case .refused(.rejected) = unverified else {
                Issue.record("accepted without user verification: \(unverified)")
                return
            }
            let elsewhere = try await keys.passkeyOptions(browserSecret: "csrf-cookie-of-this-browser")
            let stolen = try await server.services.signIns.signInWithPasskey(
                binding: .browser(secret: "the-attacker's-browser"),
                responseJSON: try key.assert(elsewhere),
                userAgent: "test",
                replacing: nil
            )
            guard case .refused = stolen else {
                Issue.record("another browser finished the ceremony: \(stolen)")
                return
            }
        }
    }

    /// Each attack on the second step, performed one at a time on a key that works: refused, and
    /// counted as a failed second-factor attempt like a wrong code.
    @Test func eachForgedAssertionIsRefusedAndCounted() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let key = try SoftKey()
            let (owner, session) = try await server.signedIn("ann@example.com")
            try await server.addKey(key, user: owner, session: session)
            let (_, bobSession) = try await server.signedIn("bob@example.com")
            let bob = try #require(try await server.store.user(email: "bob@example.com"))
            let bobsKey = try SoftKey()
            try await server.addKey(bobsKey, user: bob, session: bobSession)

            typealias Attack = (name: String, answer: (String, Session, User) async throws -> String)
            let attacks: [Attack] = [
                ("wrong origin", { options, _, _ in try key.assert(options, origin: "http://localhost.evil.example:8080") }),
                ("wrong RP ID hash", { options, _, _ in try key.assert(options, rpID: "evil.example") }),
                ("wrong challenge", { options, _, _ in try key.assert(options, challenge: SecureRandom.bytes(32)) }),
                ("user presence missing", { options, _, _ in try key.assert(options, flags: 0) }),
                (
                    "another session's challenge",
                    { _, _, user in
                        let (_, other) = try await server.halfSignedIn("ann@example.com")
                        return try key.assert(try await Self.options(server, user, other))
                    }
                ),
                (
                    "an expired challenge",
                    { options, _, _ in
                        server.clock.advance(WebAuthnService.challengeLifetime + 1)
                        return try key.assert(options)
                    }
                ),
                ("another account's key", { options, _, _ in try bobsKey.assert(options) }),
                (
                    "a bad signature",
                    { options, _, _ in
                        var answer = try SoftKey.object(try key.assert(options))
                        var response = answer["response"] as! [String: Any]
                        response["signature"] = base64URLString(try key.authenticator.sign(Array("something else".utf8)))
                        answer["response"] = response
                        return SoftKey.string(answer)
                    }
                ),
            ]
            for (index, attack) in attacks.enumerated() {
                // Past any wait the earlier failures started, with a fresh password step.
                server.clock.advance(2 * 3600)
                let (user, waiting) = try await server.halfSignedIn("ann@example.com")
                let options = try await Self.options(server, user, waiting)
                let answer = try await attack.answer(options, waiting, user)
                let result = try await keys.verifyAssertion(user: user, binding: .session(waiting), responseJSON: answer)
                guard case .refused(.rejected) = result else {
                    Issue.record("\(attack.name): \(result)")
                    continue
                }
                #expect(try await Self.failures(server, user).count == index + 1, "\(attack.name) is counted")
            }
            // The real answer still works afterwards.
            server.clock.advance(2 * 3600)
            let (user, waiting) = try await server.halfSignedIn("ann@example.com")
            let options = try await Self.options(server, user, waiting)
            guard case .accepted = try await keys.verifyAssertion(user: user, binding: .session(waiting), responseJSON: try key.assert(options))
            else {
                Issue.record("the genuine key was refused")
                return
            }
        }
    }

    /// W3C WebAuthn §13.4.3: a challenge is used once. The second finish with the same answer is refused.
    @Test func aReusedChallengeIsRefused() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let key = try SoftKey()
            let (owner, session) = try await server.signedIn("ann@example.com")
            try await server.addKey(key, user: owner, session: session)
            let (user, waiting) = try await server.halfSignedIn("ann@example.com")
            let options = try await Self.options(server, user, waiting)
            // Counter 0, as most passkeys send: the counter cannot stop the replay, only the challenge can.
            let answer = try key.assert(options, signCount: 0)
            guard case .accepted = try await keys.verifyAssertion(user: user, binding: .session(waiting), responseJSON: answer) else {
                Issue.record("the first use was refused")
                return
            }
            let replay = try await keys.verifyAssertion(user: user, binding: .session(waiting), responseJSON: answer)
            guard case .refused(.rejected) = replay else {
                Issue.record("the replay was not refused: \(replay)")
                return
            }
            // A key that counts: 7, then a fresh challenge answered with 3. §7.2 step 21: a possible
            // clone, refused, logged and audited.
            let counted = try await Self.options(server, user, waiting)
            guard
                case .accepted = try await keys.verifyAssertion(
                    user: user,
                    binding: .session(waiting),
                    responseJSON: try key.assert(counted, signCount: 7)
                )
            else {
                Issue.record("counter 7 was refused")
                return
            }
            let fresh = try await Self.options(server, user, waiting)
            let cloned = try await keys.verifyAssertion(user: user, binding: .session(waiting), responseJSON: try key.assert(fresh, signCount: 3))
            guard case .refused(.rejected) = cloned else {
                Issue.record("a counter going back was accepted: \(cloned)")
                return
            }
            let events = try await server.store.events(userID: user.id, limit: 10)
            #expect(events.contains { $0.kind == .securityKeyCloneSuspected })
            #expect(server.logs.text.contains("possible cloned authenticator"))
        }
    }

    /// 20 concurrent finishes of one assertion: exactly one signs in (one conditional DELETE of the challenge).
    @Test func twentyConcurrentFinishesOfOneAssertionAcceptOne() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let key = try SoftKey()
            let (owner, session) = try await server.signedIn("ann@example.com")
            try await server.addKey(key, user: owner, session: session)
            let (user, waiting) = try await server.halfSignedIn("ann@example.com")
            // Counter 0 (no counter): only the challenge's single use can stop the copies.
            let answer = try key.assert(try await Self.options(server, user, waiting), signCount: 0)
            let keys = server.services.webAuthn
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        if case .accepted = try await keys.verifyAssertion(user: user, binding: .session(waiting), responseJSON: answer) {
                            return true
                        }
                        return false
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(accepted == 1)
        }
    }

    /// Hostile input is a typed refusal, never a thrown error (which would be a 500).
    @Test func hostileInputIsRefusedNeverThrown() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let key = try SoftKey()
            let (user, session) = try await server.signedIn("ann@example.com")
            try await server.addKey(key, user: user, session: session)
            let id = key.id
            let junk = [
                "", "null", "[]", "{", "\"text\"", String(repeating: "[", count: 100_000),
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"!!","authenticatorData":"AA","signature":"AA"}}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"=="}}"#,
                #"{"id":"x","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}"#,
                #"{"id":"","rawId":"","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"other","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}"#,
                #"{"id":"\#(id)","rawId":"\#(id)","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA","userHandle":"%%"}}"#,
                String(repeating: "A", count: WebAuthnService.maximumResponseSize + 1),
            ]
            for text in junk {
                let (signedIn, waiting) = try await server.halfSignedIn("ann@example.com")
                let result = try await keys.verifyAssertion(user: signedIn, binding: .session(waiting), responseJSON: text)
                guard case .malformed = result else {
                    Issue.record("\(text.prefix(80)): \(result)")
                    continue
                }
                let passkey = try await keys.verifyPasskey(binding: .browser(secret: "b"), responseJSON: text)
                guard case .malformed = passkey else {
                    Issue.record("passkey \(text.prefix(80)): \(passkey)")
                    continue
                }
                let registration = try await keys.finishRegistration(user: user, session: session, name: "k", responseJSON: text)
                guard case .malformed = registration else {
                    Issue.record("registration \(text.prefix(80)): \(registration)")
                    continue
                }
            }
            #expect(try await Self.failures(server, user).isEmpty, "what is not an answer at all is not counted")
            // Well-formed JSON around CBOR that is not an attestation object: refused by the core's decoder.
            guard case .options(let options) = try await keys.registrationOptions(user: user, session: session, passkey: false) else { return }
            var answer = try SoftKey.object(try SoftKey().register(options))
            var response = answer["response"] as! [String: Any]
            for bad in [[0xBF, 0x61], [0xA1] + [UInt8](repeating: 0x81, count: 40), [0x00, 0x00]] as [[UInt8]] {
                response["attestationObject"] = base64URLString(bad)
                answer["response"] = response
                let result = try await keys.finishRegistration(user: user, session: session, name: "k", responseJSON: SoftKey.string(answer))
                #expect(result == .challengeInvalid || { if case .refused = result { true } else { false } }(), "\(result)")
            }
        }
    }

    /// Rename and remove; removal needs re-authentication and never takes the last method.
    @Test func keysAreRenamedAndRemovedOnlyWithReauthentication() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let (user, session) = try await server.signedIn("ann@example.com")
            let first = try await server.addKey(try SoftKey(), user: user, session: session, name: "First")
            let second = try await server.addKey(try SoftKey(), user: user, session: session, name: "Second")
            #expect(
                try await keys.rename(credentialID: first.id, user: user, name: "   ")
                    == .invalidName("give the key a name, such as \u{201C}YubiKey 5\u{201D}")
            )
            #expect(try await keys.rename(credentialID: first.id, user: user, name: String(repeating: "x", count: 65)) != .renamed)
            #expect(try await keys.rename(credentialID: first.id, user: user, name: "a\u{0007}b") != .renamed)
            #expect(try await keys.rename(credentialID: first.id, user: user, name: " Office key ") == .renamed)
            #expect(try await keys.credentials(of: user).first?.name == "Office key")
            let (mallory, _) = try await server.signedIn("mallory@example.com")
            #expect(try await keys.rename(credentialID: first.id, user: mallory, name: "Mine") == .notFound)

            // Eleven minutes later "sudo mode" has ended: removing needs the password again.
            server.clock.advance(11 * 60)
            #expect(try await keys.remove(credentialID: first.id, user: user, session: session) == .reauthenticationRequired)
            #expect(try await keys.credentials(of: user).count == 2)
            let again = try #require(
                try await server.store.session(idHash: RandomToken.hash(try await server.services.sessions.reauthenticated(session)))
            )
            #expect(try await keys.remove(credentialID: first.id, user: user, session: again) == .removed)
            #expect(try await keys.remove(credentialID: second.id, user: user, session: again) == .lastMethod, "Disable turns 2FA off")
            #expect(try await keys.credentials(of: user).map(\.id) == [second.id])
            #expect(try await server.store.events(userID: user.id, limit: 10).contains { $0.kind == .securityKeyRemoved })

            // Disable removes every key with the other methods.
            let disabled = try await server.services.twoFactor.disable(session: again, user: user, password: "correct horse battery", code: nil)
            guard case .disabled = disabled else {
                Issue.record("\(disabled)")
                return
            }
            #expect(try await keys.credentials(of: user).isEmpty)
            #expect(try await !server.services.twoFactor.isEnabled(for: user))
        }
    }

    /// A passkey answered with another account's user handle is refused (§7.2 step 6).
    @Test func aPasskeyWithAnotherAccountsUserHandleIsRefused() async throws {
        let server = try await TestServer.makeWithKeys()
        try await server.run { _ in
            let keys = server.services.webAuthn
            let key = try SoftKey()
            let (user, session) = try await server.signedIn("ann@example.com")
            try await server.addKey(key, user: user, session: session, passkey: true)
            let bobKey = try SoftKey()
            let (bob, bobSession) = try await server.signedIn("bob@example.com")
            try await server.addKey(bobKey, user: bob, session: bobSession, passkey: true)
            let options = try await keys.passkeyOptions(browserSecret: "b")
            let result = try await keys.verifyPasskey(
                binding: .browser(secret: "b"),
                responseJSON: try key.assert(options, userHandle: bobKey.userHandle)
            )
            guard case .refused(.rejected) = result else {
                Issue.record("\(result)")
                return
            }
            // A security key registered as a second factor never signs in alone.
            let plain = try SoftKey()
            try await server.addKey(plain, user: user, session: session, passkey: false)
            let more = try await keys.passkeyOptions(browserSecret: "b")
            let alone = try await keys.verifyPasskey(
                binding: .browser(secret: "b"),
                responseJSON: try plain.assert(more, flags: TestAuthenticator.flagUP | TestAuthenticator.flagUV, userHandle: key.userHandle)
            )
            guard case .refused(.rejected) = alone else {
                Issue.record("\(alone)")
                return
            }
        }
    }
}
