import Foundation
public import Metrics
public import Prometheus

/// What the server counts, for Prometheus (`--metrics-port`), through swift-metrics with a registry
/// of this server's own (tests run many servers in one process; none touches a global).
///
/// Every label takes its value from a short fixed list — a route template, a method, a status, a
/// result — never from the request. OWASP Logging Cheat Sheet, "Data to exclude": no e-mail address,
/// phone number, user id, code or token is ever a label (they would also make the series unbounded,
/// which lets a client exhaust the server's memory).
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    /// The method of a second-factor check.
    enum Method: String, CaseIterable, Sendable {
        case totp, sms
        case recoveryCode = "recovery_code"
        /// A security key or passkey (issue 17).
        case securityKey = "security_key"
        /// A wrong code of an account with several methods, or a check refused before any was tried.
        case unknown
    }

    /// What a second-factor check came to.
    enum CheckResult: String, CaseIterable, Sendable {
        case valid, wrong, replayed, waiting, locked
    }

    enum PasswordResult: String, CaseIterable, Sendable {
        case success, wrong, throttled
    }

    /// Which budget started a wait or a lock.
    enum LockoutBudget: String, CaseIterable, Sendable {
        case codes
        case recoveryCodes = "recovery_codes"
        case passwords
    }

    enum SMSOutcome: String, CaseIterable, Sendable {
        case sent
        /// Refused by a limit (account, number, server budget, cooldown).
        case limited
        /// A country or premium range the server does not text.
        case destinationRefused = "destination_refused"
        case gatewayFailed = "gateway_failed"
    }

    enum Enrolment: String, CaseIterable, Sendable {
        case totp, sms
        case recoveryPhone = "recovery_phone"
        case securityKey = "security_key"
    }

    /// The two routes whose durations are histograms: signing in (password and code steps, pages
    /// and API) and `POST /api/v1/validate`.
    enum TimedRoute: String, Sendable {
        case signIn = "sign_in"
        case validate
    }

    private let checks: [String: Metrics.Counter]
    private let passwords: [PasswordResult: Metrics.Counter]
    private let lockouts: [LockoutBudget: Metrics.Counter]
    private let smsMessages: [SMSOutcome: Metrics.Counter]
    private let enrolments: [Enrolment: Metrics.Counter]
    private let recoveryCodes: Metrics.Counter
    private let durations: [String: Metrics.Timer]
    let databaseQueries: Metrics.Timer

    /// - Parameter version: The `twostep_build_info` label.
    public init(version: String = TwoStepVersion.current) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Database statements take well under a millisecond; the default buckets start at 5 ms.
        factory.durationHistogramBuckets["twostep_database_query_duration_seconds"] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        factory.durationHistogramBuckets["twostep_request_duration_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        ]
        self.registry = registry
        self.factory = factory
        // Every series exists from the start at 0, so a scrape before and after shows each change.
        var checks: [String: Metrics.Counter] = [:]
        for method in Method.allCases {
            for result in CheckResult.allCases {
                checks[method.rawValue + "/" + result.rawValue] = Metrics.Counter(
                    label: "twostep_second_factor_checks_total",
                    dimensions: [("method", method.rawValue), ("result", result.rawValue)],
                    factory: factory
                )
            }
        }
        self.checks = checks
        passwords = Dictionary(
            uniqueKeysWithValues: PasswordResult.allCases.map {
                ($0, Metrics.Counter(label: "twostep_password_sign_ins_total", dimensions: [("result", $0.rawValue)], factory: factory))
            }
        )
        lockouts = Dictionary(
            uniqueKeysWithValues: LockoutBudget.allCases.map {
                ($0, Metrics.Counter(label: "twostep_lockouts_started_total", dimensions: [("budget", $0.rawValue)], factory: factory))
            }
        )
        smsMessages = Dictionary(
            uniqueKeysWithValues: SMSOutcome.allCases.map {
                ($0, Metrics.Counter(label: "twostep_sms_messages_total", dimensions: [("outcome", $0.rawValue)], factory: factory))
            }
        )
        enrolments = Dictionary(
            uniqueKeysWithValues: Enrolment.allCases.map {
                ($0, Metrics.Counter(label: "twostep_enrolments_total", dimensions: [("method", $0.rawValue)], factory: factory))
            }
        )
        recoveryCodes = Metrics.Counter(label: "twostep_recovery_codes_used_total", factory: factory)
        durations = Dictionary(
            uniqueKeysWithValues: [TimedRoute.signIn, .validate].map {
                ($0.rawValue, Metrics.Timer(label: "twostep_request_duration_seconds", dimensions: [("route", $0.rawValue)], factory: factory))
            }
        )
        databaseQueries = Metrics.Timer(label: "twostep_database_query_duration_seconds", factory: factory)
        Metrics.Gauge(label: "twostep_build_info", dimensions: [("version", version)], factory: factory).record(1)
    }

    func secondFactorCheck(_ method: Method, _ result: CheckResult) {
        checks[method.rawValue + "/" + result.rawValue]?.increment()
    }

    func passwordSignIn(_ result: PasswordResult) { passwords[result]?.increment() }

    func lockoutStarted(_ budget: LockoutBudget) { lockouts[budget]?.increment() }

    func sms(_ outcome: SMSOutcome) { smsMessages[outcome]?.increment() }

    func enrolled(_ method: Enrolment) { enrolments[method]?.increment() }

    func recoveryCodeUsed() { recoveryCodes.increment() }

    func requestDuration(_ route: TimedRoute, _ duration: Duration) {
        durations[route.rawValue]?.recordNanoseconds(duration.nanoseconds)
    }

    func databaseQuery(_ duration: Duration) { databaseQueries.recordNanoseconds(duration.nanoseconds) }

    /// One answered request. `route` is the matched route's template (`/api/v1/users/{user}`) or
    /// `unmatched`; an unknown method is `other`.
    func httpRequest(route: String, method: String, status: Int) {
        Metrics.Counter(
            label: "twostep_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(status))],
            factory: factory
        ).increment()
    }

    /// The text exposition format Prometheus scrapes.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// The version `twostep_build_info` reports.
public enum TwoStepVersion {
    public static let current = "0.16.0"
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
