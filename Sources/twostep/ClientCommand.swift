import ArgumentParser
import TwoStepServer

/// `twostep client add|list|remove`: OpenID Connect relying parties (issue 14).
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Register the applications that sign their users in with TwoStep (OpenID Connect).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a client; prints its id and (once) its secret.")

        @Option(help: "A name for the application (letters, digits, . _ -).")
        var name: String

        @Option(name: .customLong("redirect-uri"), help: "Where TwoStep may send the browser back with a code; repeat for more. Matched exactly.")
        var redirectURIs: [String] = []

        @Option(name: .customLong("post-logout-uri"), help: "Where TwoStep may send the browser after signing out; repeat for more.")
        var postLogoutURIs: [String] = []

        @Flag(name: .customLong("public"), help: "A client that cannot keep a secret (single-page or mobile app): PKCE is required.")
        var isPublic = false

        @Flag(help: "Every sign-in for this client needs a second factor; accounts without one set one up first.")
        var requireTwoFactors = false

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(
                try await withOperator(data) {
                    try await $0.addClient(
                        name: name,
                        redirectURIs: redirectURIs,
                        postLogoutRedirectURIs: postLogoutURIs,
                        isPublic: isPublic,
                        twoFactorsRequired: requireTwoFactors
                    )
                }
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered clients.")

        @OptionGroup var data: DataOptions

        func run() async throws {
            for line in try await withOperator(data, { try await $0.listClients() }) { print(line) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a client; its codes and tokens stop working.")

        @Option(help: "The client's name.")
        var name: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data) { try await $0.removeClient(name: name) })
        }
    }
}
