import ChildProcessSupport
import Foundation
import Testing
import TwoStepCore

/// TwoStep's codes against two independent implementations that users' tools are built on:
/// oathtool (liboath, C) and pyotp (Python), over random secrets, times, algorithms, lengths and periods.
@Suite("Cross-checks with real OTP clients")
struct CrossCheckTests {
    struct Case: Codable {
        var secret: String  // base32
        var algorithm: String
        var digits: Int
        var period: Int
        var time: Int64
        var counter: UInt64?  // HOTP when set
    }

    static func randomCases(_ count: Int) -> [Case] {
        (0..<count).map { index in
            let secretLength = [16, 20, 32, 64, 26][index % 5]  // pyotp refuses keys under 128 bits (RFC 4226 R6)
            let algorithm = OTPAlgorithm.allCases[index % 3]
            return Case(
                secret: Base32.encode(SecureRandom.bytes(secretLength), padding: false),
                algorithm: algorithm.rawValue,
                digits: 6 + index % 3,
                period: [30, 60, 15, 45][index % 4],
                time: index % 50 == 0 ? 0 : Int64.random(in: 0...4_102_444_800),  // to 2100
                counter: index % 7 == 0 && algorithm == .sha1 ? UInt64.random(in: 0...UInt64(UInt32.max)) : nil
            )
        }
    }

    static func ours(_ testCase: Case) throws -> String {
        let secret = try Base32.decode(testCase.secret)
        let algorithm = OTPAlgorithm(rawValue: testCase.algorithm)!
        if let counter = testCase.counter {
            return try HOTP(secret: secret, algorithm: algorithm, digits: testCase.digits).code(counter: counter)
        }
        return try TOTP(secret: secret, algorithm: algorithm, digits: testCase.digits, period: testCase.period)
            .code(at: Date(timeIntervalSince1970: TimeInterval(testCase.time)))
    }

    @Test(
        "1,000 random codes equal oathtool's",
        .enabled(if: ExternalTool.available("oathtool"), "oathtool is not installed (apt-get install oathtool)")
    )
    func oathtool() throws {
        let cases = Self.randomCases(1_000)
        let mismatches = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: cases.count) { index in
            let testCase = cases[index]
            let arguments =
                if let counter = testCase.counter {
                    ["--hotp", "-b", "-d", "\(testCase.digits)", "-c", "\(counter)", testCase.secret]
                } else {
                    [
                        "--totp=\(testCase.algorithm.lowercased())", "-b", "-d", "\(testCase.digits)",
                        "-s", "\(testCase.period)s", "-N", "@\(testCase.time)", testCase.secret,
                    ]
                }
            // Both sides must give a code: a failing oathtool (missing, or refusing the case) and a
            // throwing `ours` would otherwise compare nil with nil and pass.
            let problem: String?
            do {
                let output = try ExternalTool.run("oathtool", arguments)
                let theirs = output.text.trimmingCharacters(in: .whitespacesAndNewlines)
                let mine = try Self.ours(testCase)
                problem =
                    if output.status != 0 || theirs.isEmpty {
                        "oathtool failed (status \(output.status)): \(output.stderr)"
                    } else if theirs != mine {
                        "oathtool \(theirs) vs \(mine)"
                    } else {
                        nil
                    }
            } catch {
                problem = "\(error)"
            }
            if let problem { mismatches.withValue { $0.append("\(testCase): \(problem)") } }
        }
        #expect(mismatches.value.isEmpty, "\(mismatches.value.count) of \(cases.count): \(mismatches.value.prefix(5))")
    }

    @Test(
        "1,000 random codes equal pyotp's",
        .enabled(if: ExternalTool.isCI || ExternalTool.python != nil, "no Python with pyotp (.ci/run makes .venv)")
    )
    func pyotp() throws {
        let python = try #require(ExternalTool.python, "no Python with pyotp: run .ci/run or pip install pyotp")
        let cases = Self.randomCases(1_000)
        let script = """
            import hashlib, json, sys, pyotp
            out = []
            for c in json.load(sys.stdin):
                digest = getattr(hashlib, c["algorithm"].lower())
                if c.get("counter") is not None:
                    out.append(pyotp.HOTP(c["secret"], digits=c["digits"], digest=digest).at(c["counter"]))
                else:
                    out.append(pyotp.TOTP(c["secret"], digits=c["digits"], digest=digest, interval=c["period"]).at(c["time"]))
            json.dump(out, sys.stdout)
            """
        let output = try ExternalTool.run(python, ["-c", script], input: JSONEncoder().encode(cases))
        #expect(output.status == 0, "\(output.stderr)")
        let theirs = try JSONDecoder().decode([String].self, from: output.stdout)
        #expect(theirs.count == cases.count)
        for (testCase, code) in zip(cases, theirs) {
            #expect(try Self.ours(testCase) == code, "\(testCase)")
        }
    }
}
