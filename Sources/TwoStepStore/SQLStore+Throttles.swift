import SQLKit
import SQLiteNIO

extension SQLStore {
    // Every reserved attempt (a wrong code's, above all) runs one of these: fixed texts (`Database.rows(fixed:)`).
    private static let readState = "SELECT state FROM throttles WHERE key = $1"
    /// The first attempt of a budget: of concurrent first attempts, the primary key lets one insert.
    private static let insertState = "INSERT INTO throttles (key, state, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING key"
    private static let deleteState = "DELETE FROM throttles WHERE key = $1 AND state = $2 RETURNING key"
    private static let replaceState = "UPDATE throttles SET state = $1, updated_at = $2 WHERE key = $3 AND state = $4 RETURNING key"

    public func throttleState(key: String) async throws -> String? {
        try await database.rows(fixed: Self.readState, [.text(key)], writing: false).first?.decode(column: "state", as: String.self)
    }

    public func replaceThrottleState(key: String, expected: String?, new: String?, at time: UnixTime) async throws -> Bool {
        let sql: String
        let binds: [SQLiteData]
        switch (expected, new) {
        case (nil, nil): return try await throttleState(key: key) == nil
        case (nil, let new?): (sql, binds) = (Self.insertState, [.text(key), .text(new), .integer(Int(time))])
        case (let expected?, nil): (sql, binds) = (Self.deleteState, [.text(key), .text(expected)])
        case (let expected?, let new?): (sql, binds) = (Self.replaceState, [.text(new), .integer(Int(time)), .text(key), .text(expected)])
        }
        return try await !database.rows(fixed: sql, binds, writing: true).isEmpty
    }

    public func deleteThrottles(keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        let placeholders = keys.map { key -> SQLQueryString in "\(bind: key)" }
        try await database.writer.raw("DELETE FROM throttles WHERE key IN (\(placeholders.joined(separator: ", ")))").run()
    }

    public func deleteThrottles(prefix: String, updatedBefore time: UnixTime) async throws {
        // The CAST: PostgreSQL has no substr(text, integer, bigint), and a bound Int is a bigint there.
        try await database.writer.raw(
            "DELETE FROM throttles WHERE substr(key, 1, CAST(\(bind: prefix.count) AS INTEGER)) = \(bind: prefix) AND updated_at < \(bind: time)"
        ).run()
    }
}
