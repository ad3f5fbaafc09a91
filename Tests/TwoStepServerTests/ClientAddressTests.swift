import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Client addresses (SPEC §2, F10): the socket's, unless `--trusted-proxy` names the proxy in
/// front; then the right-most `X-Forwarded-For` hop that is not a trusted proxy.
@Suite struct ClientAddressTests {
    @Test func ranges() throws {
        let range = try #require(IPRange("10.0.0.0/8"))
        #expect(range.contains("10.200.3.4") && !range.contains("11.0.0.1") && !range.contains("::1"))
        #expect(IPRange("192.0.2.1")?.contains("192.0.2.1") == true)
        #expect(IPRange("192.0.2.1")?.contains("192.0.2.2") == false)
        #expect(IPRange("2001:db8::/32")?.contains("2001:db8:1::5") == true)
        #expect(IPRange("::ffff:192.0.2.0/120") == nil, "an IPv4-mapped range is read as IPv4, where /120 is too long")
        #expect(IPRange("127.0.0.1")?.contains("::ffff:127.0.0.1") == true, "IPv4-mapped addresses are IPv4")
        for bad in ["", "10.0.0.0/33", "example.com", "10.0.0.0/x", "1.2.3"] { #expect(IPRange(bad) == nil, "\(bad)") }
    }

    @Test func resolving() throws {
        let proxies = [try #require(IPRange("127.0.0.1")), try #require(IPRange("10.0.0.0/8"))]
        // No trusted proxy: the header is the client's word and proves nothing.
        #expect(ClientAddress.resolve(peer: "198.51.100.7", forwardedFor: ["203.0.113.9"], trusted: []) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "198.51.100.7", forwardedFor: ["203.0.113.9"], trusted: proxies) == "198.51.100.7")
        // Behind trusted proxies: the right-most hop that is not one; hops to its left are the client's own claims.
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["1.1.1.1, 203.0.113.9, 10.1.2.3"], trusted: proxies) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["1.1.1.1", "203.0.113.9:5555"], trusted: proxies) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["[2001:db8::1]:443"], trusted: proxies) == "2001:db8::1")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: [], trusted: proxies) == "127.0.0.1")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["garbage, 10.0.0.1"], trusted: proxies) == "10.0.0.1")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: ["203.0.113.9"], trusted: proxies) == ClientAddress.unknown)
        // One IPv6 subscriber holds a /64: throttled as one source.
        #expect(ClientAddress.throttleKey("2001:db8:1:2:aaaa::1") == ClientAddress.throttleKey("2001:db8:1:2:bbbb::9"))
        #expect(ClientAddress.throttleKey("2001:db8:1:3::1") != ClientAddress.throttleKey("2001:db8:1:2::1"))
        #expect(ClientAddress.throttleKey("192.0.2.1") == "192.0.2.1")
    }

    /// A live server on 127.0.0.1: events record the address from the socket, or from a trusted
    /// proxy's `X-Forwarded-For`; a forged header from an untrusted peer is ignored, also by the
    /// per-address password budget.
    @Test(arguments: [false, true])
    func eventsRecordTheClientAddress(behindProxy: Bool) async throws {
        let server = try await TestServer.make { configuration in
            if behindProxy { configuration.trustedProxies = [IPRange("127.0.0.0/8")!] }
            configuration.sourceBudgets.passwordsPerAddress = TokenBucket(capacity: 1, refillInterval: 3_600)
        }
        let clock = server.clock
        let router = try buildRouter(server.configuration, parts: server.parts, now: { clock.now }, passwordHasher: TestServer.hasher)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: server.logs.logger())
        try await app.test(.live) { client in
            func signIn(_ email: String, _ password: String, from forwarded: String) async throws -> TestResponse {
                let body = "{\"email\":\"\(email)\",\"password\":\"\(password)\"}"
                return try await client.executeRequest(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: forwarded],
                    body: ByteBuffer(string: body)
                )
            }
            let created = try await client.executeRequest(
                uri: "/api/v1/account",
                method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: "192.0.2.1, 203.0.113.9"],
                body: ByteBuffer(string: #"{"email":"ivy@example.com","password":"correct horse battery"}"#)
            )
            #expect(created.status == .created)
            #expect(try await signIn("ivy@example.com", "wrong password", from: "198.51.100.20").status == .unauthorized)
            let user = try #require(try await server.store.user(email: "ivy@example.com"))
            let events = try await server.store.events(userID: user.id, limit: 10)
            let signedUp = try #require(events.first { $0.kind == .signedUp })
            let failed = try #require(events.first { $0.kind == .signInFailed })
            #expect(signedUp.clientAddress == (behindProxy ? "203.0.113.9" : "127.0.0.1"))
            #expect(failed.clientAddress == (behindProxy ? "198.51.100.20" : "127.0.0.1"))
            // The account API's activity list shows it too (SPEC F10).
            let token = try #require(
                (try JSONSerialization.jsonObject(with: Data(String(buffer: created.body).utf8)) as? [String: Any])?["token"] as? String
            )
            let listed = try await client.executeRequest(
                uri: "/api/v1/account/events",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            #expect(String(buffer: listed.body).contains("\"client_address\":\"\(behindProxy ? "203.0.113.9" : "127.0.0.1")\""))

            // The wrong password spent that address's budget (one, here); a forged header only helps behind a trusted proxy.
            let next = try await signIn("y@example.com", "wrong password", from: "198.51.100.21")
            #expect(next.status == (behindProxy ? .unauthorized : .tooManyRequests))
        }
        try await server.parts.database.close()
        try? FileManager.default.removeItem(at: server.directory)
    }
}
