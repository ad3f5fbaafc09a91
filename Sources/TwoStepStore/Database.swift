import Foundation
public import Logging
import NIOPosix
public import SQLKit
import SQLiteKit
import Synchronization

/// The connections the store talks through, and which SQL dialect they speak.
///
/// Every query is one self-contained statement (rules that must be atomic, such as the replay
/// guard, are single conditional `UPDATE … RETURNING` statements), so queries spread over the
/// connections without leasing one per request.
///
/// SQLite allows one writer at a time. Writes from several connections collide: a statement that
/// read a snapshot and then wants to write gets `SQLITE_BUSY_SNAPSHOT` at once, with no waiting
/// (the validate benchmark made 2 % of checks fail this way). So every write goes through one
/// writer connection on a thread of its own, queued rather than contending; reads go through a
/// reader connection on another thread, which in WAL mode never waits for the writer. One thread
/// each is the fastest arrangement measured on 2 cores (9,400 valid checks/s against 7,400 with
/// two reader threads and three reader connections: fewer threads, fewer context switches).
/// The readers are a list so that PostgreSQL can have a pool.
public final class Database: Sendable {
    /// The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.
    public enum Dialect: Sendable {
        case sqlite

        /// An auto-incrementing 64-bit primary key.
        var identityColumn: String {
            switch self {
            case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
            }
        }
    }

    public let dialect: Dialect
    private let readers: [any SQLDatabase]
    /// Where every INSERT, UPDATE and DELETE goes.
    public let writer: any SQLDatabase
    private let next = Atomic<Int>(0)
    private let closeConnections: @Sendable () async throws -> Void
    /// Opens a connection of its own for a multi-statement transaction.
    private let openDedicated: @Sendable () async throws -> (any SQLDatabase, close: @Sendable () async throws -> Void)

    private init(
        dialect: Dialect,
        writer: any SQLDatabase,
        readers: [any SQLDatabase],
        close: @escaping @Sendable () async throws -> Void,
        openDedicated: @escaping @Sendable () async throws -> (any SQLDatabase, close: @Sendable () async throws -> Void)
    ) {
        self.dialect = dialect
        self.writer = writer
        self.readers = readers
        self.closeConnections = close
        self.openDedicated = openDedicated
    }

    /// Runs `body` in one transaction on a connection nobody else uses, so statements of other
    /// requests cannot fall into it. For bulk work (imports); the rules need no transactions.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let (sql, close) = try await openDedicated()
        do {
            try await sql.raw("BEGIN IMMEDIATE").run()
            let result = try await body(sql)
            try await sql.raw("COMMIT").run()
            try await close()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            try? await close()
            throw error
        }
    }

    /// A connection to run one read on.
    public var sql: any SQLDatabase {
        readers[next.wrappingAdd(1, ordering: .relaxed).oldValue % readers.count]
    }

    /// Migrations run their transaction on the writer.
    var primary: any SQLDatabase { writer }

    /// Opens a database from a URL: `sqlite:PATH` (or `sqlite::memory:` for a throw-away one).
    public static func open(url: String, logger: Logger) async throws -> Database {
        guard url.hasPrefix("sqlite:") else { throw StoreError.unsupportedDatabase(url) }
        return try await sqlite(path: String(url.dropFirst("sqlite:".count)), logger: logger)
    }

    /// Opens (creating if needed) an SQLite file in write-ahead-log mode, so readers never wait
    /// for the writer, with foreign keys enforced.
    ///
    /// Three connections, each on a thread of its own: the writer, a reader, and a checkpointer.
    /// SQLite normally copies the write-ahead log back into the database file (a checkpoint) inside
    /// whichever commit crosses 1,000 pages, and every write queued behind that commit waits: under
    /// load that doubled the validate path's p99 (9 ms → 15–20 ms). Here commits never checkpoint:
    /// the checkpointer copies the log four times a second, `PASSIVE` (blocking neither readers nor
    /// the writer), and once a second the writer restarts the log after the short remainder; the
    /// file is cut back to 64 MiB after a burst (at 12,000 writes/s the log grows 48 MB/s, since
    /// each commit appends whole 4 KiB pages). Closing truncates it.
    /// - Parameter path: The file, or `:memory:` for one private in-memory database (one connection).
    public static func sqlite(path: String, logger: Logger) async throws -> Database {
        let inMemory = path == ":memory:"
        if !inMemory { try restrictPermissions(path) }
        let threads = (0..<3).map { _ in NIOThreadPool(numberOfThreads: 1) }
        for thread in threads { thread.start() }
        @Sendable func connect(on thread: NIOThreadPool, first: Bool = false) async throws -> SQLiteConnection {
            let connection = try await SQLiteConnection.open(
                storage: inMemory ? .memory : .file(path: path),
                threadPool: thread,
                logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
            // busy_timeout replaces sqlite-nio's spinning busy handler with one that sleeps.
            // WAL is a property of the file: set it once, before other connections are open.
            let wal = !inMemory && first ? ["PRAGMA journal_mode = WAL"] : []
            let pragmas =
                ["PRAGMA busy_timeout = 5000"] + wal + [
                    "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL", "PRAGMA wal_autocheckpoint = 0",
                    "PRAGMA journal_size_limit = 67108864",
                ]
            do {
                for pragma in pragmas { _ = try await connection.query(pragma) }
            } catch {
                try? await connection.close()
                throw error
            }
            return connection
        }
        // The writer first: it switches the file to WAL. An in-memory database exists only on its
        // one connection, which then does everything.
        var connections: [SQLiteConnection] = []
        do {
            connections.append(try await connect(on: threads[0], first: true))
            if !inMemory {
                connections.append(try await connect(on: threads[1]))
                connections.append(try await connect(on: threads[2]))
            }
        } catch {
            for connection in connections { try? await connection.close() }
            for thread in threads { try? await thread.shutdownGracefully() }
            throw error
        }
        let opened = connections
        // SQLKit would log every query with its bindings (password hashes, sealed keys) at debug level: never.
        let writer = opened[0].sql(queryLogLevel: nil)
        let reader = opened[inMemory ? 0 : 1].sql(queryLogLevel: nil)
        let checkpointer =
            inMemory
            ? nil
            : Task {
                var round = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    round += 1
                    // Copy the log into the file beside the writer; then, once a second, let the writer
                    // itself finish the little that is left and start the log again from its beginning
                    // (a log is only reused after a checkpoint that no writer raced).
                    _ = try? await opened[2].query("PRAGMA wal_checkpoint(PASSIVE)")
                    if round % 4 == 0 { _ = try? await opened[0].query("PRAGMA wal_checkpoint(RESTART)") }
                }
            }
        return Database(
            dialect: .sqlite,
            writer: writer,
            readers: [reader],
            close: {
                checkpointer?.cancel()
                await checkpointer?.value
                if !inMemory { _ = try? await opened[0].query("PRAGMA wal_checkpoint(TRUNCATE)") }
                for connection in opened { try await connection.close() }
                for thread in threads { try await thread.shutdownGracefully() }
            },
            openDedicated: {
                if inMemory { return (writer, close: {}) }
                let connection = try await connect(on: threads[1])
                return (connection.sql(queryLogLevel: nil), close: { try await connection.close() })
            }
        )
    }

    /// The database holds password hashes and sealed secrets: only the server's user may read it,
    /// like the master key, whatever the umask and whoever made the folder. SQLite gives the `-wal`
    /// and `-shm` files the database file's mode, so the file is made 0600 before SQLite opens it;
    /// files left by an older version (0644) are tightened.
    static func restrictPermissions(_ path: String) throws {
        let files = FileManager.default
        if !files.fileExists(atPath: path) {
            guard files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] where files.fileExists(atPath: file) {
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    public func close() async throws {
        try await closeConnections()
    }
}
