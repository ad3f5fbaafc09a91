import Crypto
import Testing
import TwoStepCore
import WebAuthnTestSupport

/// Hostile bytes from clients must give a typed refusal, never a crash, a hang or an acceptance of
/// something that was not signed. A property test over random and mutated inputs stands in for
/// libFuzzer (not available in this toolchain's Linux test runs); the seed is printed on failure.
@Suite("WebAuthn fuzz")
struct WebAuthnFuzzTests {
    /// SplitMix64: a small seeded generator, so a failing run can be replayed from its seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One mutation of `bytes`: flip a bit, set a byte, insert, delete, truncate, duplicate a slice,
    /// or write a CBOR head that claims a huge length or an indefinite one.
    static func mutate(_ bytes: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<7, using: &generator) {
        case 0 where !bytes.isEmpty: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
        case 1 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &generator)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
        case 3 where !bytes.isEmpty: bytes.remove(at: position)
        case 4: bytes = Array(bytes.prefix(position))
        case 5 where !bytes.isEmpty:
            let end = Int.random(in: position..<bytes.count, using: &generator)
            bytes.insert(contentsOf: bytes[position...end], at: position)
        default:
            let heads: [[UInt8]] = [[0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x9F], [0xBF], [0x5F], [0xBA, 0x7F, 0xFF, 0xFF, 0xFF]]
            bytes.insert(contentsOf: heads.randomElement(using: &generator)!, at: position)
        }
        return bytes
    }

    static func randomBytes(using generator: inout SeededGenerator) -> [UInt8] {
        (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test func hostileInputNeverCrashesAndMutatedSignedDataIsNeverAccepted() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SeededGenerator(state: seed)
        let party = WebAuthnRelyingParty(id: "localhost", allowedOrigins: ["http://localhost:8080"])
        let challenge = SecureRandom.bytes(32)
        let authenticators = try COSEAlgorithm.allCases.map { try TestAuthenticator($0) }
        var inputs = 0
        var accepted = 0
        for authenticator in authenticators {
            let authData = TestAuthenticator.authenticatorData(
                rpID: "localhost",
                flags: TestAuthenticator.flagUP | TestAuthenticator.flagAT | TestAuthenticator.flagED,
                signCount: 1,
                attested: authenticator.attestedCredentialData + TestCBOR.encode(TestCBOR.map([(.text("credProtect"), .unsigned(1))]))
            )
            let object = TestAuthenticator.attestationObject(authData: authData)
            let createData = TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge, origin: "http://localhost:8080")
            let key = try party.verifyRegistration(
                attestationObject: object,
                clientDataJSON: createData,
                credentialID: authenticator.credentialID,
                challenge: challenge,
                requireUserVerification: false
            ).publicKey
            let assertionData = TestAuthenticator.authenticatorData(rpID: "localhost", flags: TestAuthenticator.flagUP, signCount: 2)
            let getData = TestAuthenticator.clientData(type: "webauthn.get", challenge: challenge, origin: "http://localhost:8080")
            let signature = try authenticator.sign(assertionData + Array(SHA256.hash(data: getData)))

            for round in 0..<1_500 {
                // Random bytes and mutations of real objects through every entry point.
                let random = Self.randomBytes(using: &generator)
                let mutatedObject = Self.mutate(object, using: &generator)
                for bytes in [random, mutatedObject, Self.mutate(key.encoded, using: &generator), Self.mutate(authData, using: &generator)] {
                    _ = try? CBORDecoder().decode(bytes)
                    _ = try? AuthenticatorData(bytes)
                    _ = try? COSEKey(encoded: bytes)
                    inputs += 3
                }
                if (try? party.verifyRegistration(
                    attestationObject: mutatedObject,
                    clientDataJSON: round.isMultiple(of: 2) ? createData : Self.mutate(createData, using: &generator),
                    credentialID: authenticator.credentialID,
                    challenge: challenge,
                    requireUserVerification: false
                )) != nil {
                    accepted += 1  // "none" signs nothing, so a change to e.g. the AAGUID can still pass.
                }
                inputs += 1
                // Every byte of an assertion is signed: any change must be refused.
                let part = round % 3
                let mutatedAuthData = part == 0 ? Self.mutate(assertionData, using: &generator) : assertionData
                let mutatedClientData = part == 1 ? Self.mutate(getData, using: &generator) : getData
                let mutatedSignature = part == 2 ? Self.mutate(signature, using: &generator) : signature
                let unchanged = mutatedAuthData == assertionData && mutatedClientData == getData && mutatedSignature == signature
                let result = try? party.verifyAssertion(
                    authenticatorData: mutatedAuthData,
                    clientDataJSON: mutatedClientData,
                    signature: mutatedSignature,
                    publicKey: key,
                    storedSignCount: 1,
                    challenge: challenge,
                    requireUserVerification: false
                )
                #expect((result != nil) == unchanged, "seed \(seed), round \(round), \(key.algorithm)")
                inputs += 1
            }
        }
        print("WebAuthn fuzz: \(inputs) inputs (seed \(seed)), \(accepted) mutated registrations still valid")
        #expect(inputs >= 60_000)
    }
}
