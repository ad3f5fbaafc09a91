import Foundation
import Logging
import SQLKit
public import TwoStepStore

/// Which database the store and server tests run on (one copy for both test targets). SQLite always; PostgreSQL when the environment names a
/// server, as postgres-nio's integration tests do:
/// - `TWOSTEP_TEST_POSTGRES_URL`: a server the tests may create schemas on (`.ci/postgres` starts
///   one). Unset: the PostgreSQL-only tests are skipped.
/// - `TWOSTEP_TEST_DATABASE=postgres`: every store and server test runs on PostgreSQL instead of SQLite
///   (CI runs the suites once each way).
public enum TestDatabase {
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["TWOSTEP_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var usePostgres: Bool {
        ProcessInfo.processInfo.environment["TWOSTEP_TEST_DATABASE"] == "postgres" && postgresURL != nil
    }

    /// A URL for a schema of its own, so tests running at once never see each other's rows.
    public static func freshPostgresURL() async throws -> String {
        guard let base = postgresURL else { throw TestDatabaseError.noPostgres }
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try await Database.open(url: base, poolSize: 1, logger: Logger(label: "test"))
        do {
            try await admin.writer.raw("CREATE SCHEMA \(unsafeRaw: schema)").run()
        } catch {
            try? await admin.close()
            throw error
        }
        try await admin.close()
        return base + (base.contains("?") ? "&" : "?") + "search_path=" + schema
    }

    /// Runs `body` with a migrated SQLite database in a directory of its own, removed afterwards: for
    /// the tests of the file itself (its log, its locks), which close the database themselves.
    public static func withSQLiteFile(_ body: (_ path: String, _ database: Database) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.sqlite").path
        let database = try await Database.open(url: "sqlite:" + path, logger: Logger(label: "test"))
        try await database.migrate()
        try await body(path, database)
    }

    /// A database URL for a test: a fresh PostgreSQL schema, or the SQLite file `path`.
    public static func url(sqlitePath path: String) async throws -> String {
        usePostgres ? try await freshPostgresURL() : "sqlite:" + path
    }
}

public enum TestDatabaseError: Error { case noPostgres }
