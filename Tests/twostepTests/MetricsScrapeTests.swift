import Foundation
import Testing
import TwoStepCore

/// Issue 16, the live check: `twostep serve --metrics-port`, a scripted session on the service
/// API, and a scrape read by Prometheus's own parser (Python `prometheus_client`).
@Suite("twostep serve: metrics")
struct MetricsScrapeTests {
    /// The Python with `prometheus_client`: `TWOSTEP_PYTHON`, else the package's `.venv`.
    static var python: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates: [String?] = [ProcessInfo.processInfo.environment["TWOSTEP_PYTHON"], root.appendingPathComponent(".venv/bin/python3").path]
        return candidates.compactMap { $0 }.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate) else { return false }
            return (try? OTPCommandTests.run(executable: candidate, ["-c", "import prometheus_client"]).status) == 0
        }
    }

    /// Skipped only on a developer's machine without it; under CI it must run.
    static var canRun: Bool { ProcessInfo.processInfo.environment["CI"] != nil || python != nil }

    /// Every sample as `name{a="x",b="y"}` → value, as prometheus_client reads the exposition.
    static func scrape(_ server: ServeProcess, port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Double] {
        let answer = try await server.request("GET", "/metrics", port: port)
        #expect(answer.status == 200, sourceLocation: sourceLocation)
        #expect(answer.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true, sourceLocation: sourceLocation)
        let python = try #require(python, "no Python with prometheus_client (pip install prometheus_client)", sourceLocation: sourceLocation)
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(sys.stdin.read()):
                for sample in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                    out[f"{sample.name}{{{labels}}}"] = sample.value
            print(json.dumps(out))
            """
        let parsed = try await OTPCommandTests.runDetached(executable: python, ["-c", script], input: answer.text)
        #expect(parsed.status == 0, "prometheus_client could not parse the exposition: \(parsed.stderr)", sourceLocation: sourceLocation)
        let object = try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Double]
        return try #require(object, sourceLocation: sourceLocation)
    }

    @Test(.enabled(if: canRun)) func aScrapeParsesAndCountsTheSession() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = try await OTPCommandTests.runDetached(["apikey", "create", "--name", "portal", "--data-dir", directory])
        #expect(created.status == 0, "\(created.stderr)")
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try await ServeProcess.start(directory: directory, ["--metrics-port", "0", "--drain-seconds", "0"])
        defer { server.discard() }
        let line = try #require(server.stdout.split(separator: "\n").first { $0.contains("metrics on") }, "\(server.stdout)")
        #expect(line.contains("http://127.0.0.1:"), "loopback by default: \(line)")
        let metricsPort = try #require(Int(line.split(separator: ":").last!.split(separator: "/").first!))
        #expect(
            try await server.request("GET", "/metrics").status == 404,
            "the public listener never serves the metrics"
        )

        let before = try await Self.scrape(server, port: metricsPort)
        let bearer = ["Authorization": "Bearer \(key)"]
        let secret = Base32.encode(Array((0..<20).map { UInt8($0 * 7 % 256) }))
        let user = try await server.request(
            "POST",
            "/api/v1/users",
            json: ["email": "scrape@example.com", "totp": ["secret": secret]],
            headers: bearer
        )
        #expect(user.status == 201, "\(user.text)")
        let code = try TOTP(secret: try Base32.decode(secret)).code(at: Date())
        var answers: [Bool] = []
        for attempt in [code, code, "000000", "000001"] {
            let answer = try await server.request("POST", "/api/v1/validate", json: ["user": "scrape@example.com", "code": attempt], headers: bearer)
            #expect(answer.status == 200, "\(answer.text)")
            answers.append(answer.json?["valid"] as? Bool ?? false)
        }
        #expect(answers == [true, false, false, false])
        let after = try await Self.scrape(server, port: metricsPort)

        var moved: [String: Double] = [:]
        for (series, value) in after where value != before[series] ?? 0 { moved[series] = value - (before[series] ?? 0) }
        #expect(moved[#"twostep_second_factor_checks_total{method="totp",result="valid"}"#] == 1)
        #expect(moved[#"twostep_second_factor_checks_total{method="totp",result="replayed"}"#] == 1)
        #expect(moved[#"twostep_second_factor_checks_total{method="totp",result="wrong"}"#] == 2)
        #expect(moved[#"twostep_enrolments_total{method="totp"}"#] == 1)
        #expect(moved[#"twostep_http_requests_total{method="POST",route="/api/v1/validate",status="200"}"#] == 4)
        #expect(moved[#"twostep_http_requests_total{method="POST",route="/api/v1/users",status="201"}"#] == 1)
        #expect(moved[#"twostep_request_duration_seconds_count{route="validate"}"#] == 4)
        // The first scrape's own GET /metrics is on the other listener: the main one counted nothing else.
        let requestSeries = moved.keys.filter { $0.hasPrefix("twostep_http_requests_total") }
        #expect(requestSeries.count == 2, "\(requestSeries)")
        #expect(after[#"twostep_build_info{version="\#(TwoStepVersionForTests.expected)"}"#] == 1, "\(after.keys.filter { $0.contains("build") })")
        let everything = after.keys.joined(separator: "\n")
        #expect(!everything.contains("scrape@example.com") && !everything.contains(code) && !everything.contains(key))
    }
}

/// Kept in step with `TwoStepVersion.current` (the test target sees only the binary).
enum TwoStepVersionForTests {
    static let expected = "0.16.0"
}
