import Foundation
public import TwoStepCore
public import TwoStepStore

/// Everything `twostep serve` can be told. Each field has a flag and a `TWOSTEP_…` variable.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Holds the SQLite database and the master key file unless told otherwise.
    public var dataDirectory = "./twostep-data"
    /// `sqlite:PATH` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`; by default `sqlite:<data directory>/twostep.sqlite`.
    public var databaseURL: String?
    /// PostgreSQL: the most connections this instance opens.
    public var databasePoolSize = Database.defaultPoolSize
    /// Shown by authenticator apps above the code.
    public var issuer = "TwoStep"
    /// How long "Trust this device" lasts (SPEC F6).
    public var trustDeviceDays = 30
    /// Plain HTTP on a host other than localhost (development only): cookies lose `Secure` and the
    /// `__Host-` prefix, and no `Strict-Transport-Security` is sent. Browsers treat `localhost` as
    /// secure already, so local development does not need it.
    public var insecureCookies = false
    /// Serves `/dev/outbox` (every text message the outbox gateway wrote, codes included) and
    /// `/dev/mailbox` (every e-mail the mail outbox wrote, links included) to clients on this
    /// machine only; never on a shared network.
    public var devOutbox = false
    /// How long slow clients may take (issue 12: slow clients held connections for 200 s).
    public var timeouts = ConnectionTimeouts()
    /// TOTP steps accepted either side of now (SPEC §2: ±1 by default).
    public var verificationWindow = 1
    /// Slowing down and locking out wrong second-factor codes (SPEC §2).
    public var lockout = LockoutPolicy()
    /// Recovery codes' own budget (OWASP): wrong app codes never stop a right recovery code.
    public var recoveryCodeLockout = LockoutPolicy()
    /// Wrong passwords per account (by normalised address, known or not): 5 free a day, then 1 min
    /// doubling to 1 h; 100 in a row, spread over a day, lock until an operator unlocks (NIST SP
    /// 800-63B §5.2.2, OWASP ASVS V2.2.1).
    public var passwordLockout = LockoutPolicy(freeAttempts: 5, initialDelay: 60)
    /// Failures per client address and per API key (OWASP: one source must not lock out many accounts).
    var sourceBudgets = LockoutService.SourceBudgets()
    /// Where text messages go; `nil` is the outbox file `<data dir>/sms-outbox.jsonl`.
    public var smsGateway: (any SMSGateway)?
    /// Where e-mail goes (`TWOSTEP_MAIL`); `nil` is the outbox file `<data dir>/mail-outbox.jsonl`.
    public var mailTransport: (any MailTransport)?
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`); none by default,
    /// so the client address is the socket's.
    public var trustedProxies: [IPRange] = []
    /// How many text messages may go out (SPEC §2).
    public var smsLimits = SMSLimits()
    /// Which numbers are texted at all: the country allow-list and the special ranges allowed.
    public var smsDestinations = SMSDestinationPolicy()

    /// Where Prometheus scrapes `/metrics`; `nil` (the default) serves no metrics.
    public var metricsPort: Int?
    /// The metrics listener's address: loopback unless an operator opens it on purpose.
    public var metricsHost = "127.0.0.1"
    /// How long `/health/ready` waits for the database before answering 503.
    public var readinessDeadline: Duration = .seconds(2)
    /// After SIGTERM, how long `/health/ready` answers 503 while requests are still served, so a
    /// load balancer stops sending traffic before the server stops (`--drain-seconds`).
    public var drainDelay: Duration = .seconds(5)

    /// Who must use 2FA, the grace to set it up, and the methods allowed (issue 18: `--require-2fa`,
    /// `--grace-days`, `--allowed-methods`).
    public var twoFactorPolicy = TwoFactorPolicy()

    /// Whether people may make their own accounts (`--signup open|off`).
    public var signUp = SignUpMode.open

    /// The address people and applications reach this server at (`--public-url https://auth.example.com`,
    /// no trailing slash): the OpenID Connect issuer and where `/auth/verify` sends strangers to sign
    /// in. Without it the OpenID Connect provider is off. Also the start of the links in e-mail
    /// (issue 15), never a request's `Host` header: a forged Host would put the attacker's site into
    /// a reset link sent to the victim (OWASP Forgot Password cheat sheet, "URL tokens").
    public var publicURL: String?
    /// The domain the session cookie covers (`--cookie-domain example.com`), so that forward-auth sees
    /// a sign-in on `auth.example.com` from `app.example.com`; also the hosts `rd` may return to.
    public var cookieDomain: String?
    /// Whether `/auth/verify` admits an account that has no second factor at all (never a session
    /// that still owes one). Off: such accounts are sent to set one up first.
    public var forwardAuthAllowsPasswordOnly = false

    /// The WebAuthn relying party ID (`--rp-id`, issue 17): the domain security keys and passkeys are
    /// scoped to. `nil`: the host of `--public-url`, else of this server's own address.
    public var webAuthnRPID: String?
    /// The origins WebAuthn ceremonies may come from (`--origin`), exactly as browsers write them
    /// (`https://auth.example.com`). Empty: the origin of `--public-url`, else this server's own.
    public var webAuthnOrigins: [String] = []

    public init() {}

    public var resolvedDatabaseURL: String {
        databaseURL ?? "sqlite:" + URL(fileURLWithPath: dataDirectory).appendingPathComponent("twostep.sqlite").path
    }

    public var outboxPath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("sms-outbox.jsonl").path
    }

    public var mailOutboxPath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("mail-outbox.jsonl").path
    }

    /// `publicURL` without a trailing slash, else this server's own address.
    public var resolvedPublicURL: String {
        guard let publicURL else { return "http://\(host):\(port)" }
        return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    public var masterKeyPath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("master.key").path
    }
}

/// Whether self sign-up is open (`--signup open|off`, `TWOSTEP_SIGNUP`).
public enum SignUpMode: String, Sendable, CaseIterable {
    /// Anyone may make an account on the pages or with `POST /api/v1/account`.
    case open
    /// Only operators (`twostep user add|import`) and relying services (`POST /api/v1/users`) make accounts.
    case off
}

extension ServerConfiguration {
    /// The RP ID in use: `--rp-id`, else the host of `--public-url`, else of `--host` — but `localhost`
    /// for a server on a loopback or every-interface address without a public URL: browsers refuse an
    /// IP address as an RP ID (W3C WebAuthn §5.1.4: a valid domain), so on this machine keys work at
    /// `http://localhost:PORT`.
    public var resolvedRPID: String {
        if let webAuthnRPID { return webAuthnRPID }
        let host = URLComponents(string: resolvedPublicURL)?.host?.lowercased() ?? host
        if publicURL == nil, ["::1", "[::1]", "0.0.0.0", "::", "[::]", ""].contains(host) || host.hasPrefix("127.") { return "localhost" }
        return host
    }

    /// Whether the RP ID is an IP address, which browsers refuse (the start-up warns).
    public var rpIDIsAnAddress: Bool {
        let id = resolvedRPID
        return id.contains(":") || (!id.isEmpty && id.allSatisfy { $0.isNumber || $0 == "." })
    }

    /// The origins in use: `--origin`, else the public URL's origin; with neither `--public-url` nor
    /// `--origin`, both loopback spellings (`http://127.0.0.1:PORT`, `http://localhost:PORT`), each only
    /// where it fits the RP ID (W3C WebAuthn §5.1.4: the RP ID must be the origin's host or a
    /// registrable suffix of it, or browsers refuse the ceremony).
    /// - Parameter port: The port actually bound, when the configured one is 0.
    public func resolvedOrigins(port: Int? = nil) -> [String] {
        if !webAuthnOrigins.isEmpty { return webAuthnOrigins }
        let port = port ?? self.port
        var candidates: [String]
        if let publicURL {
            candidates = [Self.origin(of: publicURL)].compactMap { $0 }
        } else {
            candidates = [Self.origin(of: "http://\(host):\(port)")].compactMap { $0 }
            candidates += ["http://127.0.0.1:\(port)", "http://localhost:\(port)"]
        }
        var seen = Set<String>()
        return candidates.filter { Self.fits(origin: $0, rpID: resolvedRPID) && seen.insert($0).inserted }
    }

    /// `scheme://host[:port]` of a URL, as browsers serialise an origin (RFC 6454 §6.1: default ports left out).
    public static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(),
            !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        let port = components.port.flatMap { $0 == defaultPort ? nil : $0 }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)" + (port.map { ":\($0)" } ?? "")
    }

    /// Whether `rpID` may scope credentials used at `origin`: its host, or a parent domain of it.
    /// (A public suffix such as `com` would pass this check; browsers refuse it, so the server's
    /// ceremonies then fail loudly rather than quietly.)
    public static func fits(origin: String, rpID: String) -> Bool {
        guard let host = URLComponents(string: origin)?.host?.lowercased(), !rpID.isEmpty else { return false }
        let id = rpID.lowercased()
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return bare == id || (!id.contains(":") && id.contains(where: \.isLetter) && bare.hasSuffix("." + id))
    }

    /// The relying party as the server verifies with it.
    var relyingParty: WebAuthnRelyingParty {
        WebAuthnRelyingParty(id: resolvedRPID, allowedOrigins: resolvedOrigins())
    }
}
