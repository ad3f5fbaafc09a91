import Synchronization

/// Coalesces concurrent lookups by key into one query for all of them ("natural batching"): the
/// first lookup runs at once; lookups that arrive while it runs wait and then go together in the
/// next query. Under load one statement answers many requests, which is what makes the validate
/// path's read cheap on SQLite, where every statement costs thread hand-offs and a fresh parse.
/// With no concurrency it is one query per lookup, as before.
final class LookupBatcher<Value: Sendable>: Sendable {
    typealias Waiter = (key: String, continuation: CheckedContinuation<Value?, any Error>)

    private struct State {
        var running = false
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())
    private let maximum: Int
    private let fetch: @Sendable ([String]) async throws -> [String: Value]

    /// - Parameters:
    ///   - maximum: The most keys in one query.
    ///   - fetch: Looks up a set of distinct keys; keys without a value are left out.
    init(maximum: Int = 100, fetch: @escaping @Sendable ([String]) async throws -> [String: Value]) {
        self.maximum = maximum
        self.fetch = fetch
    }

    func value(for key: String) async throws -> Value? {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state in
                state.waiting.append((key, continuation))
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch: [Waiter] = state.withLock { state in
                let batch = Array(state.waiting.prefix(maximum))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.running = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let found = try await fetch(Array(Set(batch.map(\.key))))
                for waiter in batch { waiter.continuation.resume(returning: found[waiter.key]) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
