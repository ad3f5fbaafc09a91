import SQLiteNIO

/// Validate's two statements on SQLite (issue 19), as fixed texts run on `SQLiteWorker` without
/// SQLKit: building a query, serialising it and encoding each binding through `Encodable` at
/// every check cost more than SQLite's own work on the statement. Each text is prepared once per
/// connection (`SQLiteWorker`); the common shapes are built once per process.
enum SQLiteValidation {
    /// The accounts named by address or by a key's own id, each joined with its confirmed factors
    /// (a row per factor, or one with NULL factor columns, in no order: the caller sorts), as
    /// `PostgresValidation.Lookup` reads them on PostgreSQL. One address alone, or one key's own id
    /// alone, is searched straight in its index. Two names and more go in as ids in one `IN (…)` of
    /// a `UNION ALL`, which SQLite gathers in an ephemeral table at every run. Validate's usual name,
    /// an address that is also a valid own id, is looked up both ways, so it takes that form: in the
    /// forms tried without the ephemeral table, SQLite 3.54 re-prepared the statement at every
    /// lookup, because its planner read the bound names (`sqlite3Reprepare`, 14 % of a valid check's
    /// CPU; Benchmarks/README.md, stop 35). Those were the two searches joined under a `UNION ALL`,
    /// the second leaving out the account the first found, and the names in an `OR` beside the join.
    static func lookup(emails: [String], external: [(keyID: Int64, id: String)]) -> (sql: String, binds: [SQLiteData]) {
        let sql =
            switch (emails.count, external.count) {
            case (1, 0): byEmail
            case (0, 1): byExternalID
            case (1, 1): byBoth
            // Validate names one account at most each way; any other shape is built when asked.
            default: lookupText(emails: emails.count, external: external.count)
            }
        return (sql, emails.map { .text($0) } + external.flatMap { [.integer(Int($0.keyID)), .text($0.id)] })
    }

    private static let byEmail = lookupText(emails: 1, external: 0)
    private static let byExternalID = lookupText(emails: 0, external: 1)
    private static let byBoth = lookupText(emails: 1, external: 1)

    private static func lookupText(emails: Int, external: Int) -> String {
        let select = """
            SELECT \(SQLStore.joinedUserColumns), \(SQLStore.joinedFactorColumns) FROM users u
            LEFT JOIN factors f ON f.user_id = u.id AND f.confirmed_at IS NOT NULL
            """
        return switch (emails, external) {
        case (1, 0): "\(select) WHERE u.email = ?"
        case (0, 1): "\(select) WHERE u.api_key_id = ? AND u.external_id = ?"
        default: "\(select) WHERE u.id IN (\(idBranches(emails: emails, external: external)))"
        }
    }

    private static func idBranches(emails: Int, external: Int) -> String {
        var branches: [String] = []
        if emails > 0 {
            branches.append("SELECT id FROM users WHERE email IN (" + repeatElement("?", count: emails).joined(separator: ", ") + ")")
        }
        branches += repeatElement("SELECT id FROM users WHERE api_key_id = ? AND external_id = ?", count: external)
        return branches.joined(separator: " UNION ALL ")
    }

    /// The replay guard of validate's fast path (`SQLStore.claimStep(_:factorID:unlessBudgetHasRow:)`).
    static func claim(_ claim: SQLStore.StepClaim) -> (sql: String, binds: [SQLiteData]) {
        (claimText, [.integer(Int(claim.step)), .integer(Int(claim.factorID)), .text(claim.budgetKey)])
    }

    private static let claimText = """
        UPDATE factors SET last_used_step = ?1
        WHERE id = ?2 AND (last_used_step IS NULL OR last_used_step < ?1)
        AND NOT EXISTS (SELECT 1 FROM throttles WHERE key = ?3) RETURNING id
        """
}
