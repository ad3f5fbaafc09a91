import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 16: every answer carries a request id; a trusted proxy's `X-Request-Id` is kept, anyone
/// else's is replaced (a client could otherwise forge ids in the log, or flood it with long ones).
@Suite("Request ids")
struct RequestIDTests {
    static let requestID = HTTPField.Name("X-Request-Id")!

    func id(_ client: any TestClientProtocol, _ path: String, sent: String?, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String
    {
        var headers: HTTPFields = [:]
        if let sent { headers[Self.requestID] = sent }
        let response = try await client.executeRequest(uri: path, method: .get, headers: headers, body: nil)
        return try #require(response.headers[Self.requestID], "no X-Request-Id on \(path) (\(response.status))", sourceLocation: sourceLocation)
    }

    @Test func aTrustedProxysIdIsKeptAndReturned() async throws {
        let server = try await TestServer.make(jsonLogs: true) { $0.trustedProxies = [IPRange("127.0.0.1")!, IPRange("::1")!] }
        let logs = server.logs
        try await server.runLive { client in
            #expect(try await id(client, "/health/live", sent: "lb-7f3a.2:9") == "lb-7f3a.2:9")
            // Errors carry it too: an unknown page, an API error.
            #expect(try await id(client, "/no-such-page", sent: "trace-404") == "trace-404")
            #expect(try await id(client, "/api/v1/account", sent: "trace-401") == "trace-401")
            // Malformed (a space, a line break, too long): replaced.
            for bad in ["two words", "x\u{7f}y", String(repeating: "a", count: 129)] {
                let got = try await id(client, "/health/live", sent: bad)
                #expect(got != bad && got.count == 32, "\(got)")
            }
        }
        let line = try #require(logs.allLines.first { $0.contains("trace-401") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["request_id"] == "trace-401" && object["status"] == "401" && object["route"] == "/api/v1/account", "\(line)")
    }

    @Test func anUntrustedClientsIdIsReplaced() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            let first = try await id(client, "/health/live", sent: "forged-id")
            let second = try await id(client, "/health/live", sent: nil)
            #expect(first != "forged-id" && first.count == 32 && first.allSatisfy(\.isHexDigit))
            #expect(second != first, "a new id per request")
        }
    }

    /// Text logs (the default) name the request on its line, from the request's trace: the
    /// logger's metadata is no longer changed per request (issue 19).
    @Test func aTextLineNamesItsRequest() async throws {
        let server = try await TestServer.make()
        let logs = server.logs
        let sent = Locked("")
        try await server.runLive { client in
            let id = try await id(client, "/api/v1/account", sent: nil)
            sent.withValue { $0 = id }
        }
        let line = try #require(logs.allLines.first { $0.contains("request_id=\(sent.value)") }, "\(logs.text.suffix(2_000))")
        #expect(line.contains(" info test:") && line.contains(" route=/api/v1/account ") && line.contains(" status=401 "), "\(line)")
        #expect(line.hasSuffix("] request"), "\(line)")
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String { "quoted 123456" }
    }

    /// `LogLineHandler`'s text: `time level label: key=value … [module] message`, the metadata sorted,
    /// with the request's id and account on lines logged while it is served, and nothing below the level.
    @Test func textLinesCarryTheirMetadataAndTheRequest() throws {
        let lines = Locked<[String]>([])
        var logger = Logger(label: "unit") { LogLineHandler(label: $0, format: .text) { line in lines.withValue { $0.append(line) } } }
        logger[metadataKey: "b"] = "2"
        logger.warning("outside", metadata: ["a": "1"])
        let trace = RequestTrace(requestID: "req-1", userAgent: "")
        trace.identify(userID: 42)
        RequestOrigin.$trace.withValue(trace) {
            logger.info("inside", metadata: ["b": "3"])
            logger.debug("below the level")
        }
        logger.error("failed", error: Refused())
        #expect(lines.value.count == 3, "\(lines.value)")
        // An error by its type alone: its description may quote a value.
        let failed = lines.value[2]
        #expect(failed.contains(" error_type=TwoStepServerTests.RequestIDTests.Refused ") && !failed.contains("quoted"), "\(failed)")
        // The same in JSON.
        let json = Locked("")
        let jsonLogger = Logger(label: "unit") { LogLineHandler(label: $0, format: .json) { line in json.withValue { $0 = line } } }
        jsonLogger.error("failed", error: Refused())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.value.utf8)) as? [String: String])
        #expect(object["error_type"] == "TwoStepServerTests.RequestIDTests.Refused" && !json.value.contains("quoted"), "\(json.value)")
        let outside = try #require(lines.value.first)
        #expect(
            outside.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning unit: a=1 b=2 \[TwoStepServerTests\] outside\n/) != nil,
            "\(outside)"
        )
        let inside = lines.value[1]
        #expect(inside.hasSuffix(" info unit: b=3 request_id=req-1 user_id=42 [TwoStepServerTests] inside\n"), "\(inside)")
    }
}
