import Foundation
import TwoStepCore
import TwoStepStore

/// What `twostep serve` checks and says once as it starts: an operator reading the first lines of
/// the log learns where it listens, which database and SMS gateway it uses and whether development
/// settings are on, and is warned about files other users can read. (A master-key file readable by
/// others is refused outright by `MasterKeyFile.load`: that key opens every sealed secret.)
public enum StartupReport {
    /// Problems worth a warning that do not stop the server.
    public static func warnings(_ configuration: ServerConfiguration) -> [String] {
        var warnings: [String] = []
        let folder = configuration.dataDirectory
        if let mode = (try? FileManager.default.attributesOfItem(atPath: folder))?[.posixPermissions] as? Int, mode & 0o005 != 0 {
            // Other users could list the folder and open whatever a mistake left readable in it
            // (a copied backup, an outbox file with texted codes).
            warnings.append("the data folder \(folder) is open to other users (mode \(String(mode & 0o777, radix: 8))); run chmod 700 on it")
        }
        if configuration.insecureCookies { warnings.append("--insecure-cookies is on: cookies go without Secure; development only") }
        if configuration.devOutbox { warnings.append("--dev-outbox is on: texted codes are shown at /dev/outbox; development only") }
        if configuration.rpIDIsAnAddress {
            warnings.append(
                "the WebAuthn RP ID \(configuration.resolvedRPID) is an IP address, which browsers refuse: security keys and passkeys need --rp-id (or --public-url) with a domain"
            )
        }
        return warnings
    }

    /// The one line printed once the server listens. Never the database password.
    /// - Parameter port: The port actually bound (the configured one may be 0).
    public static func banner(_ configuration: ServerConfiguration, port: Int) -> String {
        let development = [configuration.insecureCookies ? "insecure cookies" : nil, configuration.devOutbox ? "dev outbox" : nil].compactMap { $0 }
        let devMode = development.isEmpty ? "off" : "on (" + development.joined(separator: ", ") + ")"
        return "TwoStep listening on http://\(configuration.host):\(port)/; database: "
            + Database.describe(url: configuration.resolvedDatabaseURL) + "; " + webAuthn(configuration, port: port) + "; SMS gateway: "
            + gatewayName(configuration) + "; 2FA: " + policy(configuration.twoFactorPolicy) + "; dev mode: " + devMode
    }

    /// Where security keys and passkeys work (issue 17): a key registered under one RP ID never works
    /// under another, so an operator must see which one is in use.
    static func webAuthn(_ configuration: ServerConfiguration, port: Int) -> String {
        "WebAuthn RP ID: \(configuration.resolvedRPID), origins: " + configuration.resolvedOrigins(port: port).joined(separator: " ")
    }

    /// The 2FA policy (issue 18) as the operator set it: `required for domains:example.com, 7 days' grace, methods app, key`.
    static func policy(_ policy: TwoFactorPolicy) -> String {
        let methods = "methods " + policy.allowedMethods.sorted().map(\.rawValue).joined(separator: ", ")
        guard policy.requirement != .none else { return "optional, " + methods }
        let grace = policy.graceDays == 0 ? "no grace" : policy.graceDays == 1 ? "1 day's grace" : "\(policy.graceDays) days' grace"
        return "required for \(policy.requirement.description), \(grace), \(methods)"
    }

    static func gatewayName(_ configuration: ServerConfiguration) -> String {
        switch configuration.smsGateway {
        case nil: "outbox (\(configuration.outboxPath))"
        case is TwilioGateway: "twilio"
        case is WebhookGateway: "webhook"
        case let other?: String(describing: type(of: other))
        }
    }
}
