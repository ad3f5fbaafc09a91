import ChildProcessSupport
import Foundation
import Testing
import TwoStepCore

/// Runs the built `twostep` binary as a user would.
@Suite("twostep otp")
struct OTPCommandTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable SwiftPM built next to this test bundle.
    static let binary: URL = {
        var directory = Bundle.main.bundleURL
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("twostep").path) {
            directory.deleteLastPathComponent()
            precondition(directory.path != "/", "twostep binary not found next to the tests")
        }
        return directory.appendingPathComponent("twostep")
    }()

    static func run(_ arguments: String...) throws -> Result {
        try run(arguments)
    }

    static func run(_ arguments: [String], input: String? = nil) throws -> Result {
        Result(try ChildProcess.run(binary.path, arguments, input: input.map { Data($0.utf8) }))
    }

    static let rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  // "12345678901234567890"

    @Test func codeMatchesRFC6238() throws {
        let result = try Self.run("otp", "code", "--secret", Self.rfcSecret, "--time", "59", "--digits", "8")
        #expect(result.status == 0)
        #expect(result.stdout == "94287082\n")
        let sha512 = try Self.run(
            "otp",
            "code",
            "--secret",
            Base32.encode(Array(String(repeating: "1234567890", count: 7).utf8.prefix(64))),
            "--algorithm",
            "SHA512",
            "--digits",
            "8",
            "--time",
            "20000000000"
        )
        #expect(sha512.stdout == "47863826\n")
        let hotp = try Self.run("otp", "code", "--secret", Self.rfcSecret.lowercased(), "--counter", "9")
        #expect(hotp.stdout == "520489\n")
    }

    @Test(
        "bad input is one line on stderr and exit 2",
        arguments: [
            ["otp", "code", "--secret", "NOT-BASE32!", "--time", "59"],
            ["otp", "code", "--secret", "GEZDGNBV", "--digits", "12"],
            ["otp", "code", "--secret", "GEZDGNBV", "--time=-1"],
            ["otp", "code", "--secret", "GEZDGNBV", "--time", "soon"],
            ["otp", "code", "--secret", "GEZDGNBV", "--period", "0"],
            ["otp", "code", "--secret", "GEZDGNBV", "--algorithm", "md5"],
            ["otp", "code", "--secret", ""],
            ["otp", "code"],
            ["otp", "code", "--secret", "GEZDGNBV", "--bogus"],
            ["otp", "verify", "--secret", "GEZDGNBV", "--code", "123456", "--window=-1"],
            ["otp", "verify", "--secret", "GEZDGNBV", "--code", "123456", "--window", "11"],
            ["otp", "uri", "--secret", "GEZ", "--account", "a", "--issuer", "i"],
            ["otp", "secret", "--bytes", "4"],
            ["otp", "nonsense"],
        ]
    )
    func badInput(arguments: [String]) throws {
        let result = try Self.run(arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("twostep: "))
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal") && !result.stderr.contains("Usage"))
    }

    @Test func verifyExitsZeroForValidAndOneForInvalid() throws {
        let valid = try Self.run("otp", "verify", "--secret", Self.rfcSecret, "--code", "94287082", "--digits", "8", "--time", "59")
        #expect(valid.status == 0)
        #expect(valid.stdout == "valid (step 1, offset 0)\n")
        let drift = try Self.run("otp", "verify", "--secret", Self.rfcSecret, "--code", "94287082", "--digits", "8", "--time", "89")
        #expect(drift.stdout == "valid (step 1, offset -1)\n")
        let outside = try Self.run(
            "otp",
            "verify",
            "--secret",
            Self.rfcSecret,
            "--code",
            "94287082",
            "--digits",
            "8",
            "--time",
            "89",
            "--window",
            "0"
        )
        #expect(outside.status == 1 && outside.stdout == "invalid\n")
        let wrong = try Self.run("otp", "verify", "--secret", Self.rfcSecret, "--code", "000000", "--time", "59")
        #expect(wrong.status == 1)
        let now = try Self.run("otp", "code", "--secret", Self.rfcSecret)
        let current = now.stdout.trimmingCharacters(in: .newlines)
        #expect(try Self.run("otp", "verify", "--secret", Self.rfcSecret, "--code", current).status == 0)
    }

    @Test func secretIsTwentyRandomBytesInBase32() throws {
        let first = try Self.run("otp", "secret")
        let second = try Self.run("otp", "secret")
        let text = first.stdout.trimmingCharacters(in: .newlines)
        #expect(first.status == 0 && text.count == 32)
        #expect(try Base32.decode(text).count == 20)
        #expect(first.stdout != second.stdout)
        #expect(try Base32.decode(try Self.run("otp", "secret", "--bytes", "32").stdout.trimmingCharacters(in: .newlines)).count == 32)
    }

    @Test func uriRoundTrips() throws {
        let result = try Self.run(
            "otp",
            "uri",
            "--secret",
            Self.rfcSecret,
            "--account",
            "alice@example.com",
            "--issuer",
            "ACME Co",
            "--digits",
            "8",
            "--period",
            "60"
        )
        #expect(result.status == 0)
        let uri = try OTPKeyURI(parsing: result.stdout.trimmingCharacters(in: .newlines))
        #expect(uri.account == "alice@example.com" && uri.issuer == "ACME Co" && uri.digits == 8 && uri.kind == .totp(period: 60))
        #expect(uri.secret == Array("12345678901234567890".utf8))
    }

    @Test func qrDrawsInTheTerminalAndWritesSVG() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-\(UUID().uuidString).svg")
        defer { try? FileManager.default.removeItem(at: file) }
        let text = "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"
        let result = try Self.run("otp", "qr", text, "--svg", file.path)
        #expect(result.status == 0)
        let code = try QRCode(text: text)
        #expect(result.stdout == code.terminalText())
        #expect(try String(contentsOf: file, encoding: .utf8).hasPrefix("<svg"))
        #expect(try Self.run("otp", "qr", String(repeating: "x", count: 3_000)).status == 2)
    }

    @Test func helpExitsZero() throws {
        let result = try Self.run("otp", "--help")
        #expect(result.status == 0)
        #expect(result.stdout.contains("verify"))
    }
}
