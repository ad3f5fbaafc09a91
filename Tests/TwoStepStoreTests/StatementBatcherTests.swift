import Synchronization
import Testing

@testable import TwoStepStore

/// The natural batching under validate's statements on PostgreSQL (pure logic: the statement is a
/// closure here; `PostgresStoreTests` runs the real ones across two instances).
struct StatementBatcherTests {
    /// Records each round a batcher runs; the first round waits until `open()`, so that every
    /// other request is queued behind it.
    final class Rounds: Sendable {
        private let rounds = Mutex<[[String: Int]]>([])
        private let gate = AsyncStream.makeStream(of: Void.self)

        func run(_ round: [String: Int]) async {
            let first = rounds.withLock { rounds in
                rounds.append(round)
                return rounds.count == 1
            }
            if first { for await _ in gate.stream { break } }
        }

        func open() { gate.continuation.finish() }
        var all: [[String: Int]] { rounds.withLock { $0 } }
    }

    /// The first request alone, then the others while it runs; returns each request's answer.
    static func race(
        _ batcher: StatementBatcher<String, Int, Int>,
        _ rounds: Rounds,
        _ requests: [(key: String, value: Int)]
    ) async throws -> [Int] {
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            group.addTask { (0, try await batcher.answer(requests[0].value, key: requests[0].key)) }
            while rounds.all.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
            for (index, request) in requests.enumerated().dropFirst() {
                group.addTask { (index, try await batcher.answer(request.value, key: request.key)) }
            }
            // Every request is queued well within this; a slower start only adds a round.
            try await Task.sleep(for: .milliseconds(200))
            rounds.open()
            var answers = Array(repeating: 0, count: requests.count)
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
    }

    /// A conditional write must see the one before it: two claims on one factor never share a round.
    @Test func requestsWithOneKeyGoInSeparateRoundsWhenTheyMustNotShare() async throws {
        let rounds = Rounds()
        let batcher = StatementBatcher<String, Int, Int>(maximum: 100, duplicates: .nextRound, absent: -1) { requests in
            await rounds.run(requests)
            return requests.filter { $0.key != "missing" }
        }
        let answers = try await Self.race(batcher, rounds, [("a", 1), ("a", 2), ("b", 3), ("a", 4), ("missing", 5)])
        #expect(answers == [1, 2, 3, 4, -1], "each request is answered with its own value, or `absent`")
        // The queued requests may start in any order: a's three go in three rounds, whichever first.
        #expect(rounds.all.first == ["a": 1] && rounds.all.count == 3, "\(rounds.all)")
        #expect(rounds.all.allSatisfy { $0["a"] != nil } && rounds.all.map(\.count).reduce(0, +) == 5)
    }

    /// A read answers every request for one key from one row.
    @Test func requestsWithOneKeyShareAnAnswerWhenTheyMay() async throws {
        let rounds = Rounds()
        let batcher = StatementBatcher<String, Int, Int>(maximum: 100, duplicates: .share, absent: -1) { requests in
            await rounds.run(requests)
            return requests.mapValues { $0 * 10 }
        }
        let answers = try await Self.race(batcher, rounds, (0..<20).map { (key: "k\($0 % 4)", value: $0 % 4) })
        #expect(answers == (0..<20).map { ($0 % 4) * 10 })
        // Without sharing, k0's five requests would take five rounds.
        #expect(rounds.all.first == ["k0": 0] && rounds.all.count < 5, "\(rounds.all)")
    }

    @Test func noRoundHoldsMoreThanTheMaximum() async throws {
        let rounds = Rounds()
        let batcher = StatementBatcher<String, Int, Int>(maximum: 3, duplicates: .nextRound, absent: -1) { requests in
            await rounds.run(requests)
            return requests
        }
        let answers = try await Self.race(batcher, rounds, (0..<20).map { (key: "k\($0)", value: $0) })
        #expect(answers == Array(0..<20))
        #expect(rounds.all.allSatisfy { $0.count <= 3 } && rounds.all.map(\.count).reduce(0, +) == 20, "\(rounds.all)")
    }

    struct Refused: Error {}

    /// A failed statement fails every request in its round, and the next round runs.
    @Test func aFailedRoundFailsItsRequestsOnly() async throws {
        let calls = Mutex(0)
        let batcher = StatementBatcher<String, Int, Int>(maximum: 100, duplicates: .nextRound, absent: -1) { requests in
            let call = calls.withLock { calls in
                calls += 1
                return calls
            }
            if call == 1 { throw Refused() }
            return requests
        }
        await #expect(throws: Refused.self) { try await batcher.answer(1, key: "a") }
        #expect(try await batcher.answer(2, key: "a") == 2)
    }
}
