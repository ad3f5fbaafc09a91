import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

/// Issue 16: liveness, readiness (the database, the drain) and the start-up report.
@Suite("Health and start-up")
struct HealthTests {
    @Test func liveAndReadyAnswerJSONWithoutASession() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            for path in ["/health", "/health/live", "/health/ready"] {
                let response = try await client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(path)")
                #expect(response.headers[.setCookie] == nil, "\(path) starts no session")
                let status = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: String]
                #expect(status?["status"] == (path == "/health/ready" ? "ready" : "ok"), "\(path)")
            }
        }
    }

    /// The database taken away under a running router: ready says why, live stays up (a supervisor
    /// must not restart a process for its database's outage).
    @Test func readinessFailsWhileTheDatabaseIsGone() async throws {
        let server = try await TestServer.make()
        let router = try buildRouter(server.configuration, parts: server.parts, passwordHasher: TestServer.hasher, logger: server.logs.logger())
        defer { try? FileManager.default.removeItem(at: server.directory) }
        try await Application(router: router, logger: server.logs.logger()).test(.router) { client in
            #expect(try await client.executeRequest(uri: "/health/ready", method: .get, headers: [:], body: nil).status == .ok)
            try await server.parts.database.close()
            let ready = try await client.executeRequest(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(ready.status == .serviceUnavailable)
            let answer = try JSONSerialization.jsonObject(with: Data(String(buffer: ready.body).utf8)) as? [String: String]
            #expect(answer == ["status": "unavailable", "reason": "database_unavailable"], "no database error text reaches the client")
            // The log names the failure by its type (`Module.Type`), under the key every other line
            // uses for it, and never by its description.
            let line = server.logs.allLines.first { $0.contains("readiness: the database query failed") }
            #expect(line?.contains(/\ error_type=\w+\.\w+\ /) == true, "\(line ?? "no line")")
            #expect(try await client.executeRequest(uri: "/health/live", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    /// A hung database counts as down once the deadline passes: the probe never hangs the load
    /// balancer. (A database that never answers cannot be made on demand, so the query here is one
    /// that never returns.)
    @Test func readinessHasADeadline() async throws {
        let router = Router(context: TwoStepRequestContext.self)
        let hung: @Sendable () async throws -> Void = { try await Task.sleep(for: .seconds(3600)) }
        HealthRoutes(ping: hung, readiness: Readiness(), deadline: .milliseconds(200)).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            let ready = try await client.executeRequest(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(ready.status == .serviceUnavailable)
            let answer = try JSONSerialization.jsonObject(with: Data(String(buffer: ready.body).utf8)) as? [String: String]
            #expect(answer?["reason"] == "database_unavailable")
        }
    }

    @Test func readinessTurnsOffWhileDraining() async throws {
        let server = try await TestServer.make()
        try await server.runLive { client in
            #expect(try await client.executeRequest(uri: "/health/ready", method: .get, headers: [:], body: nil).status == .ok)
            server.parts.readiness.beginDraining()
            let ready = try await client.executeRequest(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(ready.status == .serviceUnavailable)
            let answer = try JSONSerialization.jsonObject(with: Data(String(buffer: ready.body).utf8)) as? [String: String]
            #expect(answer?["reason"] == "shutting_down")
            #expect(try await client.executeRequest(uri: "/health/live", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    /// The drain hears of the shutdown before the server does and holds it back for its delay.
    @Test func theDrainRunsBeforeTheServerStops() async throws {
        let readiness = Readiness()
        let seen = ServerStandIn(readiness: readiness)
        let group = ServiceGroup(
            configuration: .init(
                services: [seen, ShutdownDrain(readiness: readiness, delay: .milliseconds(400), logger: Logger(label: "test"))],
                logger: Logger(label: "test")
            )
        )
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            #expect(!readiness.isDraining)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let stoppedAfter = try #require(seen.stoppedAfter.withLock { $0 })
        #expect(seen.drainingWhenStopped.withLock { $0 }, "readiness was off before the server was told to stop")
        #expect(stoppedAfter - started >= .milliseconds(450), "the server stopped only after the drain delay")
    }

    @Test func theStartUpLineNamesTheSetupButNoPassword() throws {
        var configuration = ServerConfiguration()
        configuration.databaseURL = "postgres://twostep:hunter2-secret@db.internal:5433/twostep?sslmode=require"
        configuration.host = "0.0.0.0"
        let line = StartupReport.banner(configuration, port: 8443)
        #expect(
            line
                == "TwoStep listening on http://0.0.0.0:8443/; database: PostgreSQL at db.internal:5433/twostep; WebAuthn RP ID: localhost, origins: http://localhost:8443; SMS gateway: outbox (\(configuration.outboxPath)); 2FA: optional, methods app, sms, key; dev mode: off"
        )
        #expect(!line.contains("hunter2"))
        configuration.insecureCookies = true
        configuration.devOutbox = true
        configuration.smsGateway = WebhookGateway(url: "https://sms.example/hook", secret: "webhook-secret")
        let dev = StartupReport.banner(configuration, port: 1)
        #expect(
            dev.hasSuffix("SMS gateway: webhook; 2FA: optional, methods app, sms, key; dev mode: on (insecure cookies, dev outbox)")
                && !dev.contains("webhook-secret"),
            "\(dev)"
        )
        #expect(StartupReport.warnings(configuration).count == 2, "both development settings are warned about")
    }
}

/// Stands where the application is in `twostep serve`'s service group: records what readiness
/// said when the group told it to stop.
private final class ServerStandIn: Service, Sendable {
    let readiness: Readiness
    let drainingWhenStopped = Mutex(false)
    let stoppedAfter = Mutex<ContinuousClock.Instant?>(nil)

    init(readiness: Readiness) { self.readiness = readiness }

    func run() async throws {
        try? await gracefulShutdown()
        drainingWhenStopped.withLock { $0 = readiness.isDraining }
        stoppedAfter.withLock { $0 = ContinuousClock.now }
    }
}
