import ArgumentParser
import TwoStepServer

/// `twostep apikey …`: keys for the relying services that call the service API.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke API keys for relying services.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key and print it. It is shown this once: store it in the service's secrets."
        )

        @Option(help: "A name for the service that will use the key, e.g. vpn-gateway.")
        var name: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data) { try await $0.createAPIKey(name: name) })
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
