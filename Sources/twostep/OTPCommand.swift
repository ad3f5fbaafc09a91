public import ArgumentParser
import Foundation
public import TwoStepCore

/// `twostep otp …`: compute and check codes, make keys, key URIs and QR codes, without a server.
struct OTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otp",
        abstract: "Work with one-time passwords: keys, codes, key URIs and QR codes.",
        subcommands: [Secret.self, Code.self, URI.self, QR.self, Verify.self]
    )
}

/// What identifies a key and how its codes are made.
struct KeyOptions: ParsableArguments {
    @Option(help: "The shared secret in base32 (spaces and case ignored).")
    var secret: String

    @Option(help: "The HMAC hash: sha1, sha256 or sha512.")
    var algorithm: OTPAlgorithm = .sha1

    @Option(help: "Digits per code, 6 to 8.")
    var digits: Int = 6

    @Option(help: "Seconds per time step.")
    var period: Int = 30

    func secretBytes() throws -> [UInt8] {
        try Base32.decode(secret)
    }

    func totp() throws -> TOTP {
        try TOTP(secret: secretBytes(), algorithm: algorithm, digits: digits, period: period)
    }
}

extension OTPAlgorithm: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }

    public static var allValueStrings: [String] { allCases.map { $0.rawValue.lowercased() } }
}

/// Reads `--time` (Unix seconds, default now) and refuses times before the epoch.
private func moment(_ time: Int64?) throws -> Date {
    guard let time else { return Date() }
    guard time >= 0 else { throw ValidationError("--time must be a Unix time of 0 or more, not \(time)") }
    return Date(timeIntervalSince1970: TimeInterval(time))
}

extension OTPCommand {
    struct Secret: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random secret in base32.")

        @Option(help: "Secret length in bytes (RFC 4226 asks for at least 16; 20 is usual).")
        var bytes: Int = 20

        func run() throws {
            guard (16...64).contains(bytes) else { throw ValidationError("--bytes must be 16 to 64, not \(bytes)") }
            print(Base32.encode(SecureRandom.bytes(bytes), padding: false))
        }
    }

    struct Code: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the code for a time (TOTP) or a counter (HOTP).")

        @OptionGroup var key: KeyOptions

        @Option(help: "Unix time in seconds (default: now).")
        var time: Int64?

        @Option(help: "An HOTP counter; computes an HOTP code instead of a TOTP code.")
        var counter: UInt64?

        func run() throws {
            if let counter {
                let hotp = try HOTP(secret: key.secretBytes(), algorithm: key.algorithm, digits: key.digits)
                print(hotp.code(counter: counter))
            } else {
                print(try key.totp().code(at: moment(time)))
            }
        }
    }

    struct URI: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an otpauth:// key URI for authenticator apps.")

        @OptionGroup var key: KeyOptions

        @Option(help: "The account name, usually an e-mail address.")
        var account: String

        @Option(help: "Who issues the key, shown by the app above the code.")
        var issuer: String

        @Option(help: "Make an HOTP URI starting at this counter.")
        var counter: UInt64?

        func run() throws {
            _ = try key.totp()  // the same checks as when the codes are used
            let uri = OTPKeyURI(
                kind: counter.map { .hotp(counter: $0) } ?? .totp(period: key.period),
                secret: try key.secretBytes(),
                account: account,
                issuer: issuer,
                algorithm: key.algorithm,
                digits: key.digits
            )
            print(uri)
        }
    }

    struct QR: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Draw text (e.g. a key URI) as a QR code in the terminal.")

        @Argument(help: "The text to encode.")
        var text: String

        @Option(help: "Also write the QR code as SVG to this file.")
        var svg: String?

        @Flag(help: "Draw for dark text on a light background.")
        var invert = false

        func run() throws {
            let code = try QRCode(text: text)
            if let svg {
                try Data(code.svg(title: "QR code").utf8).write(to: URL(fileURLWithPath: svg))
            }
            print(code.terminalText(invert: invert), terminator: "")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a TOTP code. Exits 0 when it is valid, 1 when it is not."
        )

        @OptionGroup var key: KeyOptions

        @Option(help: "The code to check.")
        var code: String

        @Option(help: "Unix time in seconds (default: now).")
        var time: Int64?

        @Option(help: "Steps accepted before and after the current one.")
        var window: Int = 1

        func run() throws {
            guard (0...TOTP.maximumWindow).contains(window) else {
                throw ValidationError("--window must be 0 to \(TOTP.maximumWindow), not \(window)")
            }
            switch try key.totp().verify(code, at: moment(time), window: window) {
            case .accepted(let step, let offset):
                print("valid (step \(step), offset \(offset))")
            case .rejected, .replayed:
                print("invalid")
                throw ExitCode(1)
            }
        }
    }
}
