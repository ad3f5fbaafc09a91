import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle
import Synchronization
import TwoStepStore

/// Whether this instance should get new traffic: false from the moment a graceful shutdown starts,
/// so a load balancer polling `/health/ready` stops sending requests before the server stops
/// accepting them (the drain, `ShutdownDrain`).
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    /// Whether a graceful shutdown has begun.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    func beginDraining() { draining.store(true, ordering: .relaxed) }
}

/// `/health/live`, `/health/ready` and the `/health` alias: cheap, unauthenticated, no cookies, and
/// never a detail an outsider could use (the reason is one word; the database's own error goes to
/// the log only).
struct HealthRoutes {
    /// One trivial query (`Database.ping`).
    let ping: @Sendable () async throws -> Void
    let readiness: Readiness
    /// The longest the readiness query may take before the instance counts as not ready.
    let deadline: Duration

    private struct Answer: Encodable {
        let status: String
        var reason: String?
    }

    func addRoutes(to router: Router<TwoStepRequestContext>) {
        // The process answers: nothing else is checked, so a slow database never gets a healthy
        // process restarted by its supervisor.
        let live = ByteBuffer(string: #"{"status":"ok"}"#)
        for path in ["/health", "/health/live"] {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: live))
            }
        }
        router.get("/health/ready") { _, context in
            if readiness.isDraining {
                return try API.json(Answer(status: "unavailable", reason: "shutting_down"), status: .serviceUnavailable)
            }
            guard await databaseAnswers(logger: context.logger) else {
                return try API.json(Answer(status: "unavailable", reason: "database_unavailable"), status: .serviceUnavailable)
            }
            return try API.json(Answer(status: "ready"), status: .ok)
        }
    }

    /// Runs one query, giving up at the deadline: a database that hangs is as unready as one that
    /// refuses. The query is left to finish on its own (an SQLite statement cannot be interrupted),
    /// so the answer never waits for it.
    private func databaseAnswers(logger: Logger) async -> Bool {
        enum Outcome: Sendable { case answered, failed(any Error), timedOut }
        let (ping, deadline) = (ping, deadline)
        let outcome: Outcome = await withCheckedContinuation { continuation in
            let once = Mutex(false)
            let finish: @Sendable (Outcome) -> Void = { outcome in
                let first = once.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: outcome) }
            }
            Task {
                do {
                    try await ping()
                    finish(.answered)
                } catch {
                    finish(.failed(error))
                }
            }
            Task {
                try? await Task.sleep(for: deadline)
                finish(.timedOut)
            }
        }
        switch outcome {
        case .answered:
            return true
        case .failed(let error):
            logger.warning("readiness: the database query failed", error: error)
            return false
        case .timedOut:
            logger.warning("readiness: the database did not answer within \(deadline)")
            return false
        }
    }
}

/// The first service to hear of a graceful shutdown (it runs after the application in the
/// `ServiceGroup`, and groups stop services in reverse order): it turns `/health/ready` to 503 and
/// waits `delay` before the server is told to stop, so load balancers take the instance out of
/// rotation while it still answers, and no request is refused at a closed socket.
public struct ShutdownDrain: Service {
    let readiness: Readiness
    let delay: Duration
    let logger: Logger

    public init(readiness: Readiness, delay: Duration, logger: Logger) {
        self.readiness = readiness
        self.delay = delay
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        readiness.beginDraining()
        guard delay > .zero else { return }
        logger.notice("shutting down: /health/ready answers 503; the server stops in \(delay)")
        // Cancelled (a second signal, or the group failing) ends the wait early.
        try? await Task.sleep(for: delay)
    }
}
