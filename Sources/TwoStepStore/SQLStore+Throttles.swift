import SQLKit

extension SQLStore {
    public func throttleState(key: String) async throws -> String? {
        try await database.sql.raw("SELECT state FROM throttles WHERE key = \(bind: key)").first(decodingColumn: "state", as: String.self)
    }

    public func replaceThrottleState(key: String, expected: String?, new: String?, at time: UnixTime) async throws -> Bool {
        let writer = database.writer
        switch (expected, new) {
        case (nil, nil):
            return try await throttleState(key: key) == nil
        case (nil, let new?):
            // The first attempt of a budget: of concurrent first attempts, the primary key lets one insert.
            return try await writer.raw(
                "INSERT INTO throttles (key, state, updated_at) VALUES (\(bind: key), \(bind: new), \(bind: time)) ON CONFLICT (key) DO NOTHING RETURNING key"
            ).first() != nil
        case (let expected?, nil):
            return try await writer.raw("DELETE FROM throttles WHERE key = \(bind: key) AND state = \(bind: expected) RETURNING key").first() != nil
        case (let expected?, let new?):
            return try await writer.raw(
                """
                UPDATE throttles SET state = \(bind: new), updated_at = \(bind: time)
                WHERE key = \(bind: key) AND state = \(bind: expected) RETURNING key
                """
            ).first() != nil
        }
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
