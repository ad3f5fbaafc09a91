import Foundation
import Testing
import TwoStepCore

@Suite("Secrets")
struct SecretsTests {
    // MARK: Constant-time comparison

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([UInt8](), []))
        #expect(ConstantTime.equals("123456", "123456"))
        #expect(!ConstantTime.equals("123456", "123457"))
        #expect(!ConstantTime.equals("é", "e\u{301}"))  // bytes, not canonical equivalence
        #expect(ConstantTime.equals(UInt32(42), 42) && !ConstantTime.equals(UInt32(42), 43))
    }

    @Test func secureRandomBytes() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(20).count == 20)
        #expect(SecureRandom.bytes(33).count == 33)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    /// Request ids (issue 19): never the same twice, also when taken from many threads at once,
    /// and nothing like the counter under them, so an id tells nothing of how many came before.
    @Test func uniqueIDsNeverRepeatAndHideTheirCounter() async {
        let ids = UniqueIDs()
        let taken = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<5_000).map { _ in ids.next() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(taken.count == 40_000 && Set(taken).count == 40_000)
        #expect(taken.allSatisfy { $0.utf8.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        // An unencrypted counter would start with zeros; here every digit position takes most values.
        let sequence = UniqueIDs()
        let first = (0..<1_000).map { _ in sequence.next() }
        for position in [0, 15, 31] {
            let digits = Set(first.map { Array($0)[position] })
            #expect(digits.count >= 14, "position \(position): \(digits.sorted())")
        }
        // Another sequence (another server) has its own key.
        #expect(UniqueIDs().next() != UniqueIDs().next())
    }

    // MARK: Password and recovery-code hashing

    /// Cheap parameters keep the suite fast; the production parameters are checked once below.
    let fast = SecretHasher(parameters: .init(logN: 10, blockSize: 8, parallelism: 1))

    @Test func hashesAreSelfDescribingAndSalted() {
        let first = fast.hash("correct horse battery staple")
        let second = fast.hash("correct horse battery staple")
        #expect(first.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(first != second, "a fresh salt each time")
        #expect(!first.contains("correct horse"))
        #expect(fast.verify("correct horse battery staple", against: first))
        #expect(fast.verify("correct horse battery staple", against: second))
        #expect(!fast.verify("correct horse battery stapl", against: first))
        #expect(!fast.verify("", against: first))
    }

    @Test func costLimits() {
        #expect(SecretHasher.Parameters(logN: 17, blockSize: 8, parallelism: 1).isWithinLimits, "OWASP's 128 MiB setting")
        #expect(!SecretHasher.Parameters(logN: 18, blockSize: 16, parallelism: 1).isWithinLimits, "512 MiB")
        #expect(!SecretHasher.Parameters(logN: 9, blockSize: 8, parallelism: 1).isWithinLimits)
        #expect(SecretHasher.passwords.parameters.isWithinLimits && SecretHasher.recoveryCodes.parameters.isWithinLimits)
    }

    @Test func productionParametersFollowOWASP() {
        #expect(SecretHasher.passwords.parameters == .init(logN: 14, blockSize: 8, parallelism: 5))
        let hash = SecretHasher.passwords.hash("hunter2")
        #expect(hash.hasPrefix("$scrypt$ln=14,r=8,p=5$"))
        #expect(SecretHasher.passwords.verify("hunter2", against: hash))
        #expect(!SecretHasher.passwords.needsRehash(hash))
    }

    /// NIST SP 800-63B §5.1.1.2: passwords are NFKC-normalised before hashing.
    @Test func unicodeIsNormalised() {
        let hash = fast.hash("caf\u{E9} ﬁ")  // precomposed é, the "fi" ligature
        #expect(fast.verify("cafe\u{301} fi", against: hash))
        #expect(!fast.verify("cafe fi", against: hash))
    }

    @Test func needsRehashWhenParametersChange() {
        let hash = fast.hash("pw")
        #expect(!fast.needsRehash(hash))
        #expect(SecretHasher.passwords.needsRehash(hash))
        #expect(fast.verify("pw", against: hash), "old hashes still verify")
        #expect(fast.needsRehash("not a hash"))
    }

    @Test(
        "malformed or hostile stored hashes never verify",
        arguments: [
            "", "$", "plain", "$scrypt$", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            "$scrypt$ln=10,r=8$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=10,r=8,p=1$!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0$AAAA",
            "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=10,r=8,p=1000$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=20,r=32,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // 4 GiB
            "$scrypt$ln=10,r=8,p=1,x=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$extra",
        ]
    )
    func malformedHash(stored: String) {
        #expect(!fast.verify("anything", against: stored))
    }

    // MARK: Recovery codes

    @Test func aSetIsTenDistinctEasyToTypeCodes() {
        let codes = RecoveryCode.generateSet()
        #expect(codes.count == 10)
        #expect(Set(codes).count == 10)
        for code in codes {
            let text = code.description
            #expect(text.count == 11 && text.dropFirst(5).first == "-")
            #expect(code.normalized.count == 10)
            #expect(!code.normalized.contains { "01lo".contains($0) }, "no 0, 1, l or o: \(text)")
            #expect(code.normalized.allSatisfy { $0.isLowercase || $0.isNumber })
        }
    }

    /// 10 characters from a 32-letter alphabet is 50 bits only if every letter is equally likely.
    @Test func lettersAreUniform() {
        var counts: [Character: Int] = [:]
        for _ in 0..<2_000 {
            for character in RecoveryCode.generate().normalized { counts[character, default: 0] += 1 }
        }
        #expect(counts.count == 32)
        // 20,000 draws over 32 letters: 625 expected each; ±25 % is far beyond chance (σ ≈ 24).
        #expect(counts.values.allSatisfy { (470...780).contains($0) }, "\(counts)")
    }

    @Test func typedInputIsNormalised() throws {
        let code = try #require(RecoveryCode("k7dpx-3mq2a"))
        #expect(RecoveryCode("K7DPX-3MQ2A") == code)
        #expect(RecoveryCode("k7dpx3mq2a") == code)
        #expect(RecoveryCode("  k7dpx 3mq2a ") == code)
        #expect(RecoveryCode("k7-dp-x3-mq-2a") == code)
        #expect(code.description == "k7dpx-3mq2a")
    }

    @Test(
        "impossible codes are refused before any hashing",
        arguments: [
            "", "k7dpx-3mq2", "k7dpx-3mq2ab", "k7dpx-3mq20", "k7dpx-3mq21", "k7dpl-3mq2a", "k7dpo-3mq2a",
            "k7dpx_3mq2a", "k7dpx-3mq2á", "' OR 1=1 --", "k7dpx-3mq2a\u{0}",
        ]
    )
    func refused(input: String) {
        #expect(RecoveryCode(input) == nil)
    }

    @Test func storedHashesMatchOnlyTheirCode() throws {
        let codes = RecoveryCode.generateSet()
        let hashes = codes.map { $0.hashed(with: fast) }
        #expect(hashes.allSatisfy { $0.hasPrefix("$scrypt$") && !$0.contains(codes[0].normalized) })
        for (index, code) in codes.enumerated() {
            #expect(code.firstMatch(in: hashes, hasher: fast) == index)
        }
        let typed = try #require(RecoveryCode(codes[3].description.uppercased()))
        #expect(typed.firstMatch(in: hashes, hasher: fast) == 3)
        #expect(RecoveryCode.generate().firstMatch(in: hashes, hasher: fast) == nil)
        #expect(codes[0].firstMatch(in: [], hasher: fast) == nil)
        #expect(SecretHasher.recoveryCodes.parameters.logN >= 12)
    }

    // MARK: Sealing

    let key = SealingKey.generate()

    @Test func sealAndOpen() throws {
        let ring = KeyRing(active: key)
        let secret = SecureRandom.bytes(20)
        let sealed = ring.seal(secret, context: "totp:42")
        #expect(sealed.hasPrefix("v1.\(key.id)."))
        #expect(!sealed.contains(Base32.encode(secret, padding: false)))
        #expect(try ring.open(sealed, context: "totp:42") == secret)
        #expect(ring.seal(secret, context: "totp:42") != sealed, "a fresh nonce each time")
        #expect(try ring.open(ring.seal([UInt8](), context: "c"), context: "c") == [])
    }

    /// A sealed value copied into another record must not open there.
    @Test func contextIsBound() {
        let ring = KeyRing(active: key)
        let sealed = ring.seal(Array("secret".utf8), context: "totp:42")
        #expect(throws: SealingError.authenticationFailed) { try ring.open(sealed, context: "totp:43") }
        #expect(throws: SealingError.authenticationFailed) { try ring.open(sealed, context: "") }
    }

    @Test func tamperingIsDetected() {
        let ring = KeyRing(active: key)
        let sealed = ring.seal(Array("secret".utf8), context: "c")
        var bytes = Array(sealed.utf8)
        for index in stride(from: "v1.\(key.id).".utf8.count, to: bytes.count, by: 7) {
            var tampered = bytes
            tampered[index] = tampered[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            #expect(throws: SealingError.self) { try ring.open(String(decoding: tampered, as: UTF8.self), context: "c") }
        }
        bytes.removeLast(4)
        #expect(throws: SealingError.self) { try ring.open(String(decoding: bytes, as: UTF8.self), context: "c") }
    }

    @Test(
        "malformed sealed values",
        arguments: [
            ("", SealingError.malformed), ("v1", .malformed), ("v1..", .unknownKey), ("v2.abc.AAAA", .malformed), ("v1.abc", .malformed),
            ("v1.abc.!!!!", .malformed), ("v1.abc.AAAA.extra", .malformed), ("v1.abc.AA", .authenticationFailed),
            ("v1.abc\u{301}.AAAA", .unknownKey), ("v1.ab\u{301}c.AAAA", .unknownKey), ("v1.abc.\u{301}AAAA", .malformed),
        ]
    )
    func malformedSealedValue(sealed: String, expected: SealingError) {
        let ring = KeyRing(active: key)
        #expect(throws: expected) { try ring.open(sealed.replacingOccurrences(of: "abc", with: key.id), context: "c") }
    }

    @Test func wrongOrUnknownKey() throws {
        let other = try SealingKey(id: key.id, rawKey: SealingKey.generate().rawKey)
        let sealed = KeyRing(active: key).seal(Array("x".utf8), context: "c")
        #expect(throws: SealingError.authenticationFailed) { try KeyRing(active: other).open(sealed, context: "c") }
        #expect(throws: SealingError.unknownKey) { try KeyRing(active: SealingKey.generate()).open(sealed, context: "c") }
    }

    /// `twostep keys rotate`: a new active key seals; the retired one still opens older values.
    @Test func rotation() throws {
        let old = KeyRing(active: key)
        let sealed = old.seal(Array("kept".utf8), context: "c")
        let newKey = SealingKey.generate()
        let rotated = KeyRing(active: newKey, retired: [key])
        #expect(try rotated.open(sealed, context: "c") == Array("kept".utf8))
        #expect(rotated.needsResealing(sealed))
        let resealed = rotated.seal(try rotated.open(sealed, context: "c"), context: "c")
        #expect(!rotated.needsResealing(resealed))
        #expect(throws: SealingError.unknownKey) { try old.open(resealed, context: "c") }
    }

    @Test func keysAreValidated() throws {
        #expect(throws: SealingError.invalidKey) { try SealingKey(id: "k1", rawKey: [UInt8](repeating: 0, count: 16)) }
        #expect(throws: SealingError.invalidKey) { try SealingKey(id: "", rawKey: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: SealingError.invalidKey) { try SealingKey(id: "a.b", rawKey: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: SealingError.invalidKey) { try SealingKey(id: String(repeating: "k", count: 33), rawKey: [UInt8](repeating: 0, count: 32)) }
        let restored = try SealingKey(id: key.id, rawKey: key.rawKey)
        let sealed = KeyRing(active: key).seal(Array("x".utf8), context: "c")
        #expect(try KeyRing(active: restored).open(sealed, context: "c") == Array("x".utf8))
        #expect(key.id.count == 8 && SealingKey.generate().id != key.id)
    }
}
