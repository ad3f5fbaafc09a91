import Crypto
import Foundation
import Testing
import TwoStepCore
import TwoStepStore
import WebAuthnTestSupport

@testable import TwoStepServer

/// A security key in software, answering the server's options the way Chromium's `credential.toJSON()`
/// does, with every field open to change so a test can perform one attack at a time.
final class SoftKey: @unchecked Sendable {
    static let rpID = "localhost"
    static let origin = "http://localhost:8080"

    let authenticator: TestAuthenticator
    /// The counter the next assertion carries (then it moves on by one).
    var signCount: UInt32 = 0
    /// The user handle the options gave at registration (a passkey returns it at sign-in).
    var userHandle: String?

    init(_ algorithm: COSEAlgorithm = .es256) throws {
        authenticator = try TestAuthenticator(algorithm)
    }

    var id: String { base64URLString(authenticator.credentialID) }

    static func object(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], sourceLocation: sourceLocation)
    }

    static func string(_ value: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    /// `RegistrationResponseJSON` for creation options.
    /// - Parameter flags: Authenticator-data flags; by default UP and AT, with UV when the options require it.
    func register(
        _ options: String,
        origin: String = origin,
        rpID: String = rpID,
        flags: UInt8? = nil,
        type: String = "webauthn.create",
        challenge: [UInt8]? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let parsed = try Self.object(options, sourceLocation: sourceLocation)
        let asked = base64URL(try #require(parsed["challenge"] as? String, sourceLocation: sourceLocation))
        let selection = parsed["authenticatorSelection"] as? [String: Any]
        let passkey = selection?["residentKey"] as? String == "required"
        userHandle = (parsed["user"] as? [String: Any])?["id"] as? String
        let flags = flags ?? (TestAuthenticator.flagUP | TestAuthenticator.flagAT | (passkey ? TestAuthenticator.flagUV : 0))
        let authData = TestAuthenticator.authenticatorData(
            rpID: rpID,
            flags: flags,
            signCount: signCount,
            attested: authenticator.attestedCredentialData
        )
        signCount += 1
        let clientData = TestAuthenticator.clientData(type: type, challenge: challenge ?? asked, origin: origin)
        return Self.string([
            "id": id, "rawId": id, "type": "public-key", "authenticatorAttachment": "cross-platform",
            "response": [
                "clientDataJSON": base64URLString(clientData),
                "attestationObject": base64URLString(TestAuthenticator.attestationObject(authData: authData)),
                "transports": ["usb"],
            ],
            "clientExtensionResults": ["credProps": ["rk": passkey]],
        ])
    }

    /// `AuthenticationResponseJSON` for request options.
    /// - Parameters:
    ///   - flags: By default UP, with UV when the options require it.
    ///   - signCount: The counter to send; by default the next one.
    func assert(
        _ options: String,
        origin: String = origin,
        rpID: String = rpID,
        flags: UInt8? = nil,
        signCount: UInt32? = nil,
        userHandle: String?? = nil,
        challenge: [UInt8]? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let parsed = try Self.object(options, sourceLocation: sourceLocation)
        let asked = base64URL(try #require(parsed["challenge"] as? String, sourceLocation: sourceLocation))
        let verify = parsed["userVerification"] as? String == "required"
        let flags = flags ?? (TestAuthenticator.flagUP | (verify ? TestAuthenticator.flagUV : 0))
        let count = signCount ?? self.signCount
        if signCount == nil { self.signCount += 1 }
        let authData = TestAuthenticator.authenticatorData(rpID: rpID, flags: flags, signCount: count)
        let clientData = TestAuthenticator.clientData(type: "webauthn.get", challenge: challenge ?? asked, origin: origin)
        let signature = try authenticator.sign(authData + Array(SHA256.hash(data: clientData)))
        var response: [String: Any] = [
            "clientDataJSON": base64URLString(clientData),
            "authenticatorData": base64URLString(authData),
            "signature": base64URLString(signature),
        ]
        if let handle = userHandle ?? self.userHandle { response["userHandle"] = handle }
        return Self.string(["id": id, "rawId": id, "type": "public-key", "response": response, "clientExtensionResults": [:]])
    }
}

/// A server whose relying party is `localhost` at `http://localhost:8080`, whatever port it listens on.
extension TestServer {
    static func makeWithKeys(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await make { configuration in
            configuration.webAuthnRPID = SoftKey.rpID
            configuration.webAuthnOrigins = [SoftKey.origin]
            adjust(&configuration)
        }
    }

    /// An account with a signed-in session that re-authenticated just now (adding a method needs it).
    func signedIn(
        _ email: String,
        password: String = "correct horse battery",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> (User, Session)
    {
        let services = services
        let user = try await store.createUser(email: email, passwordHash: Self.hasher.hash(password), at: clock.now.unixTime)
        let id = try await services.sessions.start(userID: user.id, stage: .signedIn, methods: ["pwd"], userAgent: "test", replacing: nil)
        let session = try #require(try await store.session(idHash: RandomToken.hash(id)), sourceLocation: sourceLocation)
        let reauthenticated = try await services.sessions.reauthenticated(session)
        return (user, try #require(try await store.session(idHash: RandomToken.hash(reauthenticated)), sourceLocation: sourceLocation))
    }

    /// Registers `key` for the account (a passkey when asked) and checks it was stored.
    @discardableResult
    func addKey(
        _ key: SoftKey,
        user: User,
        session: Session,
        passkey: Bool = false,
        name: String = "YubiKey 5",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> WebAuthnCredential {
        let keys = services.webAuthn
        guard case .options(let options) = try await keys.registrationOptions(user: user, session: session, passkey: passkey) else {
            Issue.record("no options", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        let result = try await keys.finishRegistration(user: user, session: session, name: name, responseJSON: try key.register(options))
        guard case .registered(let credential, _, _) = result else {
            Issue.record("not registered: \(result)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return credential
    }

    /// The password step of a sign-in, leaving a session that owes its second factor.
    func halfSignedIn(
        _ email: String,
        password: String = "correct horse battery",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> (User, Session)
    {
        let outcome = try await services.signIns.signIn(email: email, password: password, deviceToken: nil, userAgent: "test", replacing: nil)
        guard case .secondFactorRequired(let user, let id) = outcome else {
            Issue.record("expected a second step: \(outcome)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return (user, try #require(try await store.session(idHash: RandomToken.hash(id)), sourceLocation: sourceLocation))
    }
}
