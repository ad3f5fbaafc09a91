import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

@main
struct TwoStepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twostep",
        abstract: "A self-hosted two-factor authentication server and toolkit.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, UserCommand.self, APIKeyCommand.self, KeysCommand.self, OTPCommand.self, DatabaseCommand.self,
            ClientCommand.self,
            AuditCommand.self, BackupCommand.self, RestoreCommand.self,
        ]
    )

    /// Runs the command. A mistake in the input (a bad flag, bad base32, 12 digits) ends with one
    /// line on stderr and exit status 2 — never a usage dump or a stack trace; `--help` and a
    /// command's own exit status (`otp verify` exits 1 for a wrong code) pass through unchanged.
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "serve" {
            // Swift's tasks then run on the server's event loops (SwiftNIO's supported take-over):
            // a request no longer moves between NIO's threads and the concurrency pool's at each
            // step (issue 19).
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            let line = message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "failed"
            FileHandle.standardError.write(Data("twostep: \(line)\n".utf8))
            Foundation.exit(2)
        }
    }
}
