import ChildProcessSupport
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
    private let process: ChildProcess

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let python: String? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates: [String?] = [environment["TWOSTEP_PYTHON"], packageRoot.appendingPathComponent(".venv/bin/python3").path, "/usr/bin/python3"]
        return candidates.compactMap { $0 }.first { (candidate: String) -> Bool in
            guard FileManager.default.isExecutableFile(atPath: candidate) else { return false }
            return (try? ChildProcess.run(candidate, ["-c", "import aiosmtpd"]).status) == 0
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
        // aiosmtpd logs every refused handshake with a traceback: kept beside the messages, not in the test output.
        // Its stdin stays open: the server runs until `stop()` closes it.
        process = try ChildProcess(
            python,
            [Self.packageRoot.appendingPathComponent("Tests/Mail/smtp_server.py").path, "--out", outPath] + arguments,
            standardInput: .pipe,
            standardOutput: .pipe,
            standardError: .file(directory.appendingPathComponent("server.log").path)
        )
        let stdout = process.standardOutput!
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.signal(SIGTERM)
            throw TestSMTPError(description: "the SMTP server did not start: \(text)")
        }
        self.port = port
    }

    /// A self-signed certificate for `localhost` and 127.0.0.1, made with openssl for this server.
    static func certificate(in directory: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = try ChildProcess(
            try #require(openssl, "openssl is needed for the TLS tests", sourceLocation: sourceLocation),
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
        )
        guard process.waitUntilExit().status == 0 else { throw TestSMTPError(description: "openssl failed") }
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
        try? process.standardInput?.close()
        process.signal(SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { process.signal(SIGTERM) }
}

struct TestSMTPError: Error, CustomStringConvertible {
    var description: String
}
