import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#else
    import Darwin
#endif

/// An advisory lock on `<database>.lock` beside an SQLite database: `serve` holds it shared for its
/// whole life, `restore` needs it exclusive, so a backup is never put under a running server (its
/// open connections would go on writing into the replaced file). The kernel drops the lock when the
/// process ends, however it ends, so a crash never leaves it stuck.
public final class DatabaseLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// The SQLite file the configuration names, or `nil` for PostgreSQL.
    public static func sqlitePath(_ configuration: ServerConfiguration) -> String? {
        let url = configuration.resolvedDatabaseURL
        guard url.hasPrefix("sqlite:"), url != "sqlite::memory:" else { return nil }
        return String(url.dropFirst("sqlite:".count))
    }

    /// `serve`'s lock; `nil` for PostgreSQL. - Throws: while a restore holds it.
    public static func serving(_ configuration: ServerConfiguration) throws -> DatabaseLock? {
        guard let path = sqlitePath(configuration) else { return nil }
        return try take(path, LOCK_SH, busy: "a restore is running on \(path): wait for it to finish")
    }

    /// `restore`'s lock. - Throws: while a server runs on the database.
    public static func restoring(_ configuration: ServerConfiguration) throws -> DatabaseLock {
        guard let path = sqlitePath(configuration) else {
            throw OperatorError("twostep restore puts back SQLite databases; for PostgreSQL use pg_restore or psql")
        }
        return try take(path, LOCK_EX, busy: "a server is running on \(path): stop it first (restore replaces the file under it)")
    }

    private static func take(_ path: String, _ operation: Int32, busy: String) throws -> DatabaseLock {
        let lockPath = path + ".lock"
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: lockPath).deletingLastPathComponent().path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw OperatorError("cannot open \(lockPath)") }
        guard flock(descriptor, operation | LOCK_NB) == 0 else {
            close(descriptor)
            throw OperatorError(busy)
        }
        return DatabaseLock(descriptor: descriptor)
    }
}
