import Foundation
import Logging
import SQLKit
import SQLiteKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#else
    import Darwin
#endif

extension Database {
    /// Copies a running SQLite database to `path` with `VACUUM INTO`: one read transaction, so the
    /// copy is one consistent snapshot while the server goes on writing (WAL: the reader never
    /// blocks the writer), compacted, with no `-wal` file to forget. The copy is made 0600 (it
    /// holds password hashes and sealed secrets) and checked with `PRAGMA integrity_check`.
    /// - Returns: The accounts in the copy.
    public func backup(to path: String) async throws -> Int {
        guard dialect == .sqlite else { throw DatabaseError.badURL("twostep backup copies SQLite databases; for PostgreSQL use pg_dump") }
        let files = FileManager.default
        guard !files.fileExists(atPath: path) else { throw BackupError("\(path) exists already: choose a new file name") }
        // VACUUM INTO writes into an empty file as it is, keeping its mode.
        guard files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw BackupError("cannot create \(path)")
        }
        do {
            try await sql.raw("VACUUM INTO \(bind: path)").run()
            return try await Self.check(path)
        } catch {
            try? files.removeItem(atPath: path)
            throw error
        }
    }

    /// Opens an SQLite file read-only on its own and checks it is a whole TwoStep database.
    /// - Returns: Its number of accounts.
    @discardableResult
    static func check(_ path: String) async throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { throw BackupError("\(path) does not exist") }
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "twostep.backup"))
        let copy = connection.sql(queryLogLevel: nil)
        do {
            let integrity = try await copy.raw("PRAGMA integrity_check").all().compactMap {
                try? $0.decode(column: "integrity_check", as: String.self)
            }
            guard integrity == ["ok"] else { throw BackupError("\(path) failed its integrity check: \(integrity.prefix(3).joined(separator: "; "))") }
            let users = try await copy.raw("SELECT COUNT(*) AS n FROM users").first(decodingColumn: "n", as: Int.self) ?? 0
            _ = try await copy.raw("SELECT MAX(version) AS v FROM schema_migrations").first()
            try await connection.close()
            return users
        } catch {
            try? await connection.close()
            if error is BackupError { throw error }
            throw BackupError("\(path) is not a TwoStep database (\(String(describing: error).prefix(120)))")
        }
    }

    /// Puts a backup in place of the SQLite database at `path`, with the server stopped: the
    /// backup is checked first, copied next to the database, and renamed over it in one step; the
    /// database it replaces is kept beside it, renamed, and its `-wal` and `-shm` files removed
    /// (they belong to the old file and would corrupt the new one).
    /// - Returns: Where the replaced database was kept, if there was one.
    public static func restore(from backup: String, to path: String) async throws -> String? {
        try await check(backup)
        let files = FileManager.default
        let staging = path + ".restoring"
        try? files.removeItem(atPath: staging)
        try files.copyItem(atPath: backup, toPath: staging)
        try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: staging)
        var kept: String?
        if files.fileExists(atPath: path) {
            let stamp = Int(Date().timeIntervalSince1970)
            kept = "\(path).before-restore-\(stamp)"
            try files.moveItem(atPath: path, toPath: kept!)
            // The old log is moved with its database, so the kept copy is whole.
            for suffix in ["-wal", "-shm"] where files.fileExists(atPath: path + suffix) {
                try files.moveItem(atPath: path + suffix, toPath: kept! + suffix)
            }
        }
        guard rename(staging, path) == 0 else { throw BackupError("cannot move the restored database into \(path)") }
        return kept
    }
}

/// Why a backup or restore stopped: one line an operator can act on.
public struct BackupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
