import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 16: the counters move by exactly what a scripted session did, and no label holds an
/// address, a phone number or a code.
@Suite("Prometheus metrics")
struct MetricsTests {
    /// One sample of the text exposition format: `name{a="x",b="y"} value`.
    struct Sample: Hashable {
        let name: String
        let labels: [String: String]
    }

    /// Reads the exposition text; a malformed line fails the test.
    static func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Sample: Double] {
        var samples: [Sample: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                Issue.record("malformed line: \(line)", sourceLocation: sourceLocation)
                continue
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let brace = series.firstIndex(of: "{") {
                name = String(series[..<brace])
                let inside = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                for pair in inside.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            samples[Sample(name: name, labels: labels)] = value
        }
        return samples
    }

    /// What moved between two scrapes (series that did not move are left out).
    static func moved(_ before: [Sample: Double], _ after: [Sample: Double]) -> [Sample: Double] {
        var moved: [Sample: Double] = [:]
        for (sample, value) in after where value != (before[sample] ?? 0) { moved[sample] = value - (before[sample] ?? 0) }
        return moved
    }

    @Test func countersMoveByExactlyWhatHappened() async throws {
        let server = try await TestServer.make()
        let metrics = server.parts.metrics
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dave@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            try await browser.signOut()
            let start = Self.parse(String(decoding: metrics.exposition(), as: UTF8.self))

            // Scripted: one wrong password, two sign-ins with the right one; a wrong code, a right
            // code, then the same code again (a replay); one page that does not exist.
            server.clock.advance(30)
            #expect(try await browser.signIn("dave@example.com", password: "wrong password!!").status == .unauthorized)
            #expect(try await browser.signIn("dave@example.com").location == "/signin/code")
            #expect(try await browser.post("/signin/code", ["code": "000000"]).status == .unauthorized)
            let code = totp.code(at: server.clock.now)
            #expect(try await browser.post("/signin/code", ["code": code]).location == "/profile")
            try await browser.signOut()
            #expect(try await browser.signIn("dave@example.com").location == "/signin/code")
            #expect(try await browser.post("/signin/code", ["code": code]).status == .unauthorized, "the replay is refused")
            try await browser.get("/no-such-page")

            let moved = Self.moved(start, Self.parse(String(decoding: metrics.exposition(), as: UTF8.self)))
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double { moved[Sample(name: name, labels: labels)] ?? 0 }
            #expect(value("twostep_password_sign_ins_total", ["result": "wrong"]) == 1)
            #expect(value("twostep_password_sign_ins_total", ["result": "success"]) == 2)
            #expect(value("twostep_second_factor_checks_total", ["method": "totp", "result": "wrong"]) == 1)
            #expect(value("twostep_second_factor_checks_total", ["method": "totp", "result": "valid"]) == 1)
            #expect(value("twostep_second_factor_checks_total", ["method": "totp", "result": "replayed"]) == 1)
            #expect(value("twostep_http_requests_total", ["route": "/signin", "method": "POST", "status": "303"]) == 2)
            #expect(value("twostep_http_requests_total", ["route": "/signin", "method": "POST", "status": "401"]) == 1)
            #expect(value("twostep_http_requests_total", ["route": "/signin/code", "method": "POST", "status": "401"]) == 2)
            #expect(value("twostep_http_requests_total", ["route": "/signin/code", "method": "POST", "status": "303"]) == 1)
            #expect(value("twostep_http_requests_total", ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
            #expect(value("twostep_http_requests_total", ["route": "/signout", "method": "POST", "status": "303"]) == 1)
            #expect(value("twostep_request_duration_seconds_count", ["route": "sign_in"]) == 6)
            #expect(value("twostep_request_duration_seconds_count", ["route": "validate"]) == 0)
            #expect(value("twostep_database_query_duration_seconds_count") > 0)
            let expected: Set<String> = [
                "twostep_password_sign_ins_total", "twostep_second_factor_checks_total", "twostep_http_requests_total",
                "twostep_request_duration_seconds_count", "twostep_request_duration_seconds_sum", "twostep_request_duration_seconds_bucket",
                "twostep_database_query_duration_seconds_count", "twostep_database_query_duration_seconds_sum",
                "twostep_database_query_duration_seconds_bucket",
            ]
            #expect(Set(moved.keys.map(\.name)).subtracting(expected).isEmpty, "nothing else moved: \(moved.keys.map(\.name))")
        }
    }

    @Test func smsEnrolmentLockoutsAndRecoveryCodesAreCounted() async throws {
        let server = try await TestServer.make()
        let metrics = server.parts.metrics
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("erin@example.com")
            let start = Self.parse(String(decoding: metrics.exposition(), as: UTF8.self))
            try await browser.enableSMS("+31612345677", server: server)
            try await browser.signOut()
            _ = try await browser.signIn("erin@example.com")
            #expect(try await browser.post("/signin/sms").status == .tooManyRequests, "the cooldown refuses a second text")
            // Five wrong codes start the first wait (SPEC §2).
            for _ in 1...5 { _ = try await browser.post("/signin/code", ["code": "000000"]) }

            let moved = Self.moved(start, Self.parse(String(decoding: metrics.exposition(), as: UTF8.self)))
            func value(_ name: String, _ labels: [String: String]) -> Double { moved[Sample(name: name, labels: labels)] ?? 0 }
            #expect(value("twostep_sms_messages_total", ["outcome": "sent"]) == 1)
            #expect(value("twostep_sms_messages_total", ["outcome": "limited"]) == 1)
            #expect(value("twostep_enrolments_total", ["method": "sms"]) == 1)
            #expect(value("twostep_second_factor_checks_total", ["method": "sms", "result": "wrong"]) == 5)
            #expect(value("twostep_lockouts_started_total", ["budget": "codes"]) == 1)

            let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
            for private_ in ["erin@example.com", "612345677", "31612345677", "000000"] {
                #expect(!exposition.contains(private_), "\(private_) is in the metrics")
            }
            #expect(exposition.contains("twostep_build_info{version=\"\(TwoStepVersion.current)\"} 1"), "\(exposition.prefix(300))")
        }
    }
}
