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
        // A drain long enough that the requests below land inside it on a loaded machine (the whole
        // suite at once on 2 cores delayed them past a 3-second and a 6-second drain: connection
        // refused). The test waits only while the other tests run.
        let server = try await ServeProcess.start(directory: directory, ["--drain-seconds", "20"])
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
        let live = try? await server.request("GET", "/health/live")
        #expect(live?.status == 200, "still serving while it drains (\(Date().timeIntervalSince(signalled)) s after SIGTERM)")
        let status = await server.wait(timeout: 60)
        #expect(status == 0, "exit status \(String(describing: status)): \(server.stderr.suffix(1000))")
        #expect(Date().timeIntervalSince(signalled) >= 20, "the server waited the drain out before stopping")
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

    /// The 2FA policy's flags (issue 18): the start-up line says the policy; a bad value stops
    /// start-up with one line that names the flag.
    @Test func theTwoFactorPolicyIsSetByFlagsAndVariables() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await ServeProcess.start(
            directory: directory,
            ["--require-2fa", "domains:corp.example,Bücher.example", "--allowed-methods", "key,app", "--drain-seconds", "0"],
            environment: ["TWOSTEP_GRACE_DAYS": "3"]
        )
        defer { server.discard() }
        #expect(
            server.stdout.contains("; 2FA: required for domains:corp.example,xn--bcher-kva.example, 3 days' grace, methods app, key; dev mode"),
            "\(server.stdout)"
        )
        await server.stop()

        for (arguments, words) in [
            (["--require-2fa", "some"], "--require-2fa must be all, none or domains:"),
            (["--require-2fa", "domains:"], "--require-2fa must be all, none or domains:"),
            (["--grace-days", "400"], "--grace-days must be 0 to 365"),
            (["--allowed-methods", "app,fax"], "--allowed-methods takes one or more of app, sms, key"),
            (["--allowed-methods", ""], "--allowed-methods takes one or more of app, sms, key"),
        ] {
            let result = try await OTPCommandTests.runDetached(["serve", "--port", "0", "--data-dir", directory] + arguments)
            #expect(result.status != 0 && result.stderr.contains(words), "\(arguments): \(result.stderr)")
            #expect(!result.stdout.contains("listening"), "\(arguments): it never listened")
        }
    }

    /// Debug builds only: `TWOSTEP_TEST_CLOCK_FILE` moves the running server's clock, read again on
    /// every request, so the browser suite can see a grace deadline pass (issue 18).
    @Test func aDebugBuildsClockMovesWithTheOffsetFile() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clockFile = directory + "-clock"
        defer { try? FileManager.default.removeItem(atPath: clockFile) }
        try "0".write(toFile: clockFile, atomically: true, encoding: .utf8)
        let server = try await ServeProcess.start(
            directory: directory,
            ["--require-2fa", "all", "--grace-days", "1", "--drain-seconds", "0"],
            environment: ["TWOSTEP_TEST_CLOCK_FILE": clockFile]
        )
        defer { server.discard() }
        let credentials = ["email": "ann@example.com", "password": "correct horse battery"]
        #expect(try await server.request("POST", "/api/v1/account", json: credentials).status == 201)
        let first = try await server.request("POST", "/api/v1/session", json: credentials).json ?? [:]
        #expect(first["status"] as? String == "enrolment_required")
        #expect(first["enrolment_deadline"] != nil, "within the grace")
        try "172800".write(toFile: clockFile, atomically: true, encoding: .utf8)
        let later = try await server.request("POST", "/api/v1/session", json: credentials).json ?? [:]
        #expect(later["status"] as? String == "enrolment_required")
        #expect(later["enrolment_deadline"] == nil, "two days on, without a restart: the grace is over")
        #expect(server.stderr.contains("TWOSTEP_TEST_CLOCK_FILE is set"), "the server says its clock is moved")
        await server.stop()
    }
}
