import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// A `postgres://user:password@host:port/database?sslmode=…` URL, read once. Its description
/// never includes the password.
struct PostgresURL: Sendable, CustomStringConvertible {
    enum TLSMode: String, Sendable {
        /// Plain TCP (a database on the same host or a private network).
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or nothing. The certificate chain and host name are always verified (stricter than
        /// libpq's `require`, which checks neither): a database reached over a network it does not
        /// own is exactly where a man in the middle reads password hashes and sealed secrets.
        /// `verify-ca` and `verify-full` mean the same.
        case require
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var tls: TLSMode
    /// `?search_path=NAME`: the schema the tables live in (tests give each run a fresh one).
    var searchPath: String?
    /// `?sslrootcert=PATH` (libpq's name): a PEM file of the certificate authorities to trust
    /// instead of the system's, for a database whose certificate a private CA signed.
    var rootCertificates: String?
    /// `?connect_timeout=SECONDS` (libpq's name), 1 to 300: how long opening a connection may take,
    /// TLS and password included, for a database far away or a host under load.
    var connectTimeout: Int64 = 5

    var description: String { "PostgreSQL at \(host):\(port)" }

    init(_ text: String) throws(DatabaseError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .badURL("expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let host = url.host, !host.isEmpty else { throw .badURL("no host name (postgres://USER:PASSWORD@HOST:PORT/DATABASE)") }
        guard let user = url.user, !user.isEmpty else { throw .badURL("no user name (postgres://USER:PASSWORD@HOST:PORT/DATABASE)") }
        self.host = host
        port = url.port ?? 5432
        username = user
        password = url.password
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? nil : path
        tls = .prefer
        for item in url.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("tlsmode", "disable"): tls = .disable
            case ("sslmode", "prefer"), ("sslmode", "allow"), ("tlsmode", "prefer"): tls = .prefer
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"), ("tlsmode", "require"): tls = .require
            case ("sslmode", let other), ("tlsmode", let other):
                throw .badURL("sslmode must be disable, prefer, require, verify-ca or verify-full, not '\(other)'")
            case ("search_path", let value) where !value.isEmpty: searchPath = value
            case ("sslrootcert", let value) where !value.isEmpty: rootCertificates = value
            case ("connect_timeout", let value):
                guard let seconds = Int64(value), (1...300).contains(seconds) else {
                    throw .badURL("connect_timeout must be 1 to 300 seconds, not '\(value)'")
                }
                connectTimeout = seconds
            case (let name, _): throw .badURL("unknown parameter '\(name)' (known: sslmode, sslrootcert, search_path, connect_timeout)")
            }
        }
    }

    var startupParameters: [(String, String)] {
        [("application_name", "twostep")] + (searchPath.map { [("search_path", $0)] } ?? [])
    }

    /// The TLS settings both the pool and single connections use.
    func tlsConfiguration() throws(DatabaseError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificates {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificates))
            } catch {
                throw .badURL("sslrootcert \(rootCertificates) is not a readable PEM file of certificates")
            }
        }
        return configuration
    }

    func clientConfiguration(poolSize: Int) throws -> PostgresClient.Configuration {
        let tlsConfiguration = try tlsConfiguration()
        let tls: PostgresClient.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require: .require(tlsConfiguration)
            }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = min(2, poolSize - 1)
        configuration.options.connectTimeout = .seconds(connectTimeout)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: try tlsConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: try tlsConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(connectTimeout)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// What went wrong connecting, in one line for the operator: the server's own reason when it
    /// answered (`password authentication failed for user "x"`, `database "y" does not exist`),
    /// else why nothing answered. The password is in none of them.
    func explain(_ error: any Error) -> DatabaseError {
        if let refusal = certificateRefusal(error) { return .refused("\(self) refused: \(refusal)") }
        guard let error = error as? PSQLError else { return .unreachable("cannot reach \(self): \(Self.firstLine(error))") }
        switch error.code {
        case .server:
            let message = error.serverInfo?[.message] ?? "refused"
            let state = error.serverInfo?[.sqlState] ?? ""
            if state.hasPrefix("57") || state.hasPrefix("08") || state == "53300" {
                return .unreachable("\(self) is not accepting connections: \(message)")
            }
            return .refused("\(self) refused the connection: \(message)")
        case .sslUnsupported:
            return .refused("\(self) does not offer TLS, and the URL requires it (sslmode=\(tls.rawValue))")
        case .authMechanismRequiresPassword:
            return .refused("\(self) asks for a password, and the URL has none")
        default:
            let cause = error.underlying.map(Self.firstLine) ?? "\(error.code)"
            return .unreachable("cannot reach \(self): \(cause)")
        }
    }

    /// Why TLS failed, when it did, and what to do about it.
    private func certificateRefusal(_ error: any Error) -> String? {
        switch (error as? PSQLError)?.underlying ?? error {
        case NIOSSLError.handshakeFailed:
            return "its TLS certificate is not signed by a CA this machine trusts (name that CA with sslrootcert=PATH)"
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "its TLS certificate is not for the host name \(host) (use the name the certificate was made for)"
        case let error as NIOSSLExtraError:
            return "its TLS certificate was not accepted (\(Self.firstLine(error)))"
        default:
            return nil
        }
    }

    private static func firstLine(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(type(of: error))"
    }
}

extension Database {
    /// Whether PostgreSQL ended a statement to break a deadlock (SQLSTATE 40P01); nothing of it
    /// took effect, so it may run again.
    static func isDeadlock(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "40P01"
    }

    /// Opens a pool of up to `poolSize` connections to PostgreSQL. One connection is made first,
    /// directly, so a wrong URL, password or database fails here with the server's reason instead
    /// of queueing requests behind a pool that retries.
    ///
    /// The pool (`PostgresClient`, a `ServiceLifecycle.Service`) runs from here until `close()`:
    /// migrations and operator commands need it before any application exists; `serve` closes it
    /// through its `DatabaseCloser` service after the HTTP server has stopped.
    /// - Parameter queryTimeout: How long a statement may wait for a connection while PostgreSQL
    ///   answers (a burst on a small pool). While it does not (stopped, restarting, cut off), the
    ///   pool keeps retrying and would hold requests a minute: a wait past a second probes the
    ///   server with a connection of its own, and fails the statement as
    ///   ``DatabaseError/unavailable`` (503) when nothing answers.
    static func postgres(url text: String, poolSize: Int, queryTimeout: Duration, logger: Logger) async throws -> Database {
        let url = try PostgresURL(text)
        guard poolSize >= 1 else { throw DatabaseError.badURL("the pool needs at least one connection") }
        let configuration = try url.connectionConfiguration()
        do {
            let probe = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(),
                configuration: configuration,
                id: 0,
                logger: logger
            )
            try await probe.close()
        } catch {
            throw url.explain(error)
        }
        // The pool logs each failed reconnection attempt (several a second while the database is
        // down) and each connection it drops on close: only its errors belong in the server's log;
        // requests that fail meanwhile are logged as they answer 503.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: try url.clientConfiguration(poolSize: poolSize), backgroundLogger: poolLogger)
        let running = Task { await client.run() }
        let watch = LeaseWatch(probe: ReachabilityProbe(url: url, logger: poolLogger))
        let watching = Task { await watch.run() }
        let pool = PostgresPoolSQLDatabase(client: client, logger: logger, statementLogger: poolLogger, timeout: queryTimeout, watch: watch)
        return Database(
            dialect: .postgres,
            writer: pool,
            readers: [pool],
            postgresPool: pool,
            close: {
                watching.cancel()
                running.cancel()
                await running.value
            },
            withDedicated: { body in
                try await pool.leasing { connection in try await body(connection.sql(queryLogLevel: nil)) }
            }
        )
    }
}

extension Database {
    /// Runs a prepared statement (`PostgresValidation`) on one of PostgreSQL's pooled connections,
    /// prepared there at its first use, and timed as every other statement is.
    ///
    /// A server error other than a deadlock closes the connection, so that the pool opens a new
    /// one: postgres-nio keeps a failed preparation's error for the connection's life (a statement
    /// cancelled or timed out while it was prepared would fail every later run there), and
    /// PostgreSQL refuses to run a prepared statement again once a migration changed the type of a
    /// column it returns (SQLSTATE 0A000, an instance still running while another migrates).
    func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] where Statement.Row: Sendable {
        guard let pool = postgresPool else { preconditionFailure("prepared statements are PostgreSQL's") }
        return try await timing {
            try await pool.leasing { connection in
                do {
                    var rows: [Statement.Row] = []
                    for try await row in try await connection.execute(statement, logger: pool.statementLogger) { rows.append(row) }
                    return rows
                } catch let error as PSQLError where error.code == .server && !Database.isDeadlock(error) {
                    try? await connection.close()
                    throw error
                }
            }
        }
    }
}

/// SQLKit over the pool: each statement leases a connection for its own length, so one statement
/// is one round trip (a transaction would need the connection held across statements; the rules
/// need none, see `Database`).
struct PostgresPoolSQLDatabase: SQLDatabase {
    let client: PostgresClient
    let logger: Logger
    /// For the prepared statements run directly on postgres-nio: its errors only, as the pool's.
    let statementLogger: Logger
    let timeout: Duration
    let watch: LeaseWatch

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { PostgresDialect() }
    // SQLKit would log every statement with its bindings (password hashes, sealed keys): never.
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await leasing { connection in try await connection.sql(queryLogLevel: nil).execute(sql: query, onRow) }
    }

    /// Runs `body` on a leased connection, failing as ``DatabaseError/unavailable`` when no
    /// connection comes within the timeout or the connection breaks (the database stopped).
    ///
    /// The lease runs as a task of its own that ``LeaseWatch`` cancels if it is still waiting past
    /// the timeout, or past a second while the server does not answer: one watch for the pool, not
    /// a timer for each statement (a tenth of validate's CPU, issue 19).
    func leasing<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let lease = LeaseWatch.Lease(deadline: ContinuousClock.now.advanced(by: timeout))
        let work = Task {
            try await client.withConnection { connection in
                // Failed while it waited: the caller has its answer; a statement never starts late.
                guard lease.take() else { throw DatabaseError.unavailable }
                return try await body(connection)
            }
        }
        watch.add(lease, cancel: { work.cancel() })
        defer { watch.remove(lease) }
        do {
            return try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            if lease.failed { throw DatabaseError.unavailable }
            throw Self.translate(error)
        }
    }

    /// Connection failures become ``DatabaseError/unavailable``; SQL errors pass through.
    static func translate(_ error: any Error) -> any Error {
        if error is DatabaseError { return error }
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                // Class 08 connection exceptions, 57P01-57P03 shutdown / starting up, 53300 too many connections.
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" ? DatabaseError.unavailable : error
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .sslUnsupported,
                .failedToAddSSLHandler:
                return DatabaseError.unavailable
            default:
                return error
            }
        }
        // The pool's own errors (circuit breaker open, shut down) live in a module of postgres-nio's own.
        if String(reflecting: type(of: error)).contains("ConnectionPoolError") { return DatabaseError.unavailable }
        return error
    }
}

/// The statements waiting for a pooled connection, watched by one task for the whole pool: once a
/// second it fails the leases that have waited past their deadline, or past a second while the
/// server does not answer (``ReachabilityProbe``), so a stopped database answers 503 within about
/// two seconds instead of the pool's minute of retries.
final class LeaseWatch: Sendable {
    /// One statement's wait: `waiting` until the pool hands it a connection (`take`) or the watch
    /// gives up on it (`fail`); whichever comes first decides.
    final class Lease: Sendable {
        enum State: UInt8, AtomicRepresentable { case waiting, leased, failed }

        let started = ContinuousClock.now
        let deadline: ContinuousClock.Instant
        private let state = Atomic<State>(.waiting)

        init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

        /// Claims the connection the pool handed over; false when the watch gave up first.
        func take() -> Bool { state.compareExchange(expected: .waiting, desired: .leased, ordering: .acquiringAndReleasing).exchanged }
        /// Gives up on a lease still waiting; false when it has its connection.
        func fail() -> Bool { state.compareExchange(expected: .waiting, desired: .failed, ordering: .acquiringAndReleasing).exchanged }
        var failed: Bool { state.load(ordering: .acquiring) == .failed }
        var waiting: Bool { state.load(ordering: .acquiring) == .waiting }
    }

    private let leases = Mutex<[ObjectIdentifier: (lease: Lease, cancel: @Sendable () -> Void)]>([:])
    private let probe: ReachabilityProbe

    init(probe: ReachabilityProbe) { self.probe = probe }

    func add(_ lease: Lease, cancel: @escaping @Sendable () -> Void) {
        leases.withLock { $0[ObjectIdentifier(lease)] = (lease, cancel) }
    }

    func remove(_ lease: Lease) {
        _ = leases.withLock { $0.removeValue(forKey: ObjectIdentifier(lease)) }
    }

    /// Runs until cancelled (the pool closes).
    func run() async {
        while (try? await Task.sleep(for: .seconds(1))) != nil {
            await check(at: .now)
        }
    }

    /// Fails what has waited too long: past its deadline, or past a second with the server away.
    func check(at now: ContinuousClock.Instant) async {
        let stuck = leases.withLock { $0.values.filter { $0.lease.waiting && $0.lease.started.duration(to: now) >= .seconds(1) } }
        // The late ones first: they need no probe, which may take its 2 s to fail.
        for (lease, cancel) in stuck where now >= lease.deadline && lease.fail() { cancel() }
        let early = stuck.filter { $0.lease.waiting }
        guard !early.isEmpty, !(await probe.reachable()) else { return }
        for (lease, cancel) in early where lease.fail() { cancel() }
    }
}

/// Tells a busy pool from an unreachable server: a connection of its own, made at most once a
/// second however many requests ask, shared by all of them.
final class ReachabilityProbe: Sendable {
    private struct State {
        var checked: ContinuousClock.Instant?
        var reachable = true
        var running: Task<Bool, Never>?
    }

    private let url: PostgresURL
    private let logger: Logger
    private let state = Mutex(State())

    init(url: PostgresURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    func reachable() async -> Bool {
        let now = ContinuousClock.now
        let task: Task<Bool, Never> = state.withLock { state in
            if let running = state.running { return running }
            if let checked = state.checked, checked.duration(to: now) < .seconds(1) {
                let answer = state.reachable
                return Task { answer }
            }
            let (url, logger) = (url, logger)
            let running = Task {
                do {
                    var configuration = try url.connectionConfiguration()
                    configuration.options.connectTimeout = .seconds(2)
                    let connection = try await PostgresConnection.connect(
                        on: MultiThreadedEventLoopGroup.singleton.any(),
                        configuration: configuration,
                        id: 0,
                        logger: logger
                    )
                    try? await connection.close()
                    return true
                } catch {
                    // Only a definite "nothing answers" (refused, shutting down) counts. A connection
                    // that timed out is what a machine too busy to answer its own loopback in time
                    // looks like too (seen under test load): the statement's own deadline covers it.
                    if let psql = error as? PSQLError, let underlying = psql.underlying as? ChannelError,
                        case .connectTimeout = underlying
                    {
                        return true
                    }
                    return !url.explain(error).isUnavailable
                }
            }
            state.running = running
            return running
        }
        let answer = await task.value
        state.withLock { state in
            if state.running == task {
                state.running = nil
                state.checked = ContinuousClock.now
                state.reachable = answer
            }
        }
        return answer
    }
}

extension Database {
    /// Which database a URL names, for the start-up line: `SQLite at PATH` or `PostgreSQL at
    /// HOST:PORT/NAME`, never the password.
    public static func describe(url: String) -> String {
        if url.hasPrefix("sqlite:") { return "SQLite at " + url.dropFirst("sqlite:".count) }
        guard let parsed = try? PostgresURL(url) else { return "an unreadable database URL" }
        return parsed.description + (parsed.database.map { "/" + $0 } ?? "")
    }
}
