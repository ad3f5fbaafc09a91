import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `twostep serve` as an operator runs it: a real process on 127.0.0.1 (port 0), its standard
/// output and error kept in files the test reads (the start-up line, the log).
final class ServeProcess: @unchecked Sendable {
    let process: Process
    let directory: String
    let port: Int
    let stdoutPath: String
    let stderrPath: String

    private init(process: Process, directory: String, port: Int, stdoutPath: String, stderrPath: String) {
        self.process = process
        self.directory = directory
        self.port = port
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    /// Starts the server and waits for its start-up line.
    /// - Parameters:
    ///   - directory: The data directory (made by the caller when its mode matters).
    ///   - arguments: More `serve` flags.
    static func start(
        directory: String,
        _ arguments: [String] = [],
        environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ServeProcess {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-serve-\(UUID().uuidString)").path
        let (stdoutPath, stderrPath) = (logs + ".out", logs + ".err")
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = OTPCommandTests.binary
        process.arguments = ["serve", "--port", "0", "--data-dir", directory] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWOSTEP_") }.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        // Generous: at the start of a full run the machine is busy compiling nothing but running everything.
        let deadline = Date().addingTimeInterval(120)
        while true {
            // Read before looking at the clock: a test task can be held back past the deadline by a busy pool.
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":").last!.dropLast())!
                return ServeProcess(process: process, directory: directory, port: port, stdoutPath: stdoutPath, stderrPath: stderrPath)
            }
            if !process.isRunning || Date() > deadline { break }
            // Never Thread.sleep here: the tests share a cooperative pool of one thread per core,
            // and a blocked thread stalls every live server in the run.
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        Issue.record("twostep serve did not start: \(errors.suffix(2000))", sourceLocation: sourceLocation)
        throw ServeProcessError.didNotStart
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// SIGTERM (a graceful shutdown), without waiting.
    func terminate() { process.terminate() }

    /// Waits for the process to end, at most `timeout` seconds. - Returns: its exit status, or nil if it still runs.
    func wait(timeout: TimeInterval = 30) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 30 s).
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        if await wait(timeout: 30) == nil { kill(process.processIdentifier, SIGKILL) }
    }

    /// For `defer`: ends the process at once if it still runs, and removes its log files.
    func discard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: stdoutPath)
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// One HTTP request to this server (or to `port`, say the metrics listener).
    func request(
        _ method: String,
        _ path: String,
        json: [String: Any]? = nil,
        headers: [String: String] = [:],
        port: Int? = nil
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port ?? self.port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 20
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return Answer(status: http.statusCode, headers: fields, body: data)
    }
}

enum ServeProcessError: Error { case didNotStart }

/// A fresh data directory path under the temporary folder (not made).
func temporaryDataDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("twostep-cli-\(UUID().uuidString)").path
}

extension OTPCommandTests {
    /// `run` on a thread of its own, so an async test does not block the shared cooperative pool
    /// while the command runs.
    static func runDetached(_ arguments: [String], input: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try run(arguments, input: input) }) }.start()
        }
    }

    static func runDetached(executable: String, _ arguments: [String], input: String = "") async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try run(executable: executable, arguments, input: input) }) }.start()
        }
    }

    /// Runs another program (a Python checker) to completion.
    static func run(executable: String, _ arguments: [String], input: String = "") throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self)
        )
    }
}
