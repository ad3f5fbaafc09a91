public import Logging
public import SQLKit
import NIOPosix
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
        dialect: Dialect, writer: any SQLDatabase, readers: [any SQLDatabase], close: @escaping @Sendable () async throws -> Void,
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
    /// - Parameters:
    ///   - path: The file, or `:memory:` for one private in-memory database (one connection).
    ///   - readers: How many connections to spread reads over.
    public static func sqlite(path: String, readers count: Int = 1, logger: Logger) async throws -> Database {
        let inMemory = path == ":memory:"
        let writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        let readerThread = NIOThreadPool(numberOfThreads: 1)
        readerThread.start()
        @Sendable func connect(first: Bool, on pool: NIOThreadPool? = nil) async throws -> SQLiteConnection {
            let connection = try await SQLiteConnection.open(
                storage: inMemory ? .memory : .file(path: path), threadPool: pool ?? readerThread, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()
            )
            // busy_timeout replaces sqlite-nio's spinning busy handler with one that sleeps.
            // WAL is a property of the file: set it once, before other connections are open.
            let wal = !inMemory && first ? ["PRAGMA journal_mode = WAL"] : []
            do {
                for pragma in ["PRAGMA busy_timeout = 5000"] + wal + ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"] {
                    _ = try await connection.query(pragma)
                }
            } catch {
                try? await connection.close()
                throw error
            }
            return connection
        }
        // The writer first: it switches the file to WAL. An in-memory database exists only on its
        // one connection, which then both reads and writes.
        var connections: [SQLiteConnection] = []
        do {
            connections.append(try await connect(first: true, on: writerThread))
            for _ in 0..<(inMemory ? 0 : max(1, count)) {
                connections.append(try await connect(first: false))
            }
        } catch {
            for connection in connections { try? await connection.close() }
            try? await writerThread.shutdownGracefully()
            try? await readerThread.shutdownGracefully()
            throw error
        }
        let opened = connections
        // SQLKit would log every query with its bindings (password hashes, sealed keys) at debug level: never.
        let databases = opened.map { $0.sql(queryLogLevel: nil) }
        return Database(
            dialect: .sqlite, writer: databases[0], readers: databases.count > 1 ? Array(databases.dropFirst()) : databases,
            close: {
                for connection in opened { try await connection.close() }
                try await writerThread.shutdownGracefully()
                try await readerThread.shutdownGracefully()
            },
            openDedicated: {
                // An in-memory database exists only on its one connection.
                if inMemory { return (databases[0], close: {}) }
                let connection = try await connect(first: false)
                return (connection.sql(queryLogLevel: nil), close: { try await connection.close() })
            }
        )
    }

    public func close() async throws {
        try await closeConnections()
    }
}
