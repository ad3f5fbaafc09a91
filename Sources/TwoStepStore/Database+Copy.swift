import SQLKit

extension Database {
    /// One table's rows, as copied.
    public struct CopiedTable: Sendable, Equatable {
        public var name: String
        public var rows: Int
    }

    /// Copies every table of an SQLite database into a PostgreSQL one (moving to several
    /// instances): users, factors, sealed secrets as they are (the same master key opens them),
    /// recovery codes, devices, sessions, SMS records, events, API keys, and whatever tables later
    /// migrations add. Both are migrated first, so their schemas match.
    ///
    /// Everything happens in one PostgreSQL transaction, reading one SQLite snapshot (a write
    /// transaction, so the server must not be writing; stop it first): the row counts of every
    /// table are compared before the commit, and on any difference nothing is kept.
    /// - Parameter replace: Empty a target that already holds rows instead of refusing.
    /// - Returns: Each table with the rows copied, in copying order (parents before children).
    public static func copy(from source: Database, to target: Database, replace: Bool) async throws -> [CopiedTable] {
        guard source.dialect == .sqlite, target.dialect == .postgres else {
            throw DatabaseError.badURL("copy goes from sqlite:PATH to postgres://…")
        }
        try await source.migrate()
        try await target.migrate()
        return try await source.transaction { from in
            let tables = try await sqliteTablesInCopyOrder(from)
            return try await target.transaction { to in
                var nonEmpty: [String] = []
                for table in tables {
                    if try await count(table, to) > 0 { nonEmpty.append(table) }
                }
                if !nonEmpty.isEmpty {
                    guard replace else {
                        throw DatabaseError.notEmpty(
                            "the target already holds rows (\(nonEmpty.joined(separator: ", "))): copy into an empty database, or pass --force to replace them"
                        )
                    }
                    try await to.raw("TRUNCATE \(unsafeRaw: tables.joined(separator: ", ")) RESTART IDENTITY CASCADE").run()
                }
                var copied: [CopiedTable] = []
                for table in tables {
                    let rows = try await copyTable(table, from: from, to: to)
                    let expected = try await count(table, from)
                    let found = try await count(table, to)
                    guard rows == expected, found == expected else {
                        throw DatabaseError.mismatch("\(table): \(expected) rows in the source, \(found) in the target; nothing was kept")
                    }
                    copied.append(CopiedTable(name: table, rows: found))
                }
                return copied
            }
        }
    }

    private static func count(_ table: String, _ sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// The source's tables (not the migration log), each after the tables its foreign keys name.
    private static func sqliteTablesInCopyOrder(_ sql: any SQLDatabase) async throws -> [String] {
        let names = try await sql.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name"
        ).all(decodingColumn: "name", as: String.self)
        var parents: [String: Set<String>] = [:]
        for name in names {
            let referenced = try await sql.raw("SELECT \"table\" AS parent FROM pragma_foreign_key_list(\(bind: name))")
                .all(decodingColumn: "parent", as: String.self)
            parents[name] = Set(referenced).subtracting([name])
        }
        var ordered: [String] = []
        while ordered.count < names.count {
            let ready = names.filter { !ordered.contains($0) && parents[$0, default: []].isSubset(of: Set(ordered)) }
            guard !ready.isEmpty else { throw DatabaseError.mismatch("the source's foreign keys form a cycle") }
            ordered += ready
        }
        return ordered
    }

    /// Copies one table in pages of rows, each page one multi-row INSERT; then moves the identity
    /// sequence past the largest id, so rows the server adds later do not collide with copied ones.
    private static func copyTable(_ table: String, from: any SQLDatabase, to: any SQLDatabase) async throws -> Int {
        let columns = try await to.raw(
            """
            SELECT column_name, data_type, is_identity FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(bind: table) ORDER BY ordinal_position
            """
        ).all()
        let types = try columns.map { (try $0.decode(column: "column_name", as: String.self), try $0.decode(column: "data_type", as: String.self)) }
        guard !types.isEmpty else { throw DatabaseError.mismatch("the target has no table \(table)") }
        let names = types.map(\.0).joined(separator: ", ")
        // PostgreSQL takes at most 65,535 bound values in one statement.
        let pageSize = max(1, min(1_000, 60_000 / types.count))
        var copied = 0
        var lastRowID: Int64 = 0
        while true {
            let rows = try await from.raw(
                "SELECT rowid AS copy_rowid, \(unsafeRaw: names) FROM \(unsafeRaw: table) WHERE rowid > \(bind: lastRowID) ORDER BY rowid LIMIT \(bind: pageSize)"
            ).all()
            guard let last = rows.last else { break }
            lastRowID = try last.decode(column: "copy_rowid", as: Int64.self)
            let values = try rows.map { row -> SQLQueryString in
                let binds = try types.map { name, type -> SQLQueryString in
                    if try row.decodeNil(column: name) { return "NULL" }
                    return switch type {
                    case "bigint", "integer", "smallint": "\(bind: try row.decode(column: name, as: Int64.self))"
                    case "boolean": "\(bind: try row.decode(column: name, as: Bool.self))"
                    case "double precision", "real", "numeric": "\(bind: try row.decode(column: name, as: Double.self))"
                    case "bytea": "\(bind: try row.decode(column: name, as: [UInt8].self))"
                    default: "\(bind: try row.decode(column: name, as: String.self))"
                    }
                }
                return "(\(binds.joined(separator: ", ")))"
            }
            try await to.raw("INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: names)) VALUES \(values.joined(separator: ", "))").run()
            copied += rows.count
        }
        for column in columns where try column.decode(column: "is_identity", as: String.self) == "YES" {
            let name = try column.decode(column: "column_name", as: String.self)
            try await to.raw(
                """
                SELECT setval(pg_get_serial_sequence(\(bind: table), \(bind: name)), COALESCE(MAX(\(unsafeRaw: name)), 0) + 1, false)
                FROM \(unsafeRaw: table)
                """
            ).run()
        }
        return copied
    }
}
