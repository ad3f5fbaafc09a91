public import Crypto

/// The relying-party side of WebAuthn: verifies registrations (W3C WebAuthn Level 2 §7.1) and
/// assertions (§7.2). Pure: it keeps no state; the caller issues and consumes challenges and
/// stores credentials and counters.
public struct WebAuthnRelyingParty: Sendable {
    /// The RP ID: a registrable domain suffix of the origins (§5.1), e.g. `example.com` or `localhost`.
    public let id: String
    /// Origins allowed to run ceremonies, compared exactly (§7.1 step 9).
    public let allowedOrigins: [String]
    /// Algorithms offered in `pubKeyCredParams` and accepted at registration (§7.1 step 17).
    public let algorithms: [COSEAlgorithm]

    public init(id: String, allowedOrigins: [String], algorithms: [COSEAlgorithm] = [.es256, .edDSA, .rs256]) {
        self.id = id
        self.allowedOrigins = allowedOrigins
        self.algorithms = algorithms
    }

    /// SHA-256 of the RP ID, which authenticator data must start with (§7.1 step 13).
    public var idHash: [UInt8] { Array(SHA256.hash(data: Array(id.utf8))) }

    /// How much an attestation statement was checked.
    public enum Attestation: Equatable, Sendable {
        /// "none" (§8.7): the authenticator makes no claim about its make; the usual choice for
        /// consumer keys and passkeys, and what TwoStep asks for.
        case none
        /// Another registered format, accepted without verifying its statement or certificate chain
        /// (§7.1 step 21 allows it, "self" / "None" trust): TwoStep does not restrict which
        /// authenticator models may be used, so it trusts such a key no more than a "none" one.
        case unverified(format: String)
    }

    /// A credential accepted at registration, to be stored for later assertions.
    public struct Registration: Sendable {
        public let credentialID: [UInt8]
        public let publicKey: COSEKey
        public let signCount: UInt32
        public let aaguid: [UInt8]
        public let userVerified: Bool
        public let backupEligible: Bool
        public let backedUp: Bool
        public let attestation: Attestation
    }

    /// The outcome of a valid assertion.
    public struct Assertion: Sendable {
        /// The counter to store in place of the old one (§7.2 step 21).
        public let signCount: UInt32
        public let userVerified: Bool
        public let backedUp: Bool
    }

    /// Statement formats in the IANA "WebAuthn Attestation Statement Format Identifiers" registry (§8).
    static let registeredFormats: Set<String> = ["packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple", "none"]

    /// Verifies a registration response (§7.1).
    /// - Parameters:
    ///   - attestationObject: `response.attestationObject` as sent by the browser.
    ///   - clientDataJSON: `response.clientDataJSON`.
    ///   - credentialID: The `rawId` the client reported; it must be the one the authenticator attested.
    ///   - challenge: The challenge this server issued for this ceremony (the caller consumes it once).
    ///   - requireUserVerification: True for passkeys (they replace password and code, so the
    ///     authenticator must have checked a PIN or biometric: NIST SP 800-63B §5.1.9, multi-factor
    ///     cryptographic device).
    public func verifyRegistration(
        attestationObject: [UInt8],
        clientDataJSON: [UInt8],
        credentialID: [UInt8],
        challenge: [UInt8],
        requireUserVerification: Bool
    ) throws(WebAuthnError) -> Registration {
        // Steps 5–10: the browser's record of what was asked and by whom.
        try CollectedClientData(json: clientDataJSON).verify(ceremony: .create, challenge: challenge, allowedOrigins: allowedOrigins)
        // Step 12: the attestation object.
        let object: CBOR
        do { object = try CBORDecoder().decode(attestationObject) } catch { throw .malformedCBOR(error) }
        guard case .map(let entries) = object, entries.count == 3 else {
            throw .malformedAttestationObject("not a map of fmt, authData and attStmt")
        }
        guard case .text(let format) = object["fmt"], case .bytes(let authDataBytes) = object["authData"],
            case .map(let statement) = object["attStmt"]
        else { throw .malformedAttestationObject("fmt, authData or attStmt missing or of the wrong type") }
        let authData = try AuthenticatorData(authDataBytes)
        // Steps 13–16.
        try checkFlagsAndRelyingParty(authData, requireUserVerification: requireUserVerification)
        guard let credential = authData.attestedCredential else { throw .missingCredentialData }
        guard credential.credentialID == credentialID else { throw .credentialIDMismatch }
        // Step 17: only algorithms this relying party offered.
        guard algorithms.contains(credential.publicKey.algorithm) else {
            throw .unsupportedAlgorithm(credential.publicKey.algorithm.rawValue)
        }
        // Steps 19–21: TwoStep asks for attestation "none"; see `Attestation.unverified`.
        guard Self.registeredFormats.contains(format) else { throw .unsupportedAttestationFormat(format) }
        let attestation: Attestation
        if format == "none" {
            // §8.7: the statement of "none" is the empty map.
            guard statement.isEmpty else { throw .invalidAttestationStatement }
            attestation = .none
        } else {
            attestation = .unverified(format: format)
        }
        return Registration(
            credentialID: credential.credentialID,
            publicKey: credential.publicKey,
            signCount: authData.signCount,
            aaguid: credential.aaguid,
            userVerified: authData.userVerified,
            backupEligible: authData.backupEligible,
            backedUp: authData.backedUp,
            attestation: attestation
        )
    }

    /// Verifies an assertion (§7.2) made with a stored credential.
    /// - Parameters:
    ///   - publicKey: The credential's stored public key.
    ///   - storedSignCount: The counter stored after the last use (0 for authenticators without one).
    ///   - requireUserVerification: True for passkey sign-in (no password, no code).
    /// - Returns: The new counter and flags; the caller stores the counter.
    public func verifyAssertion(
        authenticatorData authDataBytes: [UInt8],
        clientDataJSON: [UInt8],
        signature: [UInt8],
        publicKey: COSEKey,
        storedSignCount: UInt32,
        challenge: [UInt8],
        requireUserVerification: Bool
    ) throws(WebAuthnError) -> Assertion {
        // Steps 10–14.
        try CollectedClientData(json: clientDataJSON).verify(ceremony: .get, challenge: challenge, allowedOrigins: allowedOrigins)
        let authData = try AuthenticatorData(authDataBytes)
        // Steps 15–17.
        try checkFlagsAndRelyingParty(authData, requireUserVerification: requireUserVerification)
        // Steps 19–20: the signature covers authenticator data and the hash of the client data, so it
        // binds the origin and challenge too.
        let signed = authDataBytes + Array(SHA256.hash(data: clientDataJSON))
        guard publicKey.isValidSignature(signature, for: signed) else { throw .invalidSignature }
        // Step 21, only after the signature verified, so a forged response cannot raise a clone alarm.
        guard Self.counterIsAcceptable(stored: storedSignCount, received: authData.signCount) else { throw .counterDidNotIncrease }
        return Assertion(signCount: authData.signCount, userVerified: authData.userVerified, backedUp: authData.backedUp)
    }

    /// §7.2 step 21: when either counter is non-zero the new one must be greater; otherwise two copies
    /// of the private key may exist (a cloned authenticator). Both zero means the authenticator keeps
    /// no counter (most passkeys), which is allowed.
    public static func counterIsAcceptable(stored: UInt32, received: UInt32) -> Bool {
        (stored == 0 && received == 0) || received > stored
    }

    private func checkFlagsAndRelyingParty(_ authData: AuthenticatorData, requireUserVerification: Bool) throws(WebAuthnError) {
        guard ConstantTime.equals(authData.rpIDHash, idHash) else { throw .wrongRelyingParty }
        guard authData.userPresent else { throw .userNotPresent }
        guard !requireUserVerification || authData.userVerified else { throw .userNotVerified }
        guard authData.backupEligible || !authData.backedUp else { throw .invalidBackupFlags }
    }
}
