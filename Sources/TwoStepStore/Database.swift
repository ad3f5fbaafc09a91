public import Logging
public import SQLKit
import SQLiteKit
import Synchronization

/// The connections the store talks through, and which SQL dialect they speak.
///
/// Every query is one self-contained statement (rules that must be atomic, such as the replay
/// guard, are single conditional `UPDATE … RETURNING` statements), so queries spread over the
/// connections without leasing one per request.
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
    private let connections: [any SQLDatabase]
    private let next = Atomic<Int>(0)
    private let closeConnections: @Sendable () async throws -> Void

    private init(dialect: Dialect, connections: [any SQLDatabase], close: @escaping @Sendable () async throws -> Void) {
        self.dialect = dialect
        self.connections = connections
        self.closeConnections = close
    }

    /// A connection to run one statement on.
    public var sql: any SQLDatabase {
        connections[next.wrappingAdd(1, ordering: .relaxed).oldValue % connections.count]
    }

    /// The first connection: migrations run their transaction on it alone.
    var primary: any SQLDatabase { connections[0] }

    /// Opens a database from a URL: `sqlite:PATH` (or `sqlite::memory:` for a throw-away one).
    public static func open(url: String, logger: Logger) async throws -> Database {
        guard url.hasPrefix("sqlite:") else { throw StoreError.unsupportedDatabase(url) }
        return try await sqlite(path: String(url.dropFirst("sqlite:".count)), logger: logger)
    }

    /// Opens (creating if needed) an SQLite file in write-ahead-log mode, so readers never wait
    /// for the writer, with foreign keys enforced.
    /// - Parameters:
    ///   - path: The file, or `:memory:` for one private in-memory database (one connection).
    ///   - connections: How many connections to spread statements over.
    public static func sqlite(path: String, connections count: Int = 4, logger: Logger) async throws -> Database {
        let inMemory = path == ":memory:"
        var connections: [SQLiteConnection] = []
        do {
            for _ in 0..<(inMemory ? 1 : max(1, count)) {
                let connection = try await SQLiteConnection.open(storage: inMemory ? .memory : .file(path: path), logger: logger)
                connections.append(connection)
                // busy_timeout replaces sqlite-nio's spinning busy handler with one that sleeps.
                // WAL is a property of the file: set it once, before other connections are open.
                let wal = !inMemory && connections.count == 1 ? ["PRAGMA journal_mode = WAL"] : []
                for pragma in ["PRAGMA busy_timeout = 5000"] + wal + ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"] {
                    _ = try await connection.query(pragma)
                }
            }
        } catch {
            for connection in connections { try? await connection.close() }
            throw error
        }
        let opened = connections
        // SQLKit would log every query with its bindings (password hashes, sealed keys) at debug level: never.
        return Database(dialect: .sqlite, connections: opened.map { $0.sql(queryLogLevel: nil) }) {
            for connection in opened { try await connection.close() }
        }
    }

    public func close() async throws {
        try await closeConnections()
    }
}
