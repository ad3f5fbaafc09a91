import PostgresKit
import PostgresNIO

/// Validate's two batched statements on PostgreSQL (issue 19), prepared once on each connection.
/// PostgreSQL parses and plans an unnamed statement at every run: for a 10-name lookup that was
/// 0.54 of its 0.79 ms (pgbench, the same statement unnamed and prepared). The texts are fixed
/// whatever the batch (its names and claims go in as arrays), and each reaches every row through
/// its index whatever plan PostgreSQL keeps for them (test: `batchedStatementsReadOnlyTheRowsTheyName`).
/// A name's scalar subquery relies on its unique index (`users.email`, `users_external_id`): were
/// one dropped, a duplicate would fail the whole batch ("more than one row returned").
enum PostgresValidation {
    /// The accounts named by address or by a key's own id, each joined with its confirmed factors
    /// (a row per factor, or one with NULL factor columns), as `SQLiteValidation.lookup` reads
    /// them on SQLite. Each name is looked up on its own by a scalar subquery, and `OFFSET 0`
    /// keeps the planner from merging a lateral subquery into a join: given `email = ANY(…)` and
    /// `IN`, PostgreSQL read every user and every factor of a 10,000-user table for a batch of 64
    /// names (425 rows read a check; 2.1 ms against 0.6 ms this way).
    struct Lookup: PostgresPreparedStatement {
        static let sql = """
            SELECT \(SQLStore.joinedUserColumns), \(SQLStore.joinedFactorColumns) FROM (
                SELECT DISTINCT id FROM (
                    SELECT (SELECT id FROM users WHERE email = n.email) FROM unnest($1::text[]) AS n(email)
                    UNION ALL SELECT (SELECT id FROM users WHERE api_key_id = n.key_id AND external_id = n.external_id)
                    FROM unnest($2::bigint[], $3::text[]) AS n(key_id, external_id)
                ) AS named(id)
            ) AS m
            JOIN LATERAL (SELECT \(SQLStore.userColumns) FROM users WHERE id = m.id OFFSET 0) AS u ON true
            LEFT JOIN LATERAL (
                SELECT \(SQLStore.factorColumns) FROM factors WHERE user_id = u.id AND confirmed_at IS NOT NULL OFFSET 0
            ) AS f ON true
            """

        var emails: [String]
        var external: [(keyID: Int64, id: String)]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            try bindings.append(emails)
            try bindings.append(external.map(\.keyID))
            try bindings.append(external.map(\.id))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> any SQLRow { PostgresStatementRow(row) }
    }

    /// Step claims, each decided by its own conditional update (see `SQLStore.claimSteps`). Each
    /// budget is looked up on its own by a scalar subquery on the key's index: written `NOT EXISTS`,
    /// PostgreSQL read the whole of `throttles` (every address's tokens, every account's failures)
    /// into a hash for each batch, and the rows' lock order then hung on that join's plan. Here the
    /// `unnest`, sorted by factor id, drives a nested loop: rows are locked in that order.
    struct Claim: PostgresPreparedStatement {
        static let sql = """
            UPDATE factors f SET last_used_step = c.step
            FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS c(id, step, budget)
            WHERE f.id = c.id AND (f.last_used_step IS NULL OR f.last_used_step < c.step)
            AND (SELECT 1 FROM throttles t WHERE t.key = c.budget) IS NULL RETURNING f.id
            """

        var claims: [SQLStore.StepClaim]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            try bindings.append(claims.map(\.factorID))
            try bindings.append(claims.map(\.step))
            try bindings.append(claims.map(\.budgetKey))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
    }
}

/// A row of validate's lookup, read as PostgresKit reads one (`row.sql()`), but its integer and
/// text columns straight through PostgresNIO's decoders: PostgresKit's translation, for every
/// column, names a coding key and casts the type at run time, and with `decodeIfPresent` it was
/// 10 % of a valid check's CPU on PostgreSQL (issue 19). `SQLiteStatementRow` does the same on SQLite.
struct PostgresStatementRow: SQLRow {
    /// For what the models never ask of a lookup row (another type, a missing column): PostgresKit's way, and its error.
    private let row: PostgresRow
    private let columns: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row
        columns = row.makeRandomAccess()
    }

    var allColumns: [String] { columns.map(\.columnName) }

    func contains(column: String) -> Bool { columns.contains(column) }

    func decodeNil(column: String) throws -> Bool { !columns.contains(column) || columns[column].bytes == nil }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        if columns.contains(column) {
            let cell = columns[column]
            if D.self == Int64.self { return try cell.decode(Int64.self) as! D }
            if D.self == Int.self { return try cell.decode(Int.self) as! D }
            if D.self == String.self { return try cell.decode(String.self) as! D }
        }
        return try row.sql().decode(column: column, as: D.self)
    }
}
