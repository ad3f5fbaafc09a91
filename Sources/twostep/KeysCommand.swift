import ArgumentParser
import TwoStepServer

/// `twostep keys rotate`: a new master key, and every sealed secret re-sealed with it.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the master keys that seal secrets at rest.",
        subcommands: [Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new master key and re-seal every secret with it. Stop the servers first."
        )

        @Flag(help: "Remove the old keys from the key file once every secret is re-sealed.")
        var dropRetired = false

        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data) { try await $0.rotateKeys(dropRetired: dropRetired) })
        }
    }
}
