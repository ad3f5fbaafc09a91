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

    /// A live server on 127.0.0.1 with the real middleware: the address comes from the socket, or
    /// from a trusted proxy's `X-Forwarded-For`; a forged header from an untrusted peer is ignored.
    @Test(arguments: [false, true])
    func theMiddlewareResolvesTheSocketsAddress(behindProxy: Bool) async throws {
        let router = Router(context: TwoStepRequestContext.self)
        router.add(middleware: ClientAddressMiddleware(trustedProxies: behindProxy ? [IPRange("127.0.0.0/8")!] : []))
        router.get("/address") { _, _ in RequestOrigin.clientAddress }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let response = try await client.executeRequest(
                uri: "/address",
                method: .get,
                headers: [HTTPField.Name("X-Forwarded-For")!: "192.0.2.1, 203.0.113.9"],
                body: nil
            )
            #expect(String(buffer: response.body) == (behindProxy ? "203.0.113.9" : "127.0.0.1"))
        }
    }

    /// Events record the address of the request they happened in (SPEC F10), and the account API lists it.
    @Test func eventsRecordTheClientAddress() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let user = try await server.store.createUser(email: "ivy@example.com", passwordHash: "h", at: 1)
            try await RequestOrigin.$clientAddress.withValue("203.0.113.9") {
                try await server.store.recordEvent(userID: user.id, kind: .signInFailed, detail: "", at: 2)
            }
            try await server.store.recordEvent(userID: user.id, kind: .operatorReset, detail: "", at: 3)
            let events = try await server.store.events(userID: user.id, limit: 10)
            #expect(events.map(\.clientAddress) == ["", "203.0.113.9"])

            var api = APIClient(client: client)
            let signUp = try await api.call(.post, "/api/v1/account", ["email": "jo@example.com", "password": "correct horse battery"])
            api.token = try #require(signUp["token"] as? String)
            let listed = try #require(try await api.call(.get, "/api/v1/account/events")["events"] as? [[String: Any]])
            #expect(listed.first?["client_address"] as? String == ClientAddress.unknown, "in-process requests have no socket")
        }
    }
}
