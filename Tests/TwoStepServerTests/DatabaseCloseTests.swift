import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import TwoStepServer

/// A live test that fails unwinds by cancellation: the database must still close, or sqlite-nio's
/// debug trap on an open connection crashes the whole test run and hides which test failed.
@Suite("Closing the database")
struct DatabaseCloseTests {
    struct Failure: Error {}

    @Test(arguments: 0..<4) func aLiveTestThatFailsStillClosesItsDatabase(_ run: Int) async throws {
        let server = try await TestServer.make()
        await #expect(throws: Failure.self) {
            try await server.runLive { client in
                _ = try await client.executeRequest(uri: "/health/live", method: .get, headers: [:], body: nil)
                throw Failure()
            }
        }
    }
}
