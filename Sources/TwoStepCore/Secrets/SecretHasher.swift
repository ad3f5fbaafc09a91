import Crypto
import Foundation
import _CryptoExtras

/// Hashes passwords and recovery codes with scrypt into self-describing PHC strings
/// (`$scrypt$ln=14,r=8,p=5$<salt>$<hash>`, unpadded base64), so the cost can be raised later and
/// old hashes still verify (``needsRehash(_:)`` says which to upgrade at the next sign-in).
public struct SecretHasher: Sendable {
    /// scrypt's cost: N = 2^logN, block size r, parallelism p.
    public struct Parameters: Equatable, Sendable {
        public var logN: Int
        public var blockSize: Int
        public var parallelism: Int

        public init(logN: Int, blockSize: Int, parallelism: Int) {
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// Whether the cost is one TwoStep accepts: at most 256 MiB of memory (128·r·N bytes) and
        /// p ≤ 16. Stored hashes beyond it never verify, so a doctored hash in the database cannot
        /// make one sign-in allocate gigabytes.
        public var isWithinLimits: Bool {
            (10...20).contains(logN) && (1...32).contains(blockSize) && (1...16).contains(parallelism)
                && (128 * blockSize) << logN <= 256 << 20
        }
    }

    /// OWASP Password Storage Cheat Sheet's scrypt set N=2^14, r=8, p=5 (equivalent to its
    /// N=2^17, r=8, p=1 minimum, with 16 MiB instead of 128 MiB per hash).
    public static let passwords = SecretHasher(parameters: .init(logN: 14, blockSize: 8, parallelism: 5))

    /// Recovery codes carry 50 random bits, not a human-chosen password, so a lighter cost already
    /// puts an offline search of one code at thousands of CPU-years, while a sign-in that tries
    /// each of ten unused codes stays quick. NIST SP 800-63B §5.1.2.2: look-up secrets under
    /// 112 bits are salted (≥ 32 bits, per code) and hashed with a key derivation function.
    public static let recoveryCodes = SecretHasher(parameters: .init(logN: 12, blockSize: 8, parallelism: 1))

    public let parameters: Parameters
    private static let saltLength = 16
    private static let hashLength = 32

    public init(parameters: Parameters) {
        precondition(parameters.isWithinLimits, "scrypt parameters outside TwoStep's limits")
        self.parameters = parameters
    }

    /// Hashes a secret with a fresh random salt.
    ///
    /// Text is first normalised to Unicode NFKC (NIST SP 800-63B §5.1.1.2), so the same password
    /// typed on two keyboards that compose characters differently still matches.
    public func hash(_ secret: String) -> String {
        let salt = SecureRandom.bytes(Self.saltLength)
        let digest = Self.derive(secret, salt: salt, parameters: parameters)
        return "$scrypt$ln=\(parameters.logN),r=\(parameters.blockSize),p=\(parameters.parallelism)$"
            + Self.base64(salt) + "$" + Self.base64(digest)
    }

    /// Whether a secret matches a stored hash. A malformed or out-of-limits hash never matches.
    public func verify(_ secret: String, against encoded: String) -> Bool {
        guard let stored = Self.parse(encoded) else { return false }
        let digest = Self.derive(secret, salt: stored.salt, parameters: stored.parameters)
        return ConstantTime.equals(digest, stored.hash)
    }

    /// Whether a stored hash was made with other parameters than this hasher's (or is unreadable)
    /// and should be replaced the next time the secret is known.
    public func needsRehash(_ encoded: String) -> Bool {
        Self.parse(encoded)?.parameters != parameters
    }

    private static func derive(_ secret: String, salt: [UInt8], parameters: Parameters) -> [UInt8] {
        let normalized = Array(secret.precomposedStringWithCompatibilityMapping.utf8)
        // Parameters are checked before this point; BoringSSL only refuses ones outside its limits.
        let key = try! KDF.Scrypt.deriveKey(
            from: normalized,
            salt: salt,
            outputByteCount: hashLength,
            rounds: 1 << parameters.logN,
            blockSize: parameters.blockSize,
            parallelism: parameters.parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }

    private static func parse(_ encoded: String) -> (parameters: Parameters, salt: [UInt8], hash: [UInt8])? {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[1] == "scrypt" else { return nil }
        var values: [Substring: Int] = [:]
        for pair in fields[2].split(separator: ",") {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            values[parts[0]] = value
        }
        guard values.count == 3, let logN = values["ln"], let r = values["r"], let p = values["p"],
            let salt = unbase64(fields[3]), salt.count >= 8,
            let hash = unbase64(fields[4]), hash.count == hashLength
        else { return nil }
        let parameters = Parameters(logN: logN, blockSize: r, parallelism: p)
        return parameters.isWithinLimits ? (parameters, salt, hash) : nil
    }

    /// The PHC string format's base64: standard alphabet, no padding.
    private static func base64(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().prefix { $0 != "=" })
    }

    private static func unbase64(_ text: Substring) -> [UInt8]? {
        let padded = String(text) + String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: padded).map { Array($0) }
    }
}
