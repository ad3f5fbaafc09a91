import Foundation
import Testing

/// `twostep serve` as a process: start-up checks and line, health, graceful shutdown (issue 16).
@Suite("twostep serve")
struct ServeCommandTests {
    @Test func startsOnceWarnsAndDrainsOnSIGTERM() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A folder other users may list: served, with a warning.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let server = try await ServeProcess.start(directory: directory, ["--drain-seconds", "3"])
        defer { server.discard() }

        let lines = server.stdout.split(separator: "\n")
        #expect(lines.count == 1, "one start-up line: \(lines)")
        let banner = String(lines.first ?? "")
        #expect(banner.contains("listening on http://127.0.0.1:\(server.port)/"), "\(banner)")
        #expect(banner.contains("database: SQLite at \(directory)/twostep.sqlite"), "\(banner)")
        #expect(banner.contains("SMS gateway: outbox ("), "\(banner)")
        #expect(banner.hasSuffix("dev mode: off"), "\(banner)")
        #expect(server.stderr.contains("the data folder \(directory) is open to other users (mode 755)"), "\(server.stderr)")

        for path in ["/health", "/health/live"] {
            let live = try await server.request("GET", path)
            #expect(live.status == 200 && live.json?["status"] as? String == "ok", "\(path): \(live.status) \(live.text)")
        }
        let ready = try await server.request("GET", "/health/ready")
        #expect(ready.status == 200 && ready.json?["status"] as? String == "ready", "\(ready.status) \(ready.text)")

        // SIGTERM: readiness fails at once while requests are still served, then the process ends cleanly.
        let signalled = Date()
        server.terminate()
        try await Task.sleep(for: .milliseconds(300))
        let draining = try await server.request("GET", "/health/ready")
        #expect(draining.status == 503, "\(draining.status) \(draining.text)")
        #expect(draining.json?["reason"] as? String == "shutting_down", "\(draining.text)")
        #expect(try await server.request("GET", "/health/live").status == 200, "still serving while it drains")
        let status = await server.wait(timeout: 30)
        #expect(status == 0, "exit status \(String(describing: status)): \(server.stderr.suffix(1000))")
        #expect(Date().timeIntervalSince(signalled) >= 3, "the server waited the drain out before stopping")
    }

    /// `--log-format json`: every line the process logs, start to stop, is one JSON object.
    @Test func jsonLogsParseLineByLine() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await ServeProcess.start(directory: directory, ["--log-format", "json", "--drain-seconds", "1"])
        defer { server.discard() }
        let answer = try await server.request("GET", "/health/ready", headers: ["X-Request-Id": "not-trusted"])
        #expect(answer.status == 200 && answer.headers["x-request-id"]?.count == 32)
        #expect(
            try await server.request("POST", "/api/v1/session", json: ["email": "nobody@example.com", "password": "wrong wrong wrong"]).status == 401
        )
        server.terminate()
        #expect(await server.wait(timeout: 30) == 0)
        let lines = server.stderr.split(separator: "\n")
        #expect(lines.count >= 3, "\(server.stderr)")
        var routes: [String] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["time"] != nil && object?["level"] != nil && object?["message"] != nil, "not a JSON log line: \(line)")
            if object?["message"] == "request", let route = object?["route"] { routes.append(route) }
        }
        #expect(routes == ["/health/ready", "/api/v1/session"])
        #expect(!server.stderr.contains("wrong wrong wrong"))
    }

    @Test func refusesAMasterKeyOthersCanRead() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try await OTPCommandTests.runDetached(["migrate", "--data-dir", directory]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: directory + "/master.key")
        let result = try await OTPCommandTests.runDetached(["serve", "--port", "0", "--data-dir", directory])
        #expect(result.status == 2 && result.stderr.contains("readable by other users") && result.stderr.contains("chmod 600"), "\(result.stderr)")
        #expect(!result.stdout.contains("listening"), "it never listened")
    }
}
