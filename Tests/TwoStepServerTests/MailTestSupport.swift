import Foundation
import Testing

@testable import TwoStepServer

/// A real SMTP server on 127.0.0.1 for a test: `Tests/Mail/smtp_server.py` on aiosmtpd, started
/// with the project's Python (`TWOSTEP_PYTHON`, else `.venv`, else `python3`). Skipped only on a
/// developer's machine without aiosmtpd; under CI (`CI` set) a missing install fails instead.
final class TestSMTPServer: @unchecked Sendable {
    let port: Int
    let outPath: String
    let directory: URL
    private let process: Process
    private let stdin: Pipe

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let python: String? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates: [String?] = [environment["TWOSTEP_PYTHON"], packageRoot.appendingPathComponent(".venv/bin/python3").path, "/usr/bin/python3"]
        return candidates.compactMap { $0 }.first { (candidate: String) -> Bool in
            guard FileManager.default.isExecutableFile(atPath: candidate) else { return false }
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: candidate)
            probe.arguments = ["-c", "import aiosmtpd"]
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return false }
            probe.waitUntilExit()
            return probe.terminationStatus == 0
        }
    }()

    /// Whether the SMTP tests can run here (always under CI, where a missing tool must fail loudly).
    static var available: Bool { ProcessInfo.processInfo.environment["CI"] != nil || (python != nil && openssl != nil) }

    static var openssl: String? { ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) } }

    /// Starts a server; `arguments` are `smtp_server.py`'s (`--starttls`, `--auth`, `--tempfail`, `--mode` …).
    init(_ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let python = try #require(Self.python, "no Python with aiosmtpd: run .ci/run's pip install", sourceLocation: sourceLocation)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        outPath = directory.appendingPathComponent("received.jsonl").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.packageRoot.appendingPathComponent("Tests/Mail/smtp_server.py").path, "--out", outPath] + arguments
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        // aiosmtpd logs every refused handshake with a traceback: kept beside the messages, not in the test output.
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("server.log").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("server.log"))
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestSMTPError(description: "the SMTP server did not start: \(text)")
        }
        self.port = port
    }

    /// A self-signed certificate for `localhost` and 127.0.0.1, made with openssl for this server.
    static func certificate(in directory: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(openssl, "openssl is needed for the TLS tests", sourceLocation: sourceLocation))
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSMTPError(description: "openssl failed") }
        return (cert, key)
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// What the server recorded, in order: accepted messages and refusals.
    func received() throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: outPath) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONSerialization.jsonObject(with: Data($0)) as! [String: Any] }
    }

    /// The accepted messages only.
    func messages() throws -> [[String: Any]] { try received().filter { $0["refused"] == nil } }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { if process.isRunning { process.terminate() } }
}

struct TestSMTPError: Error, CustomStringConvertible {
    var description: String
}
