import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import Synchronization
import VaporCSQLite

/// One SQLite connection on a thread of its own, with every statement prepared once and kept.
///
/// sqlite-nio (which the rest of SQLKit's SQLite support uses) parses each statement afresh, runs
/// it on a thread pool, and hands every row back to an event loop before the caller's task resumes:
/// the validate benchmark measured about 35 µs of hand-offs per statement and `sqlite3_prepare` at
/// 9 % of all CPU (issue 19). Here a statement runs at once on the caller's own thread when the
/// connection is free and SQLite need not wait for a lock (microseconds: the statement is prepared,
/// the pages are cached); otherwise it is queued for the connection's thread, which may wait (up to
/// 5 s for another connection's write lock) without holding up the caller's thread. The same
/// vendored SQLite library does the work (one copy of SQLite per process: two copies on one file
/// break each other's locks, sqlite.org/howtocorrupt.html §2.2).
///
/// The writer's thread commits what queued in groups: the statements that waited while it ran the
/// last ones run in one `BEGIN IMMEDIATE … COMMIT`, each still one atomic statement on the one
/// writer, and none is answered before its commit (durable as `synchronous = NORMAL` makes it:
/// across a crash of the process, not a power loss).
final class SQLiteWorker: @unchecked Sendable {
    private struct Job {
        let sql: String
        let binds: [SQLiteData]
        let continuation: CheckedContinuation<[SQLiteStatementRow], any Error>

        /// Transaction control and pragmas must not run inside a group's transaction.
        var mayGroup: Bool {
            let keyword = sql.drop { $0.isWhitespace }.prefix { !$0.isWhitespace }.uppercased()
            return !["BEGIN", "COMMIT", "ROLLBACK", "END", "SAVEPOINT", "RELEASE", "PRAGMA", "VACUUM", "ATTACH", "DETACH"].contains(keyword)
        }
    }

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var queue: [Job] = []
    private var stopped = false
    private let groupsCommits: Bool
    private let thread = NIOThreadPool(numberOfThreads: 1)

    /// Guarded by `owner` (callers running a statement inline, or the connection's thread).
    private var handle: OpaquePointer?
    private var prepared: [String: Prepared] = [:]
    /// Guarded by `condition`.
    private var threadDone = false
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []

    /// Opens `path` (`:memory:` for a private in-memory database) and starts the connection's thread.
    /// - Parameter groupsCommits: Whether queued statements share one transaction (the writer).
    init(path: String, groupsCommits: Bool) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let opened = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard opened == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "code \(opened)"
            sqlite_nio_sqlite3_close(handle)
            throw SQLiteWorkerError(message: "cannot open \(path): \(message)")
        }
        // Inline, a statement that would wait for another connection's lock (a bulk transaction, a
        // backup, a checkpoint) fails at once and is queued for the thread, which waits up to 5 s.
        sqlite_nio_sqlite3_busy_timeout(handle, 0)
        sqlite_nio_sqlite3_extended_result_codes(handle, 1)
        self.handle = handle
        self.groupsCommits = groupsCommits
        // NIO's thread pool for the thread (a pthread of its own), running one work item: the loop.
        // (Foundation's `Thread`, started by hundreds of test databases at once, coincided with
        // crashes in `Process.run` of other tests.)
        thread.start()
        thread.submit { [self] _ in run() }
    }

    /// Who uses the connection now: a caller running a statement inline, or the thread.
    private let owner = Mutex(())
    /// Whether `owner` is held, read before trying it: on Linux, `Mutex` asks the kernel before it
    /// gives up on a held lock (a `futex` system call), which was one call a validate check when
    /// both event loops reached for the same connection (issue 19). A stale answer costs one
    /// try (the lock still decides) or one connection passed over.
    private let inUse = Atomic<Bool>(false)

    /// Runs the statement inline if the connection is free and nothing must be waited for.
    /// - Returns: `nil` when it must be queued instead (the connection is busy, or SQLite would wait).
    func executeIfFree(_ sql: String, _ binds: [SQLiteData]) throws -> [SQLiteStatementRow]? {
        guard !inUse.load(ordering: .relaxed) else { return nil }
        return try owner.withLockIfAvailable { _ -> [SQLiteStatementRow]? in
            inUse.store(true, ordering: .relaxed)
            defer { inUse.store(false, ordering: .relaxed) }
            guard handle != nil else { return nil }
            do {
                return try step(sql, binds)
            } catch let error as SQLiteWorkerError where error.isBusy {
                return nil
            }
        } ?? nil
    }

    /// Runs one statement, inline when the connection is free, else on the connection's thread.
    func execute(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteStatementRow] {
        if let rows = try executeIfFree(sql, binds) { return rows }
        return try await enqueue(sql, binds)
    }

    /// Runs one statement on the connection's thread.
    func enqueue(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteStatementRow] {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: SQLiteWorkerError(message: "the connection is closed"))
                return
            }
            queue.append(Job(sql: sql, binds: binds, continuation: continuation))
            if queue.count == 1 { condition.signal() }
            condition.unlock()
        }
    }

    /// Finishes what is queued, then closes the connection and ends its thread.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if threadDone {
                condition.unlock()
                continuation.resume()
                return
            }
            stopped = true
            closeWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
        try? await thread.shutdownGracefully()
    }

    // MARK: On the connection's thread

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            let jobs = queue
            queue.removeAll(keepingCapacity: true)
            let stop = stopped && jobs.isEmpty
            condition.unlock()
            if stop { break }
            owner.withLock { _ in
                inUse.store(true, ordering: .relaxed)
                defer { inUse.store(false, ordering: .relaxed) }
                // Here, and only here, SQLite may wait for another connection's lock.
                sqlite_nio_sqlite3_busy_timeout(handle, 5_000)
                defer { sqlite_nio_sqlite3_busy_timeout(handle, 0) }
                if groupsCommits, jobs.count > 1, sqlite_nio_sqlite3_get_autocommit(handle) != 0 {
                    runGrouped(jobs)
                } else {
                    for job in jobs { job.continuation.resume(with: Result { try step(job.sql, job.binds) }) }
                }
            }
        }
        owner.withLock { _ in
            for statement in prepared.values { sqlite_nio_sqlite3_finalize(statement.statement) }
            prepared.removeAll()
            sqlite_nio_sqlite3_close_v2(handle)
            handle = nil
        }
        condition.lock()
        threadDone = true
        let waiters = closeWaiters
        closeWaiters = []
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Runs the groupable jobs in one transaction, answering them after its commit.
    private func runGrouped(_ jobs: [Job]) {
        var pending: [(Job, Result<[SQLiteStatementRow], any Error>)] = []
        func settle(_ failure: (any Error)?) {
            for (job, result) in pending { job.continuation.resume(with: failure.map { .failure($0) } ?? result) }
            pending.removeAll()
        }
        var inTransaction = false
        for job in jobs {
            guard job.mayGroup else {
                if inTransaction { settle(commit()) }
                inTransaction = false
                job.continuation.resume(with: Result { try step(job.sql, job.binds) })
                continue
            }
            if !inTransaction {
                // A transaction a caller began on this connection (an in-memory database's
                // `transaction`, which has no other connection) is theirs: no group inside it.
                guard sqlite_nio_sqlite3_get_autocommit(handle) != 0 else {
                    job.continuation.resume(with: Result { try step(job.sql, job.binds) })
                    continue
                }
                do {
                    _ = try step("BEGIN IMMEDIATE", [])
                    inTransaction = true
                } catch {
                    job.continuation.resume(throwing: error)
                    continue
                }
            }
            let result = Result { try step(job.sql, job.binds) }
            if case .failure(let error) = result, sqlite_nio_sqlite3_get_autocommit(handle) != 0 {
                // Some errors (a full disk, I/O, memory) roll the whole transaction back: the
                // statements before this one did not happen either.
                settle(error)
                inTransaction = false
            }
            pending.append((job, result))
        }
        if inTransaction { settle(commit()) } else { settle(nil) }
    }

    /// - Returns: Why the commit failed (everything in it is then undone), or `nil`.
    private func commit() -> (any Error)? {
        do {
            _ = try step("COMMIT", [])
            return nil
        } catch {
            if sqlite_nio_sqlite3_get_autocommit(handle) == 0 { _ = try? step("ROLLBACK", []) }
            return error
        }
    }

    /// A statement prepared once, with its column names read at its first row.
    private final class Prepared {
        let statement: OpaquePointer
        var columns: SQLiteStatementRow.Columns?

        init(_ statement: OpaquePointer) { self.statement = statement }
    }

    private func statement(for sql: String) throws -> Prepared {
        if let statement = prepared[sql] { return statement }
        var statement: OpaquePointer?
        let result = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else { throw error(result) }
        // Statements differ only in bound values, but an `IN (…)` list makes one per length: a
        // bound on the cache keeps an unusual workload from holding thousands.
        if prepared.count >= 512 {
            for old in prepared.values { sqlite_nio_sqlite3_finalize(old.statement) }
            prepared.removeAll()
        }
        let kept = Prepared(statement)
        prepared[sql] = kept
        return kept
    }

    private func step(_ sql: String, _ binds: [SQLiteData]) throws -> [SQLiteStatementRow] {
        let prepared = try statement(for: sql)
        let statement = prepared.statement
        // Reset at once, so a read does not hold its snapshot (which would stall checkpoints).
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let result: Int32
            switch value {
            case .integer(let integer): result = sqlite_nio_sqlite3_bind_int64(statement, position, Int64(integer))
            case .float(let double): result = sqlite_nio_sqlite3_bind_double(statement, position, double)
            case .text(let text):
                result = sqlite_nio_sqlite3_bind_text64(statement, position, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .blob(let buffer):
                result = buffer.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob64(statement, position, $0.baseAddress, UInt64($0.count), transient)
                }
            case .null: result = sqlite_nio_sqlite3_bind_null(statement, position)
            }
            guard result == SQLITE_OK else { throw error(result) }
        }
        var rows: [SQLiteStatementRow] = []
        while true {
            let result = sqlite_nio_sqlite3_step(statement)
            if result == SQLITE_DONE { return rows }
            guard result == SQLITE_ROW else { throw error(result) }
            // Kept across runs: a statement's columns change only when a schema change re-prepares
            // a `SELECT *`, which none of ours is (and the count would tell).
            let names =
                prepared.columns.flatMap { $0.names.count == sqlite_nio_sqlite3_column_count(statement) ? $0 : nil }
                ?? SQLiteStatementRow.Columns(statement)
            prepared.columns = names
            rows.append(SQLiteStatementRow(columns: names, values: (0..<Int32(names.names.count)).map { value(statement, $0) }))
        }
    }

    private func value(_ statement: OpaquePointer, _ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, column) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default: return .null
        }
    }

    private func error(_ code: Int32) -> SQLiteWorkerError {
        let message = sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "SQLite error \(code)"
        return SQLiteWorkerError(message: message, code: code)
    }
}

/// SQLite's own message for a failed statement (never its bound values).
struct SQLiteWorkerError: Error, CustomStringConvertible {
    let message: String
    var code: Int32 = SQLITE_ERROR

    var description: String { "SQLite: \(message)" }

    /// SQLite would have to wait for a lock (`SQLITE_BUSY`, `SQLITE_LOCKED` and their extended codes).
    var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A row read on a worker's thread, decoded the way SQLiteKit decodes sqlite-nio's rows.
struct SQLiteStatementRow: SQLRow {
    /// A statement's column names, shared by its rows.
    final class Columns: Sendable {
        let names: [String]
        let indices: [String: Int]

        init(_ statement: OpaquePointer) {
            let names = (0..<sqlite_nio_sqlite3_column_count(statement)).map { column in
                sqlite_nio_sqlite3_column_name(statement, column).map { String(cString: $0) } ?? ""
            }
            self.names = names
            indices = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let columns: Columns
    let values: [SQLiteData]

    private static let decoder = SQLiteDataDecoder()

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.indices[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let index = columns.indices[column] else { return true }
        return values[index] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let index = columns.indices[column] else { throw SQLiteWorkerError(message: "no column \(column)") }
        // The columns the models hold, without SQLiteKit's search for a conversion protocol at
        // every value (a dynamic cast, measured at 2 % of the validate path's CPU).
        switch values[index] {
        case .integer(let integer) where D.self == Int64.self: return Int64(integer) as! D
        case .integer(let integer) where D.self == Int.self: return integer as! D
        case .text(let text) where D.self == String.self: return text as! D
        default: return try Self.decoder.decode(D.self, from: values[index])
        }
    }
}

/// The connections of one role on one database file: the writer's one, or the readers, opened as
/// they are needed (a reader is added only when every open one is busy, up to `maximum`). A server
/// under load ends with one per core; the hundreds of test servers of a test run mostly keep one,
/// which keeps the process below the ~1,360 descriptors at which Foundation's `Process.run` crashed.
final class SQLiteConnections: Sendable {
    /// The open connections, or `nil` once closed (none is opened after that).
    private let workers: Mutex<[SQLiteWorker]?>
    private let maximum: Int
    private let open: @Sendable () async throws -> SQLiteWorker
    /// Where `next(of:)` takes its next connection.
    private let turn = Atomic<UInt>(0)

    /// The first connection (`all`'s first too), tried before the others without taking their
    /// lock, whose `futex` calls were one a check on the validate path when both event loops
    /// wanted it (issue 19). Once `close()` has returned it runs nothing: its thread has closed
    /// it, so `executeIfFree` answers `nil`, and `all` is empty.
    let first: SQLiteWorker

    init(first: SQLiteWorker, maximum: Int, open: @escaping @Sendable () async throws -> SQLiteWorker) {
        workers = Mutex([first])
        self.first = first
        self.maximum = maximum
        self.open = open
    }

    var all: [SQLiteWorker] { workers.withLock { $0 ?? [] } }

    /// One of `workers` to queue on when all are busy, in turn: `randomElement()` asked the
    /// kernel for randomness (`getrandom`) each time, 0.15 calls a validate check (issue 19).
    func next(of workers: [SQLiteWorker]) -> SQLiteWorker? {
        workers.isEmpty ? nil : workers[Int(turn.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(workers.count))]
    }

    /// Closes every connection; a statement after that fails.
    func close() async {
        let closing = workers.withLock { workers in
            defer { workers = nil }
            return workers ?? []
        }
        for worker in closing { await worker.close() }
    }

    /// One more connection, if there is room for it.
    func added() async throws -> SQLiteWorker? {
        guard let count = workers.withLock({ $0?.count }), count < maximum else { return nil }
        let worker = try await open()
        let kept = workers.withLock { workers in
            guard let count = workers?.count, count < maximum else { return false }
            workers?.append(worker)
            return true
        }
        if kept { return worker }
        await worker.close()
        return nil
    }
}

/// SQLKit's face of a role's connections: serialises a query with SQLite's dialect and runs it on
/// the first free connection (adding one if there is room), or queues it on one.
struct SQLiteWorkerDatabase: SQLDatabase {
    let connections: SQLiteConnections
    /// A connection tried before `connections` when it is free.
    var preferred: SQLiteWorker? = nil
    let logger: Logger
    let eventLoop: any EventLoop
    var dialect: any SQLDialect { SQLiteDialect() }
    /// Never log statements: their bindings hold password hashes and sealed keys.
    var queryLogLevel: Logger.Level? { nil }

    private static let encoder = SQLiteDataEncoder()

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (sql, rawBinds) = serialize(query)
        for row in try await rows(sql, try rawBinds.map { try Self.encoder.encode($0) }) { onRow(row) }
    }

    /// Runs SQL text in SQLite's own words (`?` placeholders), without SQLKit's serialising: for
    /// validate's statements (`SQLiteValidation`), whose texts are fixed.
    func rows(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteStatementRow] {
        if let preferred, let rows = try preferred.executeIfFree(sql, binds) { return rows }
        if let rows = try connections.first.executeIfFree(sql, binds) { return rows }
        let workers = connections.all
        for worker in workers.dropFirst() {
            if let rows = try worker.executeIfFree(sql, binds) { return rows }
        }
        guard let worker = try await connections.added() ?? connections.next(of: workers) else {
            throw SQLiteWorkerError(message: "the database is closed")
        }
        return try await worker.execute(sql, binds)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await execute(sql: query, onRow) }
        return promise.futureResult
    }
}
