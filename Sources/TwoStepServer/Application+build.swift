public import Foundation
public import Hummingbird
public import Logging
public import NIOCore
import ServiceLifecycle
public import TwoStepCore
public import TwoStepStore

/// What the server is made of once started: the database and key ring it opened, and the services.
public struct ServerParts: Sendable {
    public let database: Database
    public let store: SQLStore
    public let keyRing: KeyRing
    /// What `/metrics` serves (`--metrics-port`).
    public let metrics: ServerMetrics
    /// Turns `/health/ready` to 503 once a graceful shutdown begins (`ShutdownDrain`).
    public let readiness = Readiness()
}

/// Opens (creating on first run) the data directory, database and master key, and migrates.
public func openServerParts(_ configuration: ServerConfiguration, logger: Logger) async throws -> ServerParts {
    // The database holds password hashes and sealed secrets: only the server's user may enter the folder.
    try FileManager.default.createDirectory(
        atPath: configuration.dataDirectory,
        withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700]
    )
    let keyRing = try MasterKeyFile.loadOrCreate(at: configuration.masterKeyPath)
    let metrics = ServerMetrics()
    let database = try await Database.open(url: configuration.resolvedDatabaseURL, poolSize: configuration.databasePoolSize, logger: logger)
        .timed { metrics.databaseQuery($0) }
    do {
        try await database.migrate()
    } catch {
        try? await database.close()
        throw error
    }
    let store = SQLStore(database: database, alerting: SecurityAlertService.alertingKinds)
    return ServerParts(database: database, store: store, keyRing: keyRing, metrics: metrics)
}

/// Builds the web application: `twostep serve` runs it, tests call it with a temporary directory.
/// - Parameters:
///   - now: The clock; tests pass one they can move.
///   - passwordHasher: How passwords are hashed; tests pass a cheap one to stay fast.
public func buildApplication(
    _ configuration: ServerConfiguration,
    parts: ServerParts,
    logger: Logger,
    now: @escaping Now = { Date() },
    passwordHasher: SecretHasher = .passwords,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = try buildRouter(configuration, parts: parts, now: now, passwordHasher: passwordHasher, logger: logger)
    let timeouts = configuration.timeouts
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [SlowClientGuard(timeouts: timeouts)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "TwoStep"),
        // A service group stops its services in reverse order, one after the other: the closer comes
        // first so it runs last, once the server, the dispatcher and the sweeper have stopped. Closed
        // earlier, it raced their queries: a connection closed mid-query stays open, and sqlite-nio
        // traps on it in debug builds (seen as crashed test runs with many live servers).
        services: [
            DatabaseCloser(database: parts.database),
            ExpiredRecordSweeper(store: parts.store, smsLimits: configuration.smsLimits, now: now),
            SecurityAlertDispatcher(alerts: Services(configuration, parts: parts, now: now, passwordHasher: passwordHasher, logger: logger).alerts),
        ],
        onServerRunning: onServerRunning,
        logger: logger
    )
}

/// The routes and middleware, shared by the real server and the router tests.
public func buildRouter(
    _ configuration: ServerConfiguration,
    parts: ServerParts,
    now: @escaping Now = { Date() },
    passwordHasher: SecretHasher = .passwords,
    logger: Logger = Logger(label: "twostep"),
    apiRoutes: APIRouteList = APIRouteList()
) throws -> Router<TwoStepRequestContext> {
    let cookies = CookieNames(secure: !configuration.insecureCookies, domain: configuration.cookieDomain)
    let services = Services(configuration, parts: parts, now: now, passwordHasher: passwordHasher, logger: logger)
    let (accounts, sessions, devices, twoFactor) = (services.accounts, services.sessions, services.devices, services.twoFactor)
    let pages = try Pages()
    accounts.prepareDecoy()

    let router = Router(context: TwoStepRequestContext.self)
    router.add(middleware: HTTPMetricsMiddleware(metrics: parts.metrics))
    router.add(middleware: RequestLogMiddleware(trustedProxies: configuration.trustedProxies))
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
    router.add(middleware: SecurityHeadersMiddleware(strictTransportSecurity: !configuration.insecureCookies))
    // On the whole router, not the API group: a group's middleware runs only for the group's own routes,
    // and an unknown /api/ path (JSON 404) or a known one with another method (JSON 405 with Allow)
    // matches none of them.
    router.add(middleware: APIErrorMiddleware(routes: apiRoutes))
    router.add(middleware: DatabaseOutageMiddleware())
    router.get("/static/app.css") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.app_css))
        )
    }
    router.get(RouterPath(WebAuthnScript.path)) { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=31536000, immutable"],
            body: .init(byteBuffer: ByteBuffer(bytes: WebAuthnScript.source))
        )
    }
    let database = parts.database
    HealthRoutes(ping: { try await database.ping() }, readiness: parts.readiness, deadline: configuration.readinessDeadline)
        .addRoutes(to: router)

    // The JSON API: bearer tokens, not cookies, so neither the cookie session nor CSRF applies.
    let api = router.group("/api/v1")
    // `Resources/openapi.json` is written by hand to match the controllers: `theOpenAPIDocumentListsExactlyTheRoutes`
    // fails when a route is missing from it or it names one that does not exist, and `.ci/run` fuzzes the server
    // against it with schemathesis.
    APIRoutes(group: api, prefix: "/api/v1", list: apiRoutes).on(.get, "/openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
    }
    api.add(middleware: BearerMiddleware(sessions: sessions, apiKeys: services.apiKeys, store: parts.store))
    let accountRoutes = APIRoutes(
        group: api.group(context: AccountAPIContext.self).add(middleware: EnrolmentGate.API(policy: services.policy)),
        prefix: "/api/v1",
        list: apiRoutes
    )
    SessionAPIController(services: services).addRoutes(public: APIRoutes(group: api, prefix: "/api/v1", list: apiRoutes), account: accountRoutes)
    AccountAPIController(services: services).addRoutes(to: accountRoutes)
    WebAuthnAPIController(services: services).addRoutes(public: APIRoutes(group: api, prefix: "/api/v1", list: apiRoutes), account: accountRoutes)
    ServiceAPIController(services: services).addRoutes(
        to: APIRoutes(group: api.group(context: ServiceAPIContext.self), prefix: "/api/v1", list: apiRoutes)
    )

    // OpenID Connect (issue 14): the relying party's server calls these with no cookie and no form token.
    let continuation = SignInContinuation(cookies: cookies, policy: services.returnAddresses)
    let oidc = OIDCController(oidc: services.oidc, sessions: sessions, pages: pages, cookies: cookies, continuation: continuation)
    oidc.addRoutes(backChannel: router.group())
    // Forward-auth: the proxy passes the browser's cookies on; nothing is changed, so no CSRF token.
    ForwardAuthController(forwardAuth: services.forwardAuth).addRoutes(
        to: router.group().add(middleware: SessionMiddleware(sessions: sessions, store: parts.store, cookies: cookies))
    )

    // The pages: a session in a cookie, so every form carries the CSRF token.
    let web = router.group()
        .add(middleware: SessionMiddleware(sessions: sessions, store: parts.store, cookies: cookies))
        .add(middleware: CSRFMiddleware(cookies: cookies))
    oidc.addRoutes(browser: web)
    SignInController(
        accounts: accounts,
        sessions: sessions,
        twoFactor: twoFactor,
        devices: devices,
        signIns: services.signIns,
        keys: services.webAuthn,
        email: services.email,
        pages: pages,
        cookies: cookies,
        continuation: continuation
    )
    .addRoutes(to: web)
    let profile = web.group("/profile", context: SignedInContext.self).add(middleware: EnrolmentGate.Pages(policy: services.policy))
    ProfileController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    TwoFactorController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    AppEnrolmentController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    PhoneEnrolmentController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    RecoveryCodesController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    TrustedDevicesController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    ReauthenticationController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    SecurityKeyController(services: services, pages: pages, cookies: cookies).addRoutes(to: profile)
    EmailController(services: services, pages: pages, cookies: cookies).addRoutes(to: web, profile: profile)
    // The help-desk console (issue 18): signed-in accounts only; `HelpDeskService` decides which.
    HelpDeskController(services: services, pages: pages).addRoutes(to: web.group("/admin", context: SignedInContext.self))
    if configuration.devOutbox, let outbox = services.outbox {
        // Development only: the text messages that would have been sent, to this machine only.
        web.get("/dev/outbox") { request, context in
            guard DevOutbox.allows(peer: context.remoteAddress, headers: request.headers) else {
                throw HTTPError(.notFound)
            }
            let messages = try await outbox.messages().reversed().map { entry in
                OutboxPage.Message(
                    to: entry.message.to,
                    body: entry.message.body,
                    purpose: entry.message.purpose.rawValue,
                    when: Format.time(entry.sentAt)
                )
            }
            return pages.render(OutboxPage(frame: PageFrame(title: "SMS outbox", csrf: context.csrfToken), messages: messages))
        }
    }
    if configuration.devOutbox, let mailbox = services.mailOutbox {
        // Development only: the e-mail that would have been sent, links included, to this machine only.
        web.get("/dev/mailbox") { request, context in
            guard DevOutbox.allows(peer: context.remoteAddress, headers: request.headers) else {
                throw HTTPError(.notFound)
            }
            let messages = try await mailbox.messages().reversed().map { entry in
                MailboxPage.Message(
                    to: entry.message.to.address,
                    subject: entry.message.subject.text,
                    text: entry.message.text,
                    purpose: entry.message.purpose.rawValue,
                    when: Format.time(entry.sentAt)
                )
            }
            return pages.render(MailboxPage(frame: PageFrame(title: "Mailbox", csrf: context.csrfToken), messages: messages))
        }
    }
    return router
}

/// Closes the database once the server has stopped taking requests.
private struct DatabaseCloser: Service {
    let database: Database

    func run() async throws {
        try? await gracefulShutdown()
        try await database.close()
    }
}

/// Every ten minutes deletes ended sessions, expired trusted devices, SMS challenges older than a
/// day and SMS send-log entries older than the longest SMS limit window, so those tables hold only
/// what can still matter. Age is the only thing that shortens the send log.
private struct ExpiredRecordSweeper: Service {
    let store:
        any SessionRepository & TrustedDeviceRepository & SMSChallengeRepository & SMSSendLogRepository & ThrottleRepository
            & OIDCRepository
            & EmailTokenRepository & WebAuthnRepository
    let smsLimits: SMSLimits
    let now: Now

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let time = now()
                try? await store.deleteExpiredSessions(
                    idleBefore: time.addingTimeInterval(-SessionService.idleTimeout).unixTime,
                    createdBefore: time.addingTimeInterval(-SessionService.absoluteTimeout).unixTime
                )
                try? await store.deleteExpiredTrustedDevices(before: time.unixTime)
                try? await store.deleteSMSChallenges(createdBefore: time.addingTimeInterval(-86_400).unixTime)
                try? await store.deleteSMSSends(sentBefore: time.unixTime - smsLimits.retention)
                try? await store.deleteExpiredEmailTokens(before: time.unixTime)
                try? await store.deleteExpiredWebAuthnChallenges(before: time.unixTime)
                // Per-source budgets (client addresses, API keys) are full again long before a day.
                try? await store.deleteThrottles(prefix: "src:", updatedBefore: time.addingTimeInterval(-86_400).unixTime)
                try? await store.deleteExpiredOIDCRecords(before: time.unixTime)
                try await Task.sleep(for: .seconds(600))
            }
        }
    }
}
