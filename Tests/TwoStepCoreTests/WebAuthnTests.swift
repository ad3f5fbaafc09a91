import Crypto
import Foundation
import Testing
import TwoStepCore
import WebAuthnTestSupport

/// W3C WebAuthn Level 2 §7.1 (registration) and §7.2 (assertion), each refusal performed as an
/// attack with objects signed here by swift-crypto keys of all three algorithms.
@Suite("WebAuthn verification")
struct WebAuthnVerificationTests {
    static let origin = "http://localhost:8080"
    let party = WebAuthnRelyingParty(id: "localhost", allowedOrigins: [origin, "http://127.0.0.1:8080"])
    let challenge = SecureRandom.bytes(32)

    /// A registration response for `authenticator`, with any part replaceable.
    func register(
        _ authenticator: TestAuthenticator,
        type: String = "webauthn.create",
        challenge: [UInt8]? = nil,
        origin: String = origin,
        rpID: String = "localhost",
        flags: UInt8 = TestAuthenticator.flagUP | TestAuthenticator.flagAT,
        format: String = "none",
        statement: CBOR = .map([]),
        trailing: [UInt8] = [],
        requireUserVerification: Bool = false
    ) throws(WebAuthnError) -> WebAuthnRelyingParty.Registration {
        let authData =
            TestAuthenticator.authenticatorData(rpID: rpID, flags: flags, signCount: 0, attested: authenticator.attestedCredentialData) + trailing
        return try party.verifyRegistration(
            attestationObject: TestAuthenticator.attestationObject(format: format, authData: authData, statement: statement),
            clientDataJSON: TestAuthenticator.clientData(type: type, challenge: challenge ?? self.challenge, origin: origin),
            credentialID: authenticator.credentialID,
            challenge: self.challenge,
            requireUserVerification: requireUserVerification
        )
    }

    /// An assertion signed by `authenticator`, with any part replaceable.
    func signIn(
        _ authenticator: TestAuthenticator,
        publicKey: COSEKey,
        type: String = "webauthn.get",
        challenge: [UInt8]? = nil,
        origin: String = origin,
        rpID: String = "localhost",
        flags: UInt8 = TestAuthenticator.flagUP,
        signCount: UInt32 = 0,
        storedSignCount: UInt32 = 0,
        trailing: [UInt8] = [],
        requireUserVerification: Bool = false
    ) throws(WebAuthnError) -> WebAuthnRelyingParty.Assertion {
        let authData = TestAuthenticator.authenticatorData(rpID: rpID, flags: flags, signCount: signCount) + trailing
        let clientData = TestAuthenticator.clientData(type: type, challenge: challenge ?? self.challenge, origin: origin)
        let signature = try! authenticator.sign(authData + Array(SHA256.hash(data: clientData)))
        return try party.verifyAssertion(
            authenticatorData: authData,
            clientDataJSON: clientData,
            signature: signature,
            publicKey: publicKey,
            storedSignCount: storedSignCount,
            challenge: self.challenge,
            requireUserVerification: requireUserVerification
        )
    }

    @Test(arguments: COSEAlgorithm.allCases)
    func registrationThenAssertionSucceed(algorithm: COSEAlgorithm) throws {
        let authenticator = try TestAuthenticator(algorithm)
        let registration = try register(authenticator)
        #expect(registration.credentialID == authenticator.credentialID)
        #expect(registration.publicKey.algorithm == algorithm)
        #expect(registration.attestation == .none)
        // What a store would keep: the COSE bytes, decoded again at sign-in.
        let stored = try COSEKey(encoded: registration.publicKey.encoded)
        let assertion = try signIn(authenticator, publicKey: stored, signCount: 5, storedSignCount: 4)
        #expect(assertion.signCount == 5)
    }

    @Test(arguments: COSEAlgorithm.allCases)
    func aSignatureByAnotherKeyOrOverOtherDataIsRefused(algorithm: COSEAlgorithm) throws {
        let authenticator = try TestAuthenticator(algorithm)
        let other = try TestAuthenticator(algorithm)
        let otherKey = try register(other).publicKey
        expectRefusal(.invalidSignature) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: otherKey) }
        // The signature covers the client data hash: the same signature with another challenge fails.
        let key = try register(authenticator).publicKey
        let authData = TestAuthenticator.authenticatorData(rpID: "localhost", flags: TestAuthenticator.flagUP, signCount: 0)
        let signed = TestAuthenticator.clientData(type: "webauthn.get", challenge: SecureRandom.bytes(32), origin: Self.origin)
        let sent = TestAuthenticator.clientData(type: "webauthn.get", challenge: challenge, origin: Self.origin)
        let signature = try authenticator.sign(authData + Array(SHA256.hash(data: signed)))
        expectRefusal(.invalidSignature) { () throws(WebAuthnError) in
            try party.verifyAssertion(
                authenticatorData: authData,
                clientDataJSON: sent,
                signature: signature,
                publicKey: key,
                storedSignCount: 0,
                challenge: challenge,
                requireUserVerification: false
            )
        }
    }

    @Test func aWrongOriginIsRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        // A phishing page, a look-alike that starts with the real origin, another scheme, another port.
        for origin in ["https://evil.example", "http://localhost:8080.evil.example", "https://localhost:8080", "http://localhost:8081", ""] {
            expectRefusal(.wrongOrigin) { () throws(WebAuthnError) in try register(authenticator, origin: origin) }
            expectRefusal(.wrongOrigin) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, origin: origin) }
        }
    }

    @Test func aWrongRPIDHashIsRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.wrongRelyingParty) { () throws(WebAuthnError) in try register(authenticator, rpID: "evil.example") }
        expectRefusal(.wrongRelyingParty) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, rpID: "localhos") }
    }

    @Test func aWrongChallengeIsRefused() throws {
        let authenticator = try TestAuthenticator(.edDSA)
        let key = try register(authenticator).publicKey
        var flipped = challenge
        flipped[31] ^= 1
        for other in [flipped, Array(challenge.dropLast()), challenge + [0], []] {
            expectRefusal(.wrongChallenge) { () throws(WebAuthnError) in try register(authenticator, challenge: other) }
            expectRefusal(.wrongChallenge) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, challenge: other) }
        }
    }

    @Test func aResponseOfTheOtherCeremonyIsRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.wrongType) { () throws(WebAuthnError) in try register(authenticator, type: "webauthn.get") }
        expectRefusal(.wrongType) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, type: "webauthn.create") }
    }

    @Test func aMissingUserPresentFlagIsRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.userNotPresent) { () throws(WebAuthnError) in try register(authenticator, flags: TestAuthenticator.flagAT) }
        expectRefusal(.userNotPresent) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, flags: TestAuthenticator.flagUV) }
    }

    @Test func userVerificationIsRequiredOnlyWhereAsked() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.userNotVerified) { () throws(WebAuthnError) in try register(authenticator, requireUserVerification: true) }
        expectRefusal(.userNotVerified) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, requireUserVerification: true) }
        let verified = TestAuthenticator.flagUP | TestAuthenticator.flagUV
        #expect(try register(authenticator, flags: verified | TestAuthenticator.flagAT, requireUserVerification: true).userVerified)
        #expect(try signIn(authenticator, publicKey: key, flags: verified, requireUserVerification: true).userVerified)
        // A second factor after a password does not need UV (NIST SP 800-63B: the key is one factor).
        #expect(try !signIn(authenticator, publicKey: key, requireUserVerification: false).userVerified)
    }

    @Test func aCounterThatDoesNotIncreaseIsRefusedAsAPossibleClone() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.counterDidNotIncrease) { () throws(WebAuthnError) in
            try signIn(authenticator, publicKey: key, signCount: 9, storedSignCount: 10)
        }
        expectRefusal(.counterDidNotIncrease) { () throws(WebAuthnError) in
            try signIn(authenticator, publicKey: key, signCount: 10, storedSignCount: 10)
        }
        // A counter that goes back to zero is a reset or a clone, not an authenticator without counter.
        expectRefusal(.counterDidNotIncrease) { () throws(WebAuthnError) in
            try signIn(authenticator, publicKey: key, signCount: 0, storedSignCount: 10)
        }
        #expect(try signIn(authenticator, publicKey: key, signCount: 0, storedSignCount: 0).signCount == 0)
        #expect(try signIn(authenticator, publicKey: key, signCount: 1, storedSignCount: 0).signCount == 1)
        #expect(try signIn(authenticator, publicKey: key, signCount: .max, storedSignCount: 10).signCount == .max)
    }

    @Test func aForgedAssertionWithALowCounterIsASignatureFailureNotACloneAlarm() throws {
        let authenticator = try TestAuthenticator(.es256)
        let otherKey = try register(try TestAuthenticator(.es256)).publicKey
        expectRefusal(.invalidSignature) { () throws(WebAuthnError) in
            try signIn(authenticator, publicKey: otherKey, signCount: 1, storedSignCount: 10)
        }
    }

    @Test func trailingBytesAreRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.malformedAuthenticatorData("")) { () throws(WebAuthnError) in try register(authenticator, trailing: [0]) }
        // Trailing bytes that parse as CBOR still do not belong without the extensions flag.
        expectRefusal(.malformedAuthenticatorData("")) { () throws(WebAuthnError) in try register(authenticator, trailing: [0xA0]) }
        expectRefusal(.malformedAuthenticatorData("")) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, trailing: [0]) }
        let authData = TestAuthenticator.authenticatorData(
            rpID: "localhost",
            flags: TestAuthenticator.flagUP | TestAuthenticator.flagAT,
            signCount: 0,
            attested: authenticator.attestedCredentialData
        )
        let object = TestAuthenticator.attestationObject(authData: authData)
        expectRefusal(.malformedCBOR(.trailingBytes)) { () throws(WebAuthnError) in
            try party.verifyRegistration(
                attestationObject: object + [0x00],
                clientDataJSON: TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge, origin: Self.origin),
                credentialID: authenticator.credentialID,
                challenge: challenge,
                requireUserVerification: false
            )
        }
    }

    @Test func extensionsAreParsedOnlyWhenFlagged() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        let extensions = TestCBOR.encode(TestCBOR.map([(.text("credProtect"), .unsigned(2))]))
        let flags = TestAuthenticator.flagUP | TestAuthenticator.flagED
        #expect(throws: Never.self) { try signIn(authenticator, publicKey: key, flags: flags, trailing: extensions) }
        expectRefusal(.malformedAuthenticatorData("")) { () throws(WebAuthnError) in
            try signIn(authenticator, publicKey: key, flags: flags, trailing: TestCBOR.encode(.array([])))
        }
        expectRefusal(.malformedCBOR(.truncated)) { () throws(WebAuthnError) in try signIn(authenticator, publicKey: key, flags: flags) }
    }

    @Test func attestationFormatsAreNoneOrAcceptedUnverified() throws {
        let authenticator = try TestAuthenticator(.es256)
        let statement = TestCBOR.map([(.text("alg"), TestCBOR.int(-7)), (.text("sig"), .bytes([1, 2, 3]))])
        #expect(try register(authenticator, format: "packed", statement: statement).attestation == .unverified(format: "packed"))
        expectRefusal(.invalidAttestationStatement) { () throws(WebAuthnError) in try register(authenticator, statement: statement) }
        expectRefusal(.unsupportedAttestationFormat("")) { () throws(WebAuthnError) in try register(authenticator, format: "not-real") }
        expectRefusal(.unsupportedAttestationFormat("")) { () throws(WebAuthnError) in try register(authenticator, format: "None") }
    }

    @Test func aRegistrationMustCarryTheReportedCredential() throws {
        let authenticator = try TestAuthenticator(.es256)
        expectRefusal(.missingCredentialData) { () throws(WebAuthnError) in
            try party.verifyRegistration(
                attestationObject: TestAuthenticator.attestationObject(
                    authData: TestAuthenticator.authenticatorData(rpID: "localhost", flags: TestAuthenticator.flagUP, signCount: 0)
                ),
                clientDataJSON: TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge, origin: Self.origin),
                credentialID: authenticator.credentialID,
                challenge: challenge,
                requireUserVerification: false
            )
        }
        let authData = TestAuthenticator.authenticatorData(
            rpID: "localhost",
            flags: TestAuthenticator.flagUP | TestAuthenticator.flagAT,
            signCount: 0,
            attested: authenticator.attestedCredentialData
        )
        expectRefusal(.credentialIDMismatch) { () throws(WebAuthnError) in
            try party.verifyRegistration(
                attestationObject: TestAuthenticator.attestationObject(authData: authData),
                clientDataJSON: TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge, origin: Self.origin),
                credentialID: SecureRandom.bytes(32),
                challenge: challenge,
                requireUserVerification: false
            )
        }
    }

    @Test func keysOfOtherAlgorithmsOrWithMismatchedParametersAreRefused() throws {
        let p256 = P256.Signing.PrivateKey().publicKey.x963Representation
        let x = CBOR.bytes(Array(p256[1..<33]))
        let y = CBOR.bytes(Array(p256[33..<65]))
        func key(_ pairs: [(CBOR, CBOR)]) -> [UInt8] { TestCBOR.encode(TestCBOR.map(pairs)) }
        let one = CBOR.unsigned(1)
        let two = CBOR.unsigned(2)
        let three = CBOR.unsigned(3)
        // ES384 (-35) is not offered.
        expectRefusal(.unsupportedAlgorithm(-35)) { () throws(WebAuthnError) in
            try COSEKey(
                encoded: key([(one, two), (three, TestCBOR.int(-35)), (TestCBOR.int(-1), two), (TestCBOR.int(-2), x), (TestCBOR.int(-3), y)])
            )
        }
        // ES256 named on an OKP key type, or on another curve, or with a point not on the curve.
        expectRefusal(.invalidPublicKey("")) { () throws(WebAuthnError) in
            try COSEKey(encoded: key([(one, one), (three, TestCBOR.int(-7)), (TestCBOR.int(-1), one), (TestCBOR.int(-2), x), (TestCBOR.int(-3), y)]))
        }
        expectRefusal(.invalidPublicKey("")) { () throws(WebAuthnError) in
            try COSEKey(encoded: key([(one, two), (three, TestCBOR.int(-7)), (TestCBOR.int(-1), two), (TestCBOR.int(-2), x), (TestCBOR.int(-3), y)]))
        }
        expectRefusal(.invalidPublicKey("")) { () throws(WebAuthnError) in
            try COSEKey(encoded: key([(one, two), (three, TestCBOR.int(-7)), (TestCBOR.int(-1), one), (TestCBOR.int(-2), x), (TestCBOR.int(-3), x)]))
        }
        // An RSA modulus under 2048 bits.
        expectRefusal(.invalidPublicKey("")) { () throws(WebAuthnError) in
            try COSEKey(
                encoded: key([
                    (one, three), (three, TestCBOR.int(-257)), (TestCBOR.int(-1), .bytes([0xC5] + SecureRandom.bytes(127))),
                    (TestCBOR.int(-2), .bytes([1, 0, 1])),
                ])
            )
        }
        let restricted = WebAuthnRelyingParty(id: "localhost", allowedOrigins: [Self.origin], algorithms: [.es256])
        let authenticator = try TestAuthenticator(.edDSA)
        let authData = TestAuthenticator.authenticatorData(
            rpID: "localhost",
            flags: TestAuthenticator.flagUP | TestAuthenticator.flagAT,
            signCount: 0,
            attested: authenticator.attestedCredentialData
        )
        expectRefusal(.unsupportedAlgorithm(-8)) { () throws(WebAuthnError) in
            try restricted.verifyRegistration(
                attestationObject: TestAuthenticator.attestationObject(authData: authData),
                clientDataJSON: TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge, origin: Self.origin),
                credentialID: authenticator.credentialID,
                challenge: challenge,
                requireUserVerification: false
            )
        }
    }

    @Test func backupStateWithoutEligibilityIsRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        expectRefusal(.invalidBackupFlags) { () throws(WebAuthnError) in
            try signIn(authenticator, publicKey: key, flags: TestAuthenticator.flagUP | 0x10)
        }
        #expect(try signIn(authenticator, publicKey: key, flags: TestAuthenticator.flagUP | 0x18).backedUp)
    }

    @Test func crossOriginFramesAndMalformedClientDataAreRefused() throws {
        let authenticator = try TestAuthenticator(.es256)
        let key = try register(authenticator).publicKey
        func assertion(clientData: [UInt8]) throws(WebAuthnError) -> WebAuthnRelyingParty.Assertion {
            let authData = TestAuthenticator.authenticatorData(rpID: "localhost", flags: TestAuthenticator.flagUP, signCount: 0)
            return try party.verifyAssertion(
                authenticatorData: authData,
                clientDataJSON: clientData,
                signature: try! authenticator.sign(authData + Array(SHA256.hash(data: clientData))),
                publicKey: key,
                storedSignCount: 0,
                challenge: challenge,
                requireUserVerification: false
            )
        }
        let encoded = base64URLString(challenge)
        expectRefusal(.crossOrigin) { () throws(WebAuthnError) in
            try assertion(
                clientData: Array(#"{"type":"webauthn.get","challenge":"\#(encoded)","origin":"\#(Self.origin)","crossOrigin":true}"#.utf8)
            )
        }
        for text in [
            "", "[]", "{}", #"{"type":"webauthn.get","challenge":"\#(encoded)"}"#, #"{"type":"webauthn.get","challenge":"a+b/","origin":"x"}"#,
        ] {
            expectRefusal(.malformedClientData("")) { () throws(WebAuthnError) in try assertion(clientData: Array(text.utf8)) }
        }
        expectRefusal(.malformedClientData("")) { () throws(WebAuthnError) in
            try assertion(clientData: [UInt8](repeating: 0x20, count: 10_000) + Array("{}".utf8))
        }
        // Members the spec may add later (topOrigin, tokenBinding) are ignored, not refused.
        #expect(throws: Never.self) {
            try assertion(
                clientData: Array(#"{"type":"webauthn.get","challenge":"\#(encoded)","origin":"\#(Self.origin)","other":{"a":[1]}}"#.utf8)
            )
        }
    }
}
