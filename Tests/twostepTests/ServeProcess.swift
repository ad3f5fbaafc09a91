import ChildProcessSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `twostep serve` as an operator runs it: a real process on 127.0.0.1 (port 0), its standard
/// output and error kept in files the test reads (the start-up line, the log).
final class ServeProcess: @unchecked Sendable {
    let process: ChildProcess
    let directory: String
    let port: Int
    let stdoutPath: String
    let stderrPath: String

    private init(process: ChildProcess, directory: String, port: Int, stdoutPath: String, stderrPath: String) {
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
        let process = try ChildProcess(
            OTPCommandTests.binary.path,
            ["serve", "--port", "0", "--data-dir", directory] + arguments,
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWOSTEP_") }.merging(environment) { $1 },
            standardOutput: .file(stdoutPath),
            standardError: .file(stderrPath)
        )
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
        process.signal(SIGTERM)
        let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        Issue.record("twostep serve did not start: \(errors.suffix(2000))", sourceLocation: sourceLocation)
        throw ServeProcessError.didNotStart
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// SIGTERM (a graceful shutdown), without waiting.
    func terminate() { process.signal(SIGTERM) }

    /// Waits for the process to end, at most `timeout` seconds. - Returns: its exit status, or nil if it still runs.
    func wait(timeout: TimeInterval = 30) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.termination?.status
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 30 s).
    func stop() async {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        if await wait(timeout: 30) == nil { process.signal(SIGKILL) }
    }

    /// For `defer`: ends the process at once if it still runs, and removes its log files.
    func discard() {
        process.signal(SIGKILL)
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
    /// `run` without blocking the shared cooperative pool while the command runs.
    static func runDetached(_ arguments: [String], input: String? = nil) async throws -> Result {
        Result(try await ChildProcess.run(binary.path, arguments, input: input.map { Data($0.utf8) }))
    }

    static func runDetached(executable: String, _ arguments: [String], input: String = "") async throws -> Result {
        Result(try await ChildProcess.run(executable, arguments, input: Data(input.utf8)))
    }

    /// Runs another program (a Python checker) to completion.
    static func run(executable: String, _ arguments: [String], input: String = "") throws -> Result {
        Result(try ChildProcess.run(executable, arguments, input: Data(input.utf8)))
    }
}

extension OTPCommandTests.Result {
    init(_ output: ChildProcess.Output) {
        self.init(status: output.status, stdout: output.text, stderr: output.stderr)
    }
}
