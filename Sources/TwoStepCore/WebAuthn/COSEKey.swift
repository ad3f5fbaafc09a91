public import Crypto
import Foundation
import _CryptoExtras

/// The signature algorithms TwoStep accepts for security keys and passkeys, by COSE identifier
/// (IANA COSE Algorithms registry). These three cover every authenticator in use: ES256 is what
/// CTAP2 keys and passkeys default to, EdDSA some security keys prefer, RS256 is Windows Hello's.
public enum COSEAlgorithm: Int64, CaseIterable, Sendable {
    case es256 = -7
    case edDSA = -8
    case rs256 = -257
}

/// A credential public key decoded from its COSE_Key encoding (RFC 9052 §7, RFC 9053), kept with
/// the bytes it came from so a store can save exactly what the authenticator sent.
public struct COSEKey: Sendable {
    private enum Key: Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    private let key: Key
    public let algorithm: COSEAlgorithm
    /// The COSE_Key as encoded by the authenticator.
    public let encoded: [UInt8]

    /// Decodes a stored COSE_Key.
    public init(encoded: [UInt8]) throws(WebAuthnError) {
        let item: CBOR
        do { item = try CBORDecoder().decode(encoded) } catch { throw .malformedCBOR(error) }
        try self.init(item, encoded: encoded)
    }

    /// Builds the key from a decoded COSE_Key map, refusing any parameter that does not match the
    /// algorithm (a key type / curve mismatch is how algorithm-confusion attacks start).
    init(_ item: CBOR, encoded: [UInt8]) throws(WebAuthnError) {
        guard case .map = item else { throw .invalidPublicKey("not a map") }
        guard let algorithmID = item[3]?.integer else { throw .invalidPublicKey("no algorithm") }
        guard let algorithm = COSEAlgorithm(rawValue: algorithmID) else { throw .unsupportedAlgorithm(algorithmID) }
        let keyType = item[1]?.integer
        switch algorithm {
        case .es256:
            // kty 2 = EC2, crv 1 = P-256 (RFC 9053 §7.1).
            guard keyType == 2, item[-1]?.integer == 1,
                case .bytes(let x) = item[-2], case .bytes(let y) = item[-3], x.count == 32, y.count == 32,
                let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
            else { throw .invalidPublicKey("not a P-256 point") }
            self.key = .p256(key)
        case .edDSA:
            // kty 1 = OKP, crv 6 = Ed25519 (RFC 9053 §7.2).
            guard keyType == 1, item[-1]?.integer == 6, case .bytes(let x) = item[-2], x.count == 32,
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x)
            else { throw .invalidPublicKey("not an Ed25519 key") }
            self.key = .ed25519(key)
        case .rs256:
            // kty 3 = RSA, n and e (RFC 8230 §4); swift-crypto refuses moduli under 2048 bits.
            guard keyType == 3, case .bytes(let n) = item[-1], case .bytes(let e) = item[-2], !n.isEmpty, !e.isEmpty,
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { throw .invalidPublicKey("not an RSA key of 2048 bits or more") }
            self.key = .rsa(key)
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// Whether `signature` is this key's signature over `data`.
    /// ES256 signatures are DER-encoded ECDSA (WebAuthn §6.5.5); RS256 is RSASSA-PKCS1-v1_5 with
    /// SHA-256 (RFC 8812 §2), not swift-crypto's default PSS.
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        switch key {
        case .p256(let key):
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: data)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: data)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: data, padding: .insecurePKCS1v1_5)
        }
    }
}
