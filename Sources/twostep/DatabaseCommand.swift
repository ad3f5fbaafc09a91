import ArgumentParser
import Foundation
import TwoStepStore

/// `twostep db …`: moving data between databases.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Move data between databases.",
        subcommands: [Copy.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every table from SQLite into PostgreSQL, in one transaction, checking row counts.",
            discussion: """
                Stop the server first. Sealed secrets are copied as they are: every instance on the new \
                database needs the same master key file as the old server. Both databases are migrated \
                to the current schema first. The target must be empty unless --force is given.
                """
        )

        @Option(help: "The SQLite database, sqlite:PATH.")
        var from: String

        @Option(help: "The PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DATABASE (or TWOSTEP_DATABASE).")
        var to: String?

        @Flag(help: "Replace the rows a non-empty target already holds.")
        var force = false

        func run() async throws {
            guard let target = to ?? environment("DATABASE") else { throw ValidationError("--to (or TWOSTEP_DATABASE) is required") }
            let logger = try DataOptions().logger()
            let source = try await Database.open(url: from, logger: logger)
            let destination: Database
            do {
                destination = try await Database.open(url: target, logger: logger)
            } catch {
                try? await source.close()
                throw error
            }
            do {
                let tables = try await Database.copy(from: source, to: destination, replace: force)
                for table in tables { print("\(table.name): \(table.rows) rows") }
                print("Copied \(tables.reduce(0) { $0 + $1.rows }) rows in \(tables.count) tables; the counts match.")
            } catch {
                try? await source.close()
                try? await destination.close()
                throw error
            }
            try await source.close()
            try await destination.close()
        }
    }
}
