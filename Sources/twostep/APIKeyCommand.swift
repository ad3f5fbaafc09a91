import ArgumentParser
import TwoStepServer

/// `twostep apikey …`: keys for the relying services that call the service API.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list, revoke and link API keys for relying services.",
        subcommands: [Create.self, List.self, Revoke.self, Link.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key and print it. It is shown this once: store it in the service's secrets."
        )

        @Option(help: "A name for the service that will use the key, e.g. vpn-gateway.")
        var name: String

        /// Repeatable as well as comma-separated: a single-value option would keep only the last
        /// of several, a key with fewer scopes than its operator asked for.
        @Option(
            help:
                "What the key may do: validate, users, enrol, recovery-codes, audit; repeat it or separate by commas (default: all but audit)."
        )
        var scope: [String] = []

        @Option(help: "Which accounts it may act on: own (those it provisions or is linked to) or all (default: own).")
        var reach: String?

        @OptionGroup var data: DataOptions

        func run() async throws {
            let scopes = scope.isEmpty ? nil : scope.joined(separator: ",")
            print(try await withOperator(data) { try await $0.createAPIKey(name: name, scopes: scopes, reach: reach) })
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a key with reach 'own' act on an existing account (check who holds the address first)."
        )

        @Option(help: "The key's name.")
        var name: String

        @Option(help: "The account's e-mail address.")
        var user: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data) { try await $0.linkAPIKey(name: name, email: user) })
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys by name (never the keys themselves).")

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data) { try await $0.listAPIKeys() }.joined(separator: "\n"))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")

        @Argument(help: "The key's name.")
        var name: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data) { try await $0.revokeAPIKey(name: name) })
        }
    }
}
