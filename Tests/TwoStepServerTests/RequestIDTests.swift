import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
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
}
