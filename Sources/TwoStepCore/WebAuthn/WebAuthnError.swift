/// Why a WebAuthn registration or assertion is refused. Each value names one verification step of
/// W3C WebAuthn Level 2 §7.1 / §7.2, so a log line or a 400 answer says which check failed.
public struct WebAuthnError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case malformedCBOR, malformedClientData, wrongType, wrongChallenge, wrongOrigin, crossOrigin
        case malformedAuthenticatorData, wrongRelyingParty, userNotPresent, userNotVerified, invalidBackupFlags
        case missingCredentialData, credentialIDMismatch, malformedAttestationObject, unsupportedAttestationFormat
        case invalidAttestationStatement, unsupportedAlgorithm, invalidPublicKey, invalidSignature, counterDidNotIncrease
    }

    private let kind: Kind
    private let detail: String

    private init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    /// CBOR that the strict decoder refuses.
    public static func malformedCBOR(_ error: CBORError) -> Self { Self(.malformedCBOR, error.description) }
    /// `clientDataJSON` is not the JSON object the browser produces (§7.1 steps 5–6).
    public static func malformedClientData(_ why: String) -> Self { Self(.malformedClientData, why) }
    /// `type` is not `webauthn.create` / `webauthn.get` (§7.1 step 7, §7.2 step 11): a signed
    /// assertion must not pass as a registration or the other way round.
    public static let wrongType = Self(.wrongType)
    /// The challenge is not the one this server issued (§7.1 step 8): a replayed or foreign response.
    public static let wrongChallenge = Self(.wrongChallenge)
    /// The origin is not one of the configured origins (§7.1 step 9): the page that asked was a phishing site.
    public static let wrongOrigin = Self(.wrongOrigin)
    /// The ceremony ran in a cross-origin iframe, which TwoStep's pages never do (L3 §7.1 step 10).
    public static let crossOrigin = Self(.crossOrigin)
    /// Authenticator data is too short, too long or inconsistent with its flags (§6.1).
    public static func malformedAuthenticatorData(_ why: String) -> Self { Self(.malformedAuthenticatorData, why) }
    /// The RP ID hash is not SHA-256 of our RP ID (§7.1 step 13): a credential scoped to another site.
    public static let wrongRelyingParty = Self(.wrongRelyingParty)
    /// The user-present flag is clear (§7.1 step 14): nobody touched the key.
    public static let userNotPresent = Self(.userNotPresent)
    /// The user-verified flag is clear where verification is required (§7.1 step 15), e.g. passkey sign-in.
    public static let userNotVerified = Self(.userNotVerified)
    /// Backup state is set without backup eligibility (L3 §6.1, §7.1 step 16).
    public static let invalidBackupFlags = Self(.invalidBackupFlags)
    /// A registration without attested credential data (§7.1 step 12, §6.5.1).
    public static let missingCredentialData = Self(.missingCredentialData)
    /// The credential ID in authenticator data is not the one the client reported.
    public static let credentialIDMismatch = Self(.credentialIDMismatch)
    /// The attestation object is not a map of `fmt`, `authData` and `attStmt` (§6.5.4).
    public static func malformedAttestationObject(_ why: String) -> Self { Self(.malformedAttestationObject, why) }
    /// An attestation statement format that is not in the WebAuthn registry (§7.1 step 19).
    public static func unsupportedAttestationFormat(_ format: String) -> Self { Self(.unsupportedAttestationFormat, format) }
    /// A "none" attestation with a non-empty statement (§8.7).
    public static let invalidAttestationStatement = Self(.invalidAttestationStatement)
    /// A COSE algorithm other than ES256, EdDSA and RS256 (§7.1 step 17).
    public static func unsupportedAlgorithm(_ identifier: Int64) -> Self { Self(.unsupportedAlgorithm, "\(identifier)") }
    /// A COSE key whose parameters do not make a valid key for its algorithm.
    public static func invalidPublicKey(_ why: String) -> Self { Self(.invalidPublicKey, why) }
    /// The assertion signature does not verify with the stored public key (§7.2 step 20).
    public static let invalidSignature = Self(.invalidSignature)
    /// The signature counter did not increase although one of the counters is non-zero (§7.2 step 21):
    /// the authenticator may have been cloned. Callers log it as a security event.
    public static let counterDidNotIncrease = Self(.counterDidNotIncrease)

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.kind == rhs.kind }

    public var description: String {
        switch kind {
        case .malformedCBOR: "malformed CBOR: \(detail)"
        case .malformedClientData: "malformed client data: \(detail)"
        case .wrongType: "client data has the wrong type for this ceremony"
        case .wrongChallenge: "client data does not carry the challenge this server issued"
        case .wrongOrigin: "client data comes from an origin that is not allowed"
        case .crossOrigin: "the ceremony ran in a cross-origin frame"
        case .malformedAuthenticatorData: "malformed authenticator data: \(detail)"
        case .wrongRelyingParty: "authenticator data is for another relying party (RP ID hash differs)"
        case .userNotPresent: "the authenticator did not report user presence"
        case .userNotVerified: "the authenticator did not report user verification, which is required"
        case .invalidBackupFlags: "authenticator data has backup state without backup eligibility"
        case .missingCredentialData: "registration has no attested credential data"
        case .credentialIDMismatch: "credential ID differs from the one in authenticator data"
        case .malformedAttestationObject: "malformed attestation object: \(detail)"
        case .unsupportedAttestationFormat: "unknown attestation format \"\(detail)\""
        case .invalidAttestationStatement: "a \"none\" attestation must have an empty statement"
        case .unsupportedAlgorithm: "unsupported COSE algorithm \(detail)"
        case .invalidPublicKey: "invalid credential public key: \(detail)"
        case .invalidSignature: "the assertion signature is not valid"
        case .counterDidNotIncrease: "the signature counter did not increase: the authenticator may be cloned"
        }
    }
}
