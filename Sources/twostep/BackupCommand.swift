import ArgumentParser
import Foundation
import TwoStepServer
import TwoStepStore

/// `twostep backup FILE`: a consistent copy of the SQLite database, taken while the server runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database to a new file while the server runs (one consistent snapshot).",
        discussion: """
            The master key is not in the copy: back up <data dir>/master.key separately, and keep the two \
            apart (the key opens every sealed secret in the copy). For PostgreSQL use pg_dump.
            """
    )

    @Argument(help: "The new file.")
    var file: String

    @OptionGroup var data: DataOptions

    func run() async throws {
        print(try await withOperator(data) { try await $0.backup(to: file) })
    }
}

/// `twostep restore FILE`: puts a backup back, with the server stopped.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the SQLite database with a backup. Stop the server first; the replaced file is kept.",
        discussion: "The backup is checked before anything is replaced, and migrated to this version after."
    )

    @Argument(help: "A file made by twostep backup.")
    var file: String

    @OptionGroup var data: DataOptions

    func run() async throws {
        var configuration = ServerConfiguration()
        try data.apply(to: &configuration)
        let lock = try DatabaseLock.restoring(configuration)
        let path = DatabaseLock.sqlitePath(configuration)!
        let kept = try await Database.restore(from: file, to: path)
        let line = try await withOperator(data) { try await $0.recordRestore(from: file, kept: kept) }
        withExtendedLifetime(lock) {}
        print(line)
    }
}
