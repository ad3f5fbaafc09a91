/// Authenticator data (W3C WebAuthn §6.1): what the authenticator itself signs about the ceremony.
public struct AuthenticatorData: Sendable {
    /// The credential created by a registration (§6.5.1).
    public struct AttestedCredential: Sendable {
        public let aaguid: [UInt8]
        public let credentialID: [UInt8]
        public let publicKey: COSEKey
    }

    public let rpIDHash: [UInt8]
    public let flags: UInt8
    public let signCount: UInt32
    public let attestedCredential: AttestedCredential?
    public let extensions: CBOR?

    public var userPresent: Bool { flags & 0x01 != 0 }
    public var userVerified: Bool { flags & 0x04 != 0 }
    public var backupEligible: Bool { flags & 0x08 != 0 }
    public var backedUp: Bool { flags & 0x10 != 0 }

    /// §5.1 of WebAuthn L3: a credential ID is at most 1023 bytes; longer ones are refused.
    static let maximumCredentialIDLength = 1023

    /// Parses authenticator data. Every byte must be accounted for by the flags: attested
    /// credential data only when AT (bit 6) is set, extensions only when ED (bit 7) is set, and
    /// nothing after them (§6.1: the structure has no length prefix, so trailing bytes mean the
    /// flags and the content disagree).
    public init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count >= 37 else { throw .malformedAuthenticatorData("shorter than 37 bytes") }
        rpIDHash = Array(bytes[0..<32])
        flags = bytes[32]
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        var offset = 37
        let decoder = CBORDecoder()
        if flags & 0x40 != 0 {
            guard bytes.count >= offset + 18 else { throw .malformedAuthenticatorData("attested credential data is truncated") }
            let aaguid = Array(bytes[offset..<offset + 16])
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard length <= Self.maximumCredentialIDLength else { throw .malformedAuthenticatorData("credential ID longer than 1023 bytes") }
            guard bytes.count >= offset + length else { throw .malformedAuthenticatorData("credential ID is truncated") }
            let credentialID = Array(bytes[offset..<offset + length])
            offset += length
            let key: CBOR
            let end: Int
            do { (key, end) = try decoder.decodePrefix(bytes, from: offset) } catch { throw .malformedCBOR(error) }
            let publicKey = try COSEKey(key, encoded: Array(bytes[offset..<end]))
            offset = end
            attestedCredential = AttestedCredential(aaguid: aaguid, credentialID: credentialID, publicKey: publicKey)
        } else {
            attestedCredential = nil
        }
        if flags & 0x80 != 0 {
            let item: CBOR
            do { (item, offset) = try decoder.decodePrefix(bytes, from: offset) } catch { throw .malformedCBOR(error) }
            guard case .map = item else { throw .malformedAuthenticatorData("extensions are not a map") }
            extensions = item
        } else {
            extensions = nil
        }
        guard offset == bytes.count else { throw .malformedAuthenticatorData("trailing bytes") }
    }
}
