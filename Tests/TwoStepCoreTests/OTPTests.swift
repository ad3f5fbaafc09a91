import Foundation
import Testing
import TwoStepCore

@Suite("HOTP and TOTP")
struct OTPTests {
    static let rfc4226Secret = Array("12345678901234567890".utf8)

    /// RFC 4226 Appendix D: HOTP-SHA1, 6 digits, counters 0–9.
    static let rfc4226Codes = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

    @Test("RFC 4226 Appendix D", arguments: rfc4226Codes.enumerated().map { ($0.offset, $0.element) })
    func rfc4226(counter: Int, expected: String) throws {
        let hotp = try HOTP(secret: Self.rfc4226Secret)
        #expect(hotp.code(counter: UInt64(counter)) == expected)
    }

    /// RFC 6238 Appendix B: 8 digits, 30 s; each algorithm has its own seed length.
    static let rfc6238Vectors: [(time: TimeInterval, algorithm: OTPAlgorithm, code: String)] = [
        (59, .sha1, "94287082"), (59, .sha256, "46119246"), (59, .sha512, "90693936"),
        (1_111_111_109, .sha1, "07081804"), (1_111_111_109, .sha256, "68084774"), (1_111_111_109, .sha512, "25091201"),
        (1_111_111_111, .sha1, "14050471"), (1_111_111_111, .sha256, "67062674"), (1_111_111_111, .sha512, "99943326"),
        (1_234_567_890, .sha1, "89005924"), (1_234_567_890, .sha256, "91819424"), (1_234_567_890, .sha512, "93441116"),
        (2_000_000_000, .sha1, "69279037"), (2_000_000_000, .sha256, "90698825"), (2_000_000_000, .sha512, "38618901"),
        (20_000_000_000, .sha1, "65353130"), (20_000_000_000, .sha256, "77737706"), (20_000_000_000, .sha512, "47863826"),
    ]

    static func rfc6238Seed(_ algorithm: OTPAlgorithm) -> [UInt8] {
        let length = [OTPAlgorithm.sha1: 20, .sha256: 32, .sha512: 64][algorithm]!
        return Array(String(repeating: "1234567890", count: 7).utf8.prefix(length))
    }

    @Test("RFC 6238 Appendix B", arguments: rfc6238Vectors.indices)
    func rfc6238(index: Int) throws {
        let vector = Self.rfc6238Vectors[index]
        let totp = try TOTP(secret: Self.rfc6238Seed(vector.algorithm), algorithm: vector.algorithm, digits: 8)
        let time = Date(timeIntervalSince1970: vector.time)
        #expect(totp.code(at: time) == vector.code)
        #expect(totp.verify(vector.code, at: time, window: 0) == .accepted(step: UInt64(vector.time) / 30, offset: 0))
    }

    @Test func sevenDigitsAreZeroPadded() throws {
        // RFC 4226's counter 0 value 1284755224 mod 10^7 = 4755224; mod 10^8 = 84755224.
        #expect(try HOTP(secret: Self.rfc4226Secret, digits: 7).code(counter: 0) == "4755224")
        #expect(try HOTP(secret: Self.rfc4226Secret, digits: 8).code(counter: 0) == "84755224")
        // RFC 6238 at 1111111109 is 07081804: the leading zero must survive.
        let totp = try TOTP(secret: Self.rfc6238Seed(.sha1), digits: 8)
        #expect(totp.code(at: Date(timeIntervalSince1970: 1_111_111_109)).hasPrefix("0"))
    }

    @Test func refusesUnusableParameters() {
        #expect(throws: OTPError.emptySecret) { try HOTP(secret: [UInt8]()) }
        for digits in [-1, 0, 5, 9, 10, 12] {
            #expect(throws: OTPError.unsupportedDigits) { try HOTP(secret: Self.rfc4226Secret, digits: digits) }
        }
        for period in [0, -30] {
            #expect(throws: OTPError.unsupportedPeriod) { try TOTP(secret: Self.rfc4226Secret, period: period) }
        }
    }

    // MARK: Verification

    let totp = try! TOTP(secret: OTPTests.rfc4226Secret)
    let now = Date(timeIntervalSince1970: 1_700_000_015)  // step 56,666,667, 15 s into it
    var step: UInt64 { totp.step(at: now) }

    @Test func windowAcceptsNeighbouringStepsAndReportsDrift() {
        #expect(totp.verify(totp.code(step: step), at: now) == .accepted(step: step, offset: 0))
        #expect(totp.verify(totp.code(step: step - 1), at: now) == .accepted(step: step - 1, offset: -1))
        #expect(totp.verify(totp.code(step: step + 1), at: now) == .accepted(step: step + 1, offset: 1))
        #expect(totp.verify(totp.code(step: step - 2), at: now) == .rejected)
        #expect(totp.verify(totp.code(step: step + 2), at: now) == .rejected)
        #expect(totp.verify(totp.code(step: step - 2), at: now, window: 2) == .accepted(step: step - 2, offset: -2))
        #expect(totp.verify(totp.code(step: step - 1), at: now, window: 0) == .rejected)
        #expect(totp.verify(totp.code(step: step), at: now, window: -3) == .accepted(step: step, offset: 0))
        // A huge window is clamped to ±10 steps instead of looping for ever.
        #expect(totp.verify(totp.code(step: step - 10), at: now, window: .max) == .accepted(step: step - 10, offset: -10))
        #expect(totp.verify(totp.code(step: step - 11), at: now, window: .max) == .rejected)
    }

    @Test func stepBoundaries() {
        let start = Date(timeIntervalSince1970: 1_700_000_010)  // 1,700,000,010 is a multiple of 30
        #expect(totp.step(at: start) == 56_666_667)
        #expect(totp.step(at: start.addingTimeInterval(29.999)) == 56_666_667)
        #expect(totp.step(at: start.addingTimeInterval(30)) == 56_666_668)
        #expect(totp.step(at: Date(timeIntervalSince1970: -100)) == 0)
        #expect(totp.step(at: Date(timeIntervalSince1970: 1e30)) == UInt64.max / 30)
        #expect(totp.step(at: .distantFuture) == 2_136_407_040)
        let minute = try! TOTP(secret: Self.rfc4226Secret, period: 60)
        #expect(minute.step(at: start) == 28_333_333)
    }

    /// RFC 6238 §5.2: a code is accepted once; its step and earlier ones are refused afterwards.
    @Test func replayGuardRefusesTheLastUsedStepAndEarlierOnes() {
        let code = totp.code(step: step)
        #expect(totp.verify(code, at: now, lastUsedStep: step) == .replayed(step: step))
        #expect(totp.verify(code, at: now, lastUsedStep: step + 1) == .replayed(step: step))
        #expect(totp.verify(code, at: now, lastUsedStep: step - 1) == .accepted(step: step, offset: 0))
        // An earlier code inside the window is a replay once a later one was used.
        #expect(totp.verify(totp.code(step: step - 1), at: now, lastUsedStep: step) == .replayed(step: step - 1))
        // The next step's code is still good after the current one was used.
        #expect(totp.verify(totp.code(step: step + 1), at: now, lastUsedStep: step) == .accepted(step: step + 1, offset: 1))
        #expect(TOTPVerification.replayed(step: 1).isAccepted == false)
    }

    @Test(
        "malformed codes are rejected",
        arguments: [
            "", " ", "12345", "1234567", "12345a", "abcdef", "-12345", "+12345", "12 34 5", "１２３４５６", "١٢٣٤٥٦",
            "123456\u{0}", "12345６", "0x1234", "' OR 1=1 --", String(repeating: "1", count: 64),
        ]
    )
    func malformed(code: String) {
        #expect(totp.verify(code, at: now) == .rejected)
    }

    @Test func spacesInsideACodeAreIgnored() {
        let code = totp.code(step: step)
        let spaced = "\(code.prefix(3)) \(code.suffix(3)) "
        #expect(totp.verify(spaced, at: now).isAccepted)
    }

    @Test func wrongSecretOrAlgorithmIsRejected() throws {
        let other = try TOTP(secret: Array("12345678901234567891".utf8))
        #expect(other.verify(totp.code(at: now), at: now) == .rejected)
        let sha256 = try TOTP(secret: Self.rfc4226Secret, algorithm: .sha256)
        #expect(sha256.verify(totp.code(at: now), at: now) == .rejected)
    }

    @Test func earlyStepsDoNotUnderflow() {
        let epoch = Date(timeIntervalSince1970: 0)
        #expect(totp.verify(totp.code(step: 0), at: epoch, window: 3) == .accepted(step: 0, offset: 0))
        #expect(totp.verify(totp.code(step: 1), at: epoch) == .accepted(step: 1, offset: 1))
    }

    @Test func parseAcceptsExactlyTheCodeLength() throws {
        let hotp = try HOTP(secret: Self.rfc4226Secret, digits: 8)
        #expect(hotp.parse("00000001") == 1)
        #expect(hotp.parse("9999 9999") == 99_999_999)
        #expect(hotp.parse("0000001") == nil)
        #expect(hotp.parse("000000001") == nil)
    }
}
