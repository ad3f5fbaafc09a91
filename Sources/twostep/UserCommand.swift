import ArgumentParser
import Foundation
import TwoStepServer
import TwoStepStore

/// `twostep user …`: the operator's account tools.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add and list accounts, unlock them, reset a lost second factor, and give help-desk roles.",
        subcommands: [Add.self, Import.self, List.self, Unlock.self, ResetTwoFactor.self, Grant.self, Revoke.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account. The password is read from standard input.")

        @Option(help: "The account's e-mail address.")
        var email: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            // Never a flag: it would land in shell history and in `ps` output.
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw ValidationError("give the password on standard input, e.g. printf '%s' \"$PASSWORD\" | twostep user add --email …")
            }
            let line = try await withOperator(data) { try await $0.addUser(email: email, password: password) }
            print(line)
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add users with the authenticator-app keys they already have.",
            discussion: """
                One user per line: email,base32-secret[,algorithm,digits,period], e.g.
                ann@example.com,JBSWY3DPEHPK3PXP,sha1,6,30. Lines starting with # are skipped.
                Addresses that already have an account are skipped, so a file can be run again.
                """
        )

        @Argument(help: "The file, or - for standard input.")
        var file: String

        @OptionGroup var data: DataOptions

        func run() async throws {
            let text: String
            if file == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                text = String(decoding: data, as: UTF8.self)
            }
            print(try await withOperator(data) { try await $0.importUsers(csv: text) })
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts with their two-factor state.")

        @OptionGroup var data: DataOptions

        func run() async throws {
            let lines = try await withOperator(data) { try await $0.listUsers() }
            print(lines.joined(separator: "\n"))
        }
    }

    /// Who runs an operator command, for the account's security activity.
    struct OperatorName: ParsableArguments {
        @Option(name: .customLong("operator"), help: "Your name for the account's security activity (default: the login name).")
        var name: String?

        var resolved: String { operatorLogin(name) }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear an account's waits and locks after too many wrong codes or passwords. Its factors stay.",
            discussion: """
                The answer to a locked-out account: the person still needs their password and a
                second factor. Use reset-2fa only when they have lost every second factor.
                """
        )

        @Option(help: "The account's e-mail address.")
        var email: String

        @OptionGroup var by: OperatorName
        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data, operator: by.resolved) { try await $0.unlock(email: email, actor: by.resolved) })
        }
    }

    struct ResetTwoFactor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-2fa",
            abstract: "Remove an account's second factors (lost phone): ends its sessions; the next sign-in must set up a method.",
            discussion: "For a lockout, use unlock: it keeps the factors, so a password alone still does not sign in."
        )

        @Option(help: "The account's e-mail address.")
        var email: String

        @OptionGroup var by: OperatorName
        @OptionGroup var data: DataOptions

        func run() async throws {
            let line = try await withOperator(data, operator: by.resolved) { try await $0.resetTwoFactor(email: email, actor: by.resolved) }
            print(line)
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an account a help-desk role: support or admin (the console at /admin).",
            discussion: """
                support looks accounts up, unlocks them, signs them out, revokes trusted devices and
                resets lost second factors; admin can also change roles and read the audit trail.
                The account must have two-factor authentication on to use the console.
                """
        )

        @Option(help: "support or admin.")
        var role: String

        @Argument(help: "The account's e-mail address.")
        var email: String

        @OptionGroup var by: OperatorName
        @OptionGroup var data: DataOptions

        func validate() throws {
            guard ["support", "admin"].contains(role) else { throw ValidationError("--role is support or admin") }
        }

        func run() async throws {
            print(try await withOperator(data, operator: by.resolved) { try await $0.grantRole(role, email: email, actor: by.resolved) })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an account's help-desk role away; it stays an ordinary account.")

        @Argument(help: "The account's e-mail address.")
        var email: String

        @OptionGroup var by: OperatorName
        @OptionGroup var data: DataOptions

        func run() async throws {
            print(try await withOperator(data, operator: by.resolved) { try await $0.revokeRole(email: email, actor: by.resolved) })
        }
    }
}
