public import Crypto
import Foundation
public import TwoStepCore
public import _CryptoExtras

/// What the core and the server tests share to build WebAuthn objects (issue 17).

/// A CBOR encoder for tests: shortest-form heads, definite lengths, like a CTAP2 authenticator.
public enum TestCBOR {
    public static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        let type = major << 5
        switch value {
        case 0..<24: return [type | UInt8(value)]
        case 24..<0x100: return [type | 24, UInt8(value)]
        case 0x100..<0x1_0000: return [type | 25] + bigEndian(value, 2)
        case 0x1_0000..<0x1_0000_0000: return [type | 26] + bigEndian(value, 4)
        default: return [type | 27] + bigEndian(value, 8)
        }
    }

    public static func bigEndian(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    public static func encode(_ item: CBOR) -> [UInt8] {
        switch item {
        case .unsigned(let value): head(0, value)
        case .negative(let value): head(1, value)
        case .bytes(let bytes): head(2, UInt64(bytes.count)) + bytes
        case .text(let text): head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .array(let items): head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let entries): head(5, UInt64(entries.count)) + entries.flatMap { encode($0.key) + encode($0.value) }
        case .bool(let value): [value ? 0xF5 : 0xF4]
        case .null: [0xF6]
        }
    }

    public static func int(_ value: Int64) -> CBOR { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }

    public static func map(_ pairs: [(CBOR, CBOR)]) -> CBOR { .map(pairs.map { CBORMapEntry(key: $0.0, value: $0.1) }) }
}

/// Decodes base64url (with or without padding) for the published vectors.
public func base64URL(_ text: String) -> [UInt8] {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Array(Data(base64Encoded: base64)!)
}

public func base64URLString(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// An authenticator simulated with swift-crypto keys: it builds the exact bytes a browser would send,
/// so every field can be changed one at a time to perform an attack.
public struct TestAuthenticator: Sendable {
    public enum Key: Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    public let key: Key
    public let credentialID: [UInt8] = Array(SecureRandom.bytes(32))

    public static let flagUP: UInt8 = 0x01
    public static let flagUV: UInt8 = 0x04
    public static let flagAT: UInt8 = 0x40
    public static let flagED: UInt8 = 0x80

    public init(_ algorithm: COSEAlgorithm) throws {
        switch algorithm {
        case .es256: key = .p256(P256.Signing.PrivateKey())
        case .edDSA: key = .ed25519(Curve25519.Signing.PrivateKey())
        case .rs256: key = .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }

    public var coseKey: CBOR {
        switch key {
        case .p256(let key):
            let point = Array(key.publicKey.x963Representation)
            return TestCBOR.map([
                (.unsigned(1), .unsigned(2)), (.unsigned(3), TestCBOR.int(-7)), (TestCBOR.int(-1), .unsigned(1)),
                (TestCBOR.int(-2), .bytes(Array(point[1..<33]))), (TestCBOR.int(-3), .bytes(Array(point[33..<65]))),
            ])
        case .ed25519(let key):
            return TestCBOR.map([
                (.unsigned(1), .unsigned(1)), (.unsigned(3), TestCBOR.int(-8)), (TestCBOR.int(-1), .unsigned(6)),
                (TestCBOR.int(-2), .bytes(Array(key.publicKey.rawRepresentation))),
            ])
        case .rsa(let key):
            let primitives = try! key.publicKey.getKeyPrimitives()
            return TestCBOR.map([
                (.unsigned(1), .unsigned(3)), (.unsigned(3), TestCBOR.int(-257)),
                (TestCBOR.int(-1), .bytes(Array(primitives.modulus))), (TestCBOR.int(-2), .bytes(Array(primitives.publicExponent))),
            ])
        }
    }

    public func sign(_ data: [UInt8]) throws -> [UInt8] {
        switch key {
        case .p256(let key): Array(try key.signature(for: data).derRepresentation)
        case .ed25519(let key): Array(try key.signature(for: data))
        case .rsa(let key): Array(try key.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    public static func clientData(type: String, challenge: [UInt8], origin: String, extra: String = "") -> [UInt8] {
        Array(#"{"type":"\#(type)","challenge":"\#(base64URLString(challenge))","origin":"\#(origin)","crossOrigin":false\#(extra)}"#.utf8)
    }

    public static func authenticatorData(rpID: String, flags: UInt8, signCount: UInt32, attested: [UInt8] = []) -> [UInt8] {
        Array(SHA256.hash(data: Array(rpID.utf8))) + [flags] + TestCBOR.bigEndian(UInt64(signCount), 4) + attested
    }

    /// Attested credential data (§6.5.1): AAGUID, credential ID length and ID, COSE key.
    public var attestedCredentialData: [UInt8] {
        [UInt8](repeating: 0, count: 16) + TestCBOR.bigEndian(UInt64(credentialID.count), 2) + credentialID + TestCBOR.encode(coseKey)
    }

    public static func attestationObject(format: String = "none", authData: [UInt8], statement: CBOR = .map([])) -> [UInt8] {
        TestCBOR.encode(TestCBOR.map([(.text("fmt"), .text(format)), (.text("attStmt"), statement), (.text("authData"), .bytes(authData))]))
    }
}
