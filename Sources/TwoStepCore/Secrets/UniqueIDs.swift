import Crypto
import Synchronization
import _CryptoExtras

/// Identifiers that never repeat within a sequence and that nobody outside the process can
/// predict: a counter, encrypted with a key drawn when the sequence is made. AES is a permutation
/// of 128-bit blocks, so two counters never give the same identifier; without the key, one
/// identifier tells nothing about the next, nor how many were handed out in between.
///
/// For request ids, which the server makes for every request: 16 bytes of `SecureRandom` are two
/// `getrandom` system calls (issue 19); this makes none. Not for secrets: an identifier is shown
/// to whoever made the request.
public final class UniqueIDs: Sendable {
    private let key = SymmetricKey(size: .bits128)
    private let counter = Atomic<UInt64>(0)

    public init() {}

    /// The next identifier: 32 lower-case hex digits.
    public func next() -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var block = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: count.bigEndian) { block.replaceSubrange(8..<16, with: $0) }
        // A 16-byte block and a 128-bit key, the only inputs `permute` refuses otherwise.
        try! AES.permute(&block, key: key)
        return block.hexEncoded()
    }
}
