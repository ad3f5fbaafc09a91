import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TwoStepCore
import TwoStepServer
import TwoStepStore
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web server. The first run creates the data directory, database and master key."
    )

    @Option(help: "Address to listen on [TWOSTEP_HOST] (default: 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on [TWOSTEP_PORT] (default: 8080).")
    var port: Int?

    @Option(help: "Issuer name shown by authenticator apps [TWOSTEP_ISSUER] (default: TwoStep).")
    var issuer: String?

    @Option(help: "Days a trusted device skips the security code [TWOSTEP_TRUST_DEVICE_DAYS] (default: 30).")
    var trustDeviceDays: Int?

    @Option(
        help: """
            Plain HTTP on a host other than localhost, for development only: cookies without Secure, no HSTS \
            [TWOSTEP_INSECURE_COOKIES] (default: false).
            """
    )
    var insecureCookies: Bool?

    @Option(help: "Show texted codes at /dev/outbox to browsers on this machine [TWOSTEP_DEV_OUTBOX] (default: false).")
    var devOutbox: Bool?

    @Option(help: "Seconds a client may take to send a request's headers [TWOSTEP_HEADER_TIMEOUT] (default: 10).")
    var headerTimeout: Int?

    @Option(help: "Seconds a client may take to send a request's body [TWOSTEP_BODY_TIMEOUT] (default: 30).")
    var bodyTimeout: Int?

    @Option(help: "Seconds an open connection may wait for its next request [TWOSTEP_IDLE_TIMEOUT] (default: 30).")
    var idleTimeout: Int?

    /// Split in two (issue 12): it both dropped `Secure` and published every texted code.
    @Option(help: .hidden)
    var devMode: Bool?

    @Option(help: "Country calling codes (or longer prefixes) texts may go to, e.g. 31,49,1 [TWOSTEP_SMS_COUNTRIES] (default: every country).")
    var smsCountries: String?

    @Option(
        help: "Premium or special ranges to text after all, e.g. 882 or 1900 [TWOSTEP_SMS_ALLOW_SPECIAL] (default: none; the README lists them)."
    )
    var smsAllowSpecial: String?

    @Option(help: "Text messages the whole server may send per hour [TWOSTEP_SMS_PER_HOUR] (default: 200).")
    var smsPerHour: Int?

    @Option(help: "Text messages the whole server may send per day [TWOSTEP_SMS_PER_DAY] (default: 1000).")
    var smsPerDay: Int?

    @Option(help: "Whether people may make their own accounts: open or off [TWOSTEP_SIGNUP] (default: open).")
    var signup: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help:
            "A reverse proxy (address or CIDR range) whose X-Forwarded-For is believed; repeat for more [TWOSTEP_TRUSTED_PROXY, comma separated] (default: none: the socket's address)."
    )
    var trustedProxies: [String] = []

    @Option(
        name: .customLong("public-url"),
        help:
            "The address browsers and applications reach TwoStep at, e.g. https://auth.example.com: the OpenID Connect issuer and the links in e-mail [TWOSTEP_PUBLIC_URL] (default: none; OpenID Connect off, e-mail links to http://HOST:PORT)."
    )
    var publicURL: String?

    @Option(
        help:
            "Share the sign-in with every host under this domain, for forward-auth, e.g. example.com [TWOSTEP_COOKIE_DOMAIN] (default: none: TwoStep's host only)."
    )
    var cookieDomain: String?

    @Option(
        help: "Let /auth/verify admit accounts that have no second factor on their password [TWOSTEP_FORWARD_AUTH_PASSWORD_ONLY] (default: false)."
    )
    var forwardAuthPasswordOnly: Bool?

    @Option(
        name: .customLong("rp-id"),
        help:
            "The WebAuthn relying party ID security keys and passkeys are scoped to, e.g. example.com [TWOSTEP_RP_ID] (default: the host of --public-url, else localhost: browsers refuse an IP address)."
    )
    var rpID: String?

    @Option(
        name: .customLong("origin"),
        help:
            "An origin WebAuthn ceremonies may come from, e.g. https://auth.example.com; repeat for more [TWOSTEP_ORIGIN, comma separated] (default: the origin of --public-url, else http://localhost:PORT)."
    )
    var origins: [String] = []

    @Option(
        help:
            "Seconds /health/ready answers 503 after SIGTERM before the server stops, so load balancers drain it [TWOSTEP_DRAIN_SECONDS] (default: 5)."
    )
    var drainSeconds: Int?

    @Option(help: "Serve Prometheus metrics at /metrics on this port [TWOSTEP_METRICS_PORT] (default: none: no metrics).")
    var metricsPort: Int?

    @Option(help: "Address of the metrics listener [TWOSTEP_METRICS_HOST] (default: 127.0.0.1).")
    var metricsHost: String?

    @Option(
        name: .customLong("require-2fa"),
        help:
            "Who must use two-factor authentication: all, none, or domains:example.com,corp.example (exact address domains) [TWOSTEP_REQUIRE_2FA] (default: none)."
    )
    var requireTwoFactor: String?

    @Option(help: "Days from the first sign-in under --require-2fa until a method must be on; 0 = at once [TWOSTEP_GRACE_DAYS] (default: 7).")
    var graceDays: Int?

    @Option(help: "Two-factor methods people may set up: app, sms, key, comma separated [TWOSTEP_ALLOWED_METHODS] (default: app,sms,key).")
    var allowedMethods: String?

    @OptionGroup var data: DataOptions

    func run() async throws {
        var configuration = ServerConfiguration()
        try data.apply(to: &configuration)
        if let value = try setting(host, "HOST", { $0 }) { configuration.host = value }
        if let value = try setting(port, "PORT", Int.init) { configuration.port = value }
        if let value = try setting(issuer, "ISSUER", { $0 }) { configuration.issuer = value }
        if let value = try setting(trustDeviceDays, "TRUST_DEVICE_DAYS", Int.init) { configuration.trustDeviceDays = value }
        if try setting(devMode, "DEV_MODE", Bool.init) != nil {
            throw ValidationError("--dev-mode is gone: use --insecure-cookies (plain HTTP off localhost) and --dev-outbox (texted codes)")
        }
        if let value = try setting(insecureCookies, "INSECURE_COOKIES", Bool.init) { configuration.insecureCookies = value }
        if let value = try setting(devOutbox, "DEV_OUTBOX", Bool.init) { configuration.devOutbox = value }
        for (flag, name, keyPath) in [
            (headerTimeout, "HEADER_TIMEOUT", \ConnectionTimeouts.header), (bodyTimeout, "BODY_TIMEOUT", \.body),
            (idleTimeout, "IDLE_TIMEOUT", \.idle),
        ] {
            guard let seconds = try setting(flag, name, Int.init) else { continue }
            guard (1...3600).contains(seconds) else { throw ValidationError("TWOSTEP_\(name) and its flag must be 1 to 3600 seconds") }
            configuration.timeouts[keyPath: keyPath] = .seconds(seconds)
        }
        if let value = try setting(signup, "SIGNUP", { $0 }) {
            guard let mode = SignUpMode(rawValue: value) else { throw ValidationError("--signup must be open or off, not '\(value)'") }
            configuration.signUp = mode
        }
        let proxies = trustedProxies.isEmpty ? (environment("TRUSTED_PROXY") ?? "").split(separator: ",").map(String.init) : trustedProxies
        configuration.trustedProxies = try proxies.map { text in
            let text = text.trimmingCharacters(in: .whitespaces)
            guard let range = IPRange(text) else { throw ValidationError("--trusted-proxy '\(text)' is not an IP address or CIDR range") }
            return range
        }
        try applySignInForApps(to: &configuration)
        try applyWebAuthn(to: &configuration)
        try applyTwoFactorPolicy(to: &configuration)
        configuration.smsGateway = try smsGateway()
        configuration.mailTransport = try mailTransport(issuer: configuration.issuer)
        if let value = try setting(smsCountries, "SMS_COUNTRIES", { $0 }) {
            guard let prefixes = SMSDestinationPolicy.prefixes(value) else {
                throw ValidationError("--sms-countries takes calling codes such as 31,49,1")
            }
            configuration.smsDestinations.allowedPrefixes = prefixes
        }
        if let value = try setting(smsAllowSpecial, "SMS_ALLOW_SPECIAL", { $0 }) {
            guard let prefixes = SMSDestinationPolicy.prefixes(value) else {
                throw ValidationError("--sms-allow-special takes prefixes such as 882,1900")
            }
            configuration.smsDestinations.allowedSpecialPrefixes = prefixes
        }
        if let value = try setting(smsPerHour, "SMS_PER_HOUR", Int.init) { configuration.smsLimits.serverPerHour = value }
        if let value = try setting(smsPerDay, "SMS_PER_DAY", Int.init) { configuration.smsLimits.serverPerDay = value }
        guard configuration.smsLimits.serverPerHour >= 1, configuration.smsLimits.serverPerDay >= 1 else {
            throw ValidationError("--sms-per-hour and --sms-per-day must be at least 1")
        }
        if let seconds = try setting(drainSeconds, "DRAIN_SECONDS", Int.init) {
            guard (0...300).contains(seconds) else { throw ValidationError("--drain-seconds must be 0 to 300") }
            configuration.drainDelay = .seconds(seconds)
        }
        if let value = try setting(metricsPort, "METRICS_PORT", Int.init) {
            guard (0...65_535).contains(value) else { throw ValidationError("--metrics-port must be 0 to 65535") }
            configuration.metricsPort = value
        }
        if let value = try setting(metricsHost, "METRICS_HOST", { $0 }) { configuration.metricsHost = value }
        guard (0...65_535).contains(configuration.port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (1...365).contains(configuration.trustDeviceDays) else { throw ValidationError("--trust-device-days must be 1 to 365") }

        let logger = try data.logger()
        for warning in StartupReport.warnings(configuration) { logger.warning("\(warning)") }
        // Held until the process ends: `twostep restore` refuses to replace the file under a running server.
        let lock = try DatabaseLock.serving(configuration)
        defer { withExtendedLifetime(lock) {} }
        let parts = try await openServerParts(configuration, logger: logger)
        var now: Now = { Date() }
        #if DEBUG
            if let moved = TestClockFile.now() {
                logger.warning("\(TestClockFile.variable) is set: the clock is moved by the offset in that file (debug builds only, for tests)")
                now = moved
            }
        #endif
        let app = try buildApplication(
            configuration,
            parts: parts,
            logger: logger,
            now: now,
            onServerRunning: { [configuration] channel in
                let line = StartupReport.banner(configuration, port: channel.localAddress?.port ?? configuration.port)
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        )
        // The drain comes after the application: a group stops its services in reverse order, so it
        // hears of SIGTERM first and holds the server open while /health/ready answers 503.
        var services: [any Service] = [app, ShutdownDrain(readiness: parts.readiness, delay: configuration.drainDelay, logger: logger)]
        if let metricsPort = configuration.metricsPort {
            // First in the group, so the last to stop: the drain and the final requests are still counted.
            services.insert(
                buildMetricsApplication(configuration, port: metricsPort, parts: parts, logger: logger) { [configuration] channel in
                    let port = channel.localAddress?.port ?? metricsPort
                    FileHandle.standardOutput.write(Data("TwoStep metrics on http://\(configuration.metricsHost):\(port)/metrics\n".utf8))
                },
                at: 0
            )
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

extension ServeCommand {
    /// `--require-2fa`, `--grace-days` and `--allowed-methods` (issue 18).
    func applyTwoFactorPolicy(to configuration: inout ServerConfiguration) throws {
        if let value = try setting(requireTwoFactor, "REQUIRE_2FA", { $0 }) {
            guard let requirement = TwoFactorRequirement(value) else {
                throw ValidationError("--require-2fa must be all, none or domains:example.com,corp.example, not '\(value)'")
            }
            configuration.twoFactorPolicy.requirement = requirement
        }
        if let days = try setting(graceDays, "GRACE_DAYS", Int.init) {
            guard (0...365).contains(days) else { throw ValidationError("--grace-days must be 0 to 365") }
            configuration.twoFactorPolicy.graceDays = days
        }
        if let value = try setting(allowedMethods, "ALLOWED_METHODS", { $0 }) {
            guard let methods = TwoFactorMethod.list(value) else {
                throw ValidationError("--allowed-methods takes one or more of app, sms, key, comma separated, not '\(value)'")
            }
            configuration.twoFactorPolicy.allowedMethods = methods
        }
    }

    /// `--public-url`, `--cookie-domain` and `--forward-auth-password-only` (issue 14).
    func applySignInForApps(to configuration: inout ServerConfiguration) throws {
        if let value = try setting(publicURL, "PUBLIC_URL", { $0 }) {
            let trimmed = value.hasSuffix("/") ? String(value.dropLast()) : value
            guard let url = URLComponents(string: trimmed), url.scheme == "https" || url.scheme == "http", url.host?.isEmpty == false,
                url.query == nil, url.fragment == nil, url.user == nil
            else { throw ValidationError("--public-url must be an address such as https://auth.example.com") }
            configuration.publicURL = trimmed
        }
        if let value = try setting(cookieDomain, "COOKIE_DOMAIN", { $0 }) {
            let domain = (value.hasPrefix(".") ? String(value.dropFirst()) : value).lowercased()
            guard domain.contains("."), !domain.hasSuffix("."),
                domain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else { throw ValidationError("--cookie-domain must be a domain such as example.com") }
            if let host = configuration.publicURL.flatMap({ URLComponents(string: $0)?.host?.lowercased() }), host != domain,
                !host.hasSuffix("." + domain)
            {
                throw ValidationError("--public-url's host must be under --cookie-domain, or browsers refuse the cookie")
            }
            configuration.cookieDomain = domain
        }
        if let value = try setting(forwardAuthPasswordOnly, "FORWARD_AUTH_PASSWORD_ONLY", Bool.init) {
            configuration.forwardAuthAllowsPasswordOnly = value
        }
    }

    /// `--rp-id` and `--origin` (issue 17), checked against each other at start-up: browsers refuse a
    /// ceremony whose RP ID is not the origin's host or a parent domain of it (W3C WebAuthn §5.1.4),
    /// so a mismatch would only show as every key failing.
    func applyWebAuthn(to configuration: inout ServerConfiguration) throws {
        if let value = try setting(rpID, "RP_ID", { $0 }) {
            let id = value.lowercased()
            guard !id.isEmpty, !id.hasPrefix("."), !id.hasSuffix("."),
                id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") })
            else { throw ValidationError("--rp-id must be a domain such as example.com (no scheme, port or path)") }
            configuration.webAuthnRPID = id
        }
        let given = origins.isEmpty ? (environment("ORIGIN")?.split(separator: ",").map(String.init) ?? []) : origins
        var list: [String] = []
        for entry in given.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let origin = ServerConfiguration.origin(of: entry), origin == entry.lowercased() || origin + "/" == entry.lowercased(),
                entry.hasPrefix("https://") || entry.hasPrefix("http://")
            else { throw ValidationError("--origin must be an origin such as https://auth.example.com (scheme, host and port only), not '\(entry)'") }
            list.append(origin)
        }
        configuration.webAuthnOrigins = list
        for origin in configuration.resolvedOrigins() where !ServerConfiguration.fits(origin: origin, rpID: configuration.resolvedRPID) {
            throw ValidationError("--rp-id \(configuration.resolvedRPID) must be the host of --origin \(origin) or a domain it is under")
        }
        if configuration.resolvedOrigins().isEmpty {
            throw ValidationError("no origin fits --rp-id \(configuration.resolvedRPID): give --origin")
        }
    }

    /// The SMS gateway from `TWOSTEP_SMS_GATEWAY` (outbox, twilio, webhook) and its settings, read
    /// from the environment only, so credentials never appear in `ps` or shell history.
    func smsGateway() throws -> (any SMSGateway)? {
        func required(_ name: String) throws -> String {
            guard let value = environment(name) else { throw ValidationError("TWOSTEP_\(name) must be set for this SMS gateway") }
            return value
        }
        switch environment("SMS_GATEWAY") ?? "outbox" {
        case "outbox":
            return nil
        case "twilio":
            let credentials = TwilioGateway.Credentials(
                accountSID: try required("TWILIO_ACCOUNT_SID"),
                authToken: try required("TWILIO_AUTH_TOKEN"),
                from: try required("TWILIO_FROM")
            )
            return TwilioGateway(credentials: credentials, baseURL: environment("TWILIO_BASE_URL") ?? "https://api.twilio.com")
        case "webhook":
            return WebhookGateway(url: try required("SMS_WEBHOOK_URL"), secret: try required("SMS_WEBHOOK_SECRET"))
        case let other:
            throw ValidationError("TWOSTEP_SMS_GATEWAY must be outbox, twilio or webhook, not '\(other)'")
        }
    }
}

extension ServeCommand {
    /// The mail transport from `TWOSTEP_MAIL` (outbox, smtp, webhook) and its settings, read from
    /// the environment only, so the SMTP password never appears in `ps` or shell history.
    func mailTransport(issuer: String) throws -> (any MailTransport)? {
        func required(_ name: String) throws -> String {
            guard let value = environment(name) else { throw ValidationError("TWOSTEP_\(name) must be set for this mail transport") }
            return value
        }
        switch environment("MAIL") ?? "outbox" {
        case "outbox":
            return nil
        case "smtp":
            let securityText = environment("SMTP_SECURITY") ?? "starttls"
            guard let security = SMTPConfiguration.Security(rawValue: securityText) else {
                throw ValidationError("TWOSTEP_SMTP_SECURITY must be starttls, tls or none, not '\(securityText)'")
            }
            guard let from = MailAddress(try required("SMTP_FROM")) else { throw ValidationError("TWOSTEP_SMTP_FROM is not an e-mail address") }
            let portText = environment("SMTP_PORT") ?? (security == .tls ? "465" : security == .startTLS ? "587" : "25")
            guard let port = Int(portText), (1...65_535).contains(port) else { throw ValidationError("TWOSTEP_SMTP_PORT must be 1 to 65535") }
            var configuration = SMTPConfiguration(
                host: try required("SMTP_HOST"),
                port: port,
                security: security,
                from: from,
                username: environment("SMTP_USERNAME"),
                password: environment("SMTP_PASSWORD")
            )
            configuration.fromName = issuer
            configuration.caFile = environment("SMTP_CA_FILE")
            if let seconds = environment("SMTP_TIMEOUT") {
                guard let seconds = Int(seconds), (1...300).contains(seconds) else {
                    throw ValidationError("TWOSTEP_SMTP_TIMEOUT must be 1 to 300 seconds")
                }
                configuration.replyTimeout = .seconds(Int64(seconds))
                configuration.connectTimeout = .seconds(Int64(seconds))
            }
            do {
                return try SMTPTransport(configuration)
            } catch let error as MailTransportError {
                throw ValidationError(error.description)
            }
        case "webhook":
            return MailWebhook(url: try required("MAIL_WEBHOOK_URL"), secret: try required("MAIL_WEBHOOK_SECRET"))
        case let other:
            throw ValidationError("TWOSTEP_MAIL must be outbox, smtp or webhook, not '\(other)'")
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or update the database schema.")

    @Option(
        name: .customLong("trusted-proxy"),
        help:
            "A reverse proxy (address or CIDR range) whose X-Forwarded-For is believed; repeat for more [TWOSTEP_TRUSTED_PROXY, comma separated] (default: none: the socket's address)."
    )
    var trustedProxies: [String] = []

    @OptionGroup var data: DataOptions

    func run() async throws {
        var configuration = ServerConfiguration()
        try data.apply(to: &configuration)
        let parts = try await openServerParts(configuration, logger: try data.logger())
        try await parts.database.close()
        print("The database is up to date.")
    }
}
