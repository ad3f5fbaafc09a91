import ChildProcessSupport
import Foundation

/// Real programs the tests check TwoStep against (zbarimg, oathtool, pyotp).
///
/// A test that needs one is skipped only on a developer's machine that lacks it; under CI
/// (`CI` set) it always runs, so a missing install step fails loudly instead of passing quietly.
enum ExternalTool {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The absolute path of a program on `PATH`.
    static func path(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether a test needing these programs should run here.
    static func available(_ names: String...) -> Bool {
        isCI || names.allSatisfy { path($0) != nil }
    }

    /// The Python with `pyotp`: `TWOSTEP_PYTHON`, else the project's `.venv`, else `python3`.
    static var python: String? {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["TWOSTEP_PYTHON"],
            packageRoot.appendingPathComponent(".venv/bin/python3").path,
            path("python3"),
        ]
        return candidates.compactMap { $0 }.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? run(candidate, ["-c", "import pyotp"]).status) == 0
        }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Runs a program to completion, feeding it `input` on stdin.
    static func run(_ executable: String, _ arguments: [String], input: Data = Data()) throws -> ChildProcess.Output {
        try ChildProcess.run(executable, arguments, input: input)
    }
}
