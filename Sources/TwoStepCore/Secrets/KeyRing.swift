import Crypto
public import Foundation

/// A 256-bit AES key with a short name that sealed values carry, so the key that sealed them can be
/// found after a rotation.
public struct SealingKey: Sendable {
    /// Letters, digits, `-` and `_`, at most 32 characters.
    public let id: String
    let key: SymmetricKey

    /// Makes a key from stored bytes.
    /// - Throws: ``SealingError/invalidKey`` unless the key is 32 bytes and the id is well formed.
    public init(id: String, rawKey: some ContiguousBytes) throws(SealingError) {
        let key = SymmetricKey(data: rawKey)
        guard key.bitCount == 256, Self.isValidID(id) else { throw .invalidKey }
        self.id = id
        self.key = key
    }

    /// A new random key with a random 8-character id.
    public static func generate() -> SealingKey {
        let id = SecureRandom.bytes(4).map { String($0 >> 4, radix: 16) + String($0 & 0x0F, radix: 16) }.joined()
        return try! SealingKey(id: id, rawKey: SymmetricKey(size: .bits256))
    }

    /// The key's bytes, for writing to the key file.
    public var rawKey: [UInt8] { key.withUnsafeBytes { Array($0) } }

    private static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 32
            && id.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }
}

/// Seals secrets at rest (TOTP keys, revealable recovery codes) with AES-256-GCM, so a database
/// dump alone reveals none of them (SPEC §2).
///
/// One key is active for sealing; older keys stay for opening until everything has been
/// re-sealed (`twostep keys rotate`). A sealed value reads `v1.<key id>.<base64url(nonce‖ciphertext‖tag)>`.
/// Each value is bound to a context string (for example `totp:42`) as authenticated data, so a
/// sealed value copied into another row or another user's record does not open.
public struct KeyRing: Sendable {
    /// The key new values are sealed with.
    public let active: SealingKey
    private let keysByID: [String: SealingKey]

    /// - Parameters:
    ///   - active: The key to seal with.
    ///   - retired: Older keys still needed to open values sealed before a rotation.
    public init(active: SealingKey, retired: [SealingKey] = []) {
        self.active = active
        var keys = Dictionary(retired.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        keys[active.id] = active
        self.keysByID = keys
    }

    /// Every key, the active one first: what a key file holds.
    public var keys: [SealingKey] {
        [active] + keysByID.values.filter { $0.id != active.id }.sorted { $0.id < $1.id }
    }

    /// Seals bytes under the active key with a fresh random nonce.
    public func seal(_ plaintext: some DataProtocol, context: String) -> String {
        let box = try! AES.GCM.seal(plaintext, using: active.key, authenticating: Self.authenticatedData(active.id, context))
        return "v1.\(active.id)." + box.combined!.base64URLEncoded()
    }

    /// Opens a sealed value.
    /// - Throws: ``SealingError`` when the value is malformed, names a key this ring lacks, or was
    ///   altered, sealed under another key or sealed for another context.
    public func open(_ sealed: String, context: String) throws(SealingError) -> [UInt8] {
        guard let (keyID, payload) = Self.fields(sealed), let combined = Base64URL.decode(payload) else { throw .malformed }
        guard let key = keysByID[String(keyID)] else { throw .unknownKey }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plaintext = try AES.GCM.open(box, using: key.key, authenticating: Self.authenticatedData(key.id, context))
            return Array(plaintext)
        } catch {
            throw .authenticationFailed
        }
    }

    /// Whether a sealed value was made with a key other than the active one and should be re-sealed.
    public func needsResealing(_ sealed: String) -> Bool {
        Self.fields(sealed)?.keyID != active.id[...]
    }

    /// The key id and the payload of `v1.<key id>.<base64url>`, read byte by byte: `open` runs on
    /// every code check, and splitting was a measured 1 % of it (issue 19).
    private static func fields(_ sealed: String) -> (keyID: Substring, payload: Substring)? {
        let text = sealed.utf8
        guard text.starts(with: "v1.".utf8) else { return nil }
        let keyID = text.index(text.startIndex, offsetBy: 3)
        guard let dot = text[keyID...].firstIndex(of: UInt8(ascii: ".")) else { return nil }
        return (Substring(text[keyID..<dot]), Substring(text[text.index(after: dot)...]))
    }

    private static func authenticatedData(_ keyID: String, _ context: String) -> Data {
        Data("twostep-seal-v1\u{0}\(keyID)\u{0}\(context)".utf8)
    }
}

/// Why a value cannot be sealed or opened.
public struct SealingError: Error, Equatable, CustomStringConvertible {
    private enum Kind { case invalidKey, malformed, unknownKey, authenticationFailed }
    private let kind: Kind

    /// Key bytes that are not 256 bits, or a badly formed key id.
    public static let invalidKey = Self(kind: .invalidKey)
    /// Not a sealed value of a known format.
    public static let malformed = Self(kind: .malformed)
    /// Sealed under a key this ring does not hold.
    public static let unknownKey = Self(kind: .unknownKey)
    /// Altered, or sealed under another key or for another context.
    public static let authenticationFailed = Self(kind: .authenticationFailed)

    public var description: String {
        switch kind {
        case .invalidKey: "a sealing key must be 32 bytes with an id of letters, digits, - and _"
        case .malformed: "the sealed value is malformed"
        case .unknownKey: "the sealed value names a key that is not in the key ring"
        case .authenticationFailed: "the sealed value does not open: it was altered, or sealed with another key or for another record"
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
