import ArgumentParser
import TwoStepServer

/// `twostep audit …`: who did what, from where, and how it ended (issue 16).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the audit trail: every security event and operator action, newest first.",
        subcommands: [List.self, Prune.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Print events, newest first (the default).")

        @Option(help: "Only this account's events (its e-mail address).")
        var user: String?

        @Option(help: "Only events this recent: 30m, 24h, 7d (default: all).")
        var since: String?

        @Option(help: "At most this many events (default: 100, at most 500).")
        var limit = 100

        @Flag(help: "One JSON object per line instead of a table.")
        var json = false

        @OptionGroup var data: DataOptions

        func run() async throws {
            let age = try since.map { text in
                guard let seconds = Age.seconds(text) else { throw ValidationError("--since takes an age such as 30m, 24h or 7d, not '\(text)'") }
                return seconds
            }
            guard (1...500).contains(limit) else { throw ValidationError("--limit must be 1 to 500") }
            let lines = try await withOperator(data) { try await $0.auditTrail(email: user, since: age, limit: limit, json: json) }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete events older than an age, e.g. --older-than 400d (the accounts' activity lists lose them too)."
        )

        @Option(help: "Delete events older than this: 400d, 52w.")
        var olderThan: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            // Fewer than 30 days would empty the activity lists people check after an incident.
            guard let seconds = Age.seconds(olderThan), seconds >= 30 * 86_400 else {
                throw ValidationError("--older-than takes an age of at least 30d, such as 400d")
            }
            print(try await withOperator(data) { try await $0.pruneAuditTrail(olderThan: seconds) })
        }
    }
}
