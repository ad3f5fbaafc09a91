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

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs a program to completion, feeding it `input` on stdin.
    static func run(_ executable: String, _ arguments: [String], input: Data = Data()) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : path(executable) ?? executable)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write and read on separate threads so neither pipe's buffer can fill up and stall.
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errorData = ThreadResult { stderr.fileHandleForReading.readDataToEndOfFile() }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: outputData, stderr: String(decoding: errorData.value, as: UTF8.self))
    }
}

/// A value computed on its own thread.
private final class ThreadResult: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Data?

    init(_ body: @escaping @Sendable () -> Data) {
        Thread { [self] in
            let value = body()
            condition.lock()
            result = value
            condition.signal()
            condition.unlock()
        }.start()
    }

    var value: Data {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
