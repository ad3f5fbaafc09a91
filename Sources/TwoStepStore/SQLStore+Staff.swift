import Foundation
import SQLKit

extension SQLStore {
    public func setRole(_ role: AccountRole, userID: Int64) async throws {
        try await database.writer.raw("UPDATE users SET role = \(bind: role.rawValue) WHERE id = \(bind: userID)").run()
    }

    public func users(addressContaining text: String, limit: Int) async throws -> [User] {
        // The text is a bound value, never SQL; only LIKE's own wildcards need escaping, the same
        // way on SQLite and PostgreSQL (an explicit ESCAPE character).
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return try await database.sql.raw(
            """
            SELECT \(unsafeRaw: Self.userColumns) FROM users WHERE email LIKE \(bind: "%" + escaped + "%") ESCAPE '\\'
            ORDER BY email LIMIT \(bind: limit)
            """
        ).all().map(User.init(row:))
    }

    public func sessions(userID: Int64) async throws -> [Session] {
        try await database.sql.raw(
            "SELECT \(unsafeRaw: Self.sessionColumns) FROM sessions WHERE user_id = \(bind: userID) ORDER BY created_at DESC LIMIT 100"
        ).all(decoding: Session.self)
    }
}
