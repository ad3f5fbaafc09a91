import NIOCore
import NIOPosix
import Synchronization

/// Coalesces concurrent requests into one statement for all of them ("natural batching"): the
/// first request runs at once; requests that arrive while it runs wait and then go together in the
/// next statement. Under load one statement answers many requests — on PostgreSQL each statement is
/// a round trip and a parse — and with no concurrency it is one statement per request, as before.
///
/// Requests are named by a key. What happens to two with the same key in one round is `duplicates`'
/// choice: a read answers both from one row (`.share`); a conditional write must see the other's
/// effect first, so the second waits for the next round (`.nextRound`).
final class StatementBatcher<Key: Hashable & Sendable, Request: Sendable, Answer: Sendable>: Sendable {
    enum Duplicates: Sendable {
        case share
        case nextRound
    }

    /// A request, and the event loop it came from: its answer is resumed there, so each request
    /// carries on on its own connection's loop instead of all of them on the database's. That is
    /// `serve`, where NIO's loops run every task; elsewhere (tests) there is no loop to return to.
    typealias Waiter = (key: Key, request: Request, continuation: CheckedContinuation<Answer, any Error>, loop: (any EventLoop)?)

    private struct State {
        var running = false
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())
    private let maximum: Int
    private let duplicates: Duplicates
    private let absent: Answer
    private let run: @Sendable ([Key: Request]) async throws -> [Key: Answer]

    /// - Parameters:
    ///   - maximum: The most distinct keys in one statement.
    ///   - absent: The answer for a key `run` leaves out.
    ///   - run: Runs one statement for distinct keys; keys without an answer are left out.
    init(
        maximum: Int = 100,
        duplicates: Duplicates,
        absent: Answer,
        run: @escaping @Sendable ([Key: Request]) async throws -> [Key: Answer]
    ) {
        self.maximum = maximum
        self.duplicates = duplicates
        self.absent = absent
        self.run = run
    }

    func answer(_ request: Request, key: Key) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            // Only the singleton group's loops, which never shut down: `execute` on a closed loop
            // would drop the answer.
            let loop = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loop in
                loop === MultiThreadedEventLoopGroup.singleton.any() ? loop : nil
            }
            let start = state.withLock { state in
                state.waiting.append((key, request, continuation, loop))
                guard !state.running else { return false }
                state.running = true
                return true
            }
            // Detached: the rounds serve every request, not the first one's task-locals (its
            // request id in the logs).
            if start { Task.detached { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let round: [Waiter] = state.withLock { state in
                var round: [Waiter] = []
                var later: [Waiter] = []
                var keys: Set<Key> = []
                for waiter in state.waiting {
                    if (keys.count == maximum && !keys.contains(waiter.key)) || (duplicates == .nextRound && keys.contains(waiter.key)) {
                        later.append(waiter)
                    } else {
                        keys.insert(waiter.key)
                        round.append(waiter)
                    }
                }
                state.waiting = later
                if round.isEmpty { state.running = false }
                return round
            }
            guard !round.isEmpty else { return }
            do {
                var requests: [Key: Request] = [:]
                for waiter in round where requests[waiter.key] == nil { requests[waiter.key] = waiter.request }
                let answers = try await run(requests)
                for waiter in round { Self.resume(waiter, with: .success(answers[waiter.key] ?? absent)) }
            } catch {
                for waiter in round { Self.resume(waiter, with: .failure(error)) }
            }
        }
    }

    private static func resume(_ waiter: Waiter, with result: Result<Answer, any Error>) {
        guard let loop = waiter.loop, !loop.inEventLoop else { return waiter.continuation.resume(with: result) }
        loop.execute { waiter.continuation.resume(with: result) }
    }
}
