import Foundation
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import Testing
import TwoStepTestSupport

@testable import TwoStepStore

/// PostgreSQL as several instances use it: two `Database`s (two pools, as two `twostep serve`
/// processes have) on one schema. The rules that are one conditional statement must hold across
/// them; so must the SMS limits, which count then insert. Skipped unless
/// `TWOSTEP_TEST_POSTGRES_URL` names a server (CI always sets it).
@Suite("PostgreSQL store", .enabled(if: TestDatabase.postgresURL != nil, "set TWOSTEP_TEST_POSTGRES_URL to run"))
struct PostgresStoreTests {
    /// Two instances' stores on one fresh schema.
    static func withTwoInstances(
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (SQLStore, SQLStore) async throws -> Void
    ) async throws {
        let url = try await TestDatabase.freshPostgresURL()
        let first = try await Database.open(url: url, poolSize: 8, logger: Logger(label: "test"))
        let second: Database
        do {
            second = try await Database.open(url: url, poolSize: 8, logger: Logger(label: "test"))
        } catch {
            try? await first.close()
            throw error
        }
        do {
            // Both start at once, as two instances deployed together do: one migrates, the other waits.
            async let a = first.migrate()
            async let b = second.migrate()
            let applied = try await [a, b]
            #expect(
                applied.filter(\.isEmpty).count == 1 && applied.contains { !$0.isEmpty },
                "exactly one instance migrated: \(applied)",
                sourceLocation: sourceLocation
            )
            try await body(SQLStore(database: first), SQLStore(database: second))
        } catch {
            try? await first.close()
            try? await second.close()
            throw error
        }
        try await first.close()
        try await second.close()
    }

    static func factor(_ store: SQLStore, email: String = "a@example.com") async throws -> (User, Factor) {
        let user = try await store.createUser(email: email, passwordHash: "h", at: 1)
        return (user, try await SQLStoreTests.appFactor(store, userID: user.id))
    }

    /// RFC 6238 §5.2 across instances: 40 claims of one step, half on each instance, one wins.
    @Test func aStepIsClaimedOnceAcrossInstances() async throws {
        try await Self.withTwoInstances { a, b in
            let (_, factor) = try await Self.factor(a)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<40 { group.addTask { try await (index % 2 == 0 ? a : b).claimStep(100, factorID: factor.id) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await b.claimStep(100, factorID: factor.id) == false)
            #expect(try await a.claimStep(101, factorID: factor.id) == true)
        }
    }

    /// Issue 19: concurrent claims go in one statement per instance (`StatementBatcher`). Each
    /// factor's step is still decided once, across instances; a batch answers each claim for
    /// itself (a factor whose budget has a row loses, the others in its batch win); and two
    /// instances batching the same factors at once never deadlock (rows are locked in id order).
    @Test func batchedClaimsDecideEachFactorOnceAcrossInstances() async throws {
        try await Self.withTwoInstances { a, b in
            var factors: [(user: User, factor: Factor)] = []
            for index in 0..<12 { factors.append(try await Self.factor(a, email: "u\(index)@example.com")) }
            let blocked = factors[5]
            #expect(try await a.replaceThrottleState(key: "code:\(blocked.user.id)", expected: nil, new: "1;5;5", at: 5))
            for step in Int64(100)..<Int64(110) {
                let wins = try await withThrowingTaskGroup(of: (Int64, Bool).self) { group in
                    for round in 0..<4 {
                        // Both instances, each factor four times, in opposite orders.
                        for (index, pair) in (round % 2 == 0 ? factors : factors.reversed()).enumerated() {
                            let store = (index + round) % 2 == 0 ? a : b
                            group.addTask {
                                let won = try await store.claimStep(step, factorID: pair.factor.id, unlessBudgetHasRow: "code:\(pair.user.id)")
                                return (pair.factor.id, won)
                            }
                        }
                    }
                    return try await group.reduce(into: [Int64: Int]()) { wins, claim in wins[claim.0, default: 0] += claim.1 ? 1 : 0 }
                }
                for (user, factor) in factors {
                    #expect(wins[factor.id] == (user.id == blocked.user.id ? 0 : 1), "step \(step), factor \(factor.id)")
                }
            }
            #expect(try await b.claimStep(109, factorID: factors[0].factor.id, unlessBudgetHasRow: "code:\(factors[0].user.id)") == false)
        }
    }

    /// Issue 19: validate's batched statements reach each row through its index, whatever the
    /// batch and the tables. With `email = ANY(…)` and `IN`, PostgreSQL read every user of a
    /// 10,000-user table for a batch of 64 names (425 rows read a check under load); with
    /// `NOT EXISTS`, a claim read the whole of `throttles` into a hash.
    @Test func batchedStatementsReadOnlyTheRowsTheyName() async throws {
        try await Self.withTwoInstances { store, _ in
            let sql = store.database.writer
            let key = try await store.createAPIKey(name: "vpn", keyHash: "v", scopes: [.validate], reach: .own, at: 1)
            try await sql.raw(
                """
                INSERT INTO users (email, password_hash, created_at, api_key_id, external_id)
                SELECT 'u' || i || '@example.com', 'h', 1, CASE WHEN i % 2 = 0 THEN NULL ELSE \(bind: key.id) END, 'x' || i
                FROM generate_series(1, 10000) AS i
                """
            ).run()
            try await sql.raw(
                "INSERT INTO factors (user_id, kind, sealed_secret, algorithm, digits, period, created_at, confirmed_at) SELECT id, 'totp', 's', 'SHA1', 6, 30, 1, 1 FROM users"
            ).run()
            // Every third account has failures on record.
            try await sql.raw("INSERT INTO throttles (key, state, updated_at) SELECT 'code:' || id, '1;5;5', 1 FROM users WHERE id % 3 = 0").run()
            try await sql.raw("ANALYZE users, factors, throttles").run()
            // On one pooled connection, as validate runs them: prepared once, then planned for the
            // values given (PostgreSQL's first five runs) or once for all (its generic plan).
            let pool = try #require(store.database.postgresPool)
            try await pool.leasing { connection in
                func query(_ text: String) async throws -> [PostgresRow] { try await connection.simpleQuery(text).get() }
                func array(_ values: [some CustomStringConvertible]) -> String { "'{\(values.map(\.description).joined(separator: ","))}'" }
                /// The table rows a run reads, by PostgreSQL's own count (`EXPLAIN ANALYZE`, rolled back).
                func rowsRead(_ run: String) async throws -> (count: Int, plan: String) {
                    _ = try await query("BEGIN")
                    let plan = try await query("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE " + run).compactMap {
                        $0.makeRandomAccess()["QUERY PLAN"].bytes.map { String(buffer: $0) }
                    }.joined()
                    _ = try await query("ROLLBACK")
                    var count = 0
                    func add(_ node: [String: Any]) {
                        if node["Relation Name"] != nil, node["Node Type"] as? String != "ModifyTable" {
                            let rows = ["Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck"].map { node[$0] as? Int ?? 0 }
                            count += rows.reduce(0, +) * (node["Actual Loops"] as? Int ?? 1)
                        }
                        for child in node["Plans"] as? [[String: Any]] ?? [] { add(child) }
                    }
                    for root in try JSONSerialization.jsonObject(with: Data(plan.utf8)) as? [[String: Any]] ?? [] {
                        add(root["Plan"] as? [String: Any] ?? [:])
                    }
                    return (count, plan)
                }
                _ = try await query("PREPARE lookup AS " + PostgresValidation.Lookup.sql)
                _ = try await query("PREPARE claim AS " + PostgresValidation.Claim.sql)
                for mode in ["force_custom_plan", "force_generic_plan"] {
                    _ = try await query("SET plan_cache_mode = " + mode)
                    for count in [1, 12, 64, 200] {
                        // Besides the accounts: a name nobody has, a name twice, and user 1 by both its names.
                        let emails = (0..<count).map { "u\($0 * 40 + 2)@example.com" } + ["nobody@example.com", "u2@example.com", "u1@example.com"]
                        let external = (0..<count).map { "x\($0 * 40 + 1)" } + ["nobody"]
                        for (emails, external, accounts) in [(emails, [], count + 1), ([], external, count), (emails, external, 2 * count)] {
                            let run = "lookup(\(array(emails)), \(array(external.map { _ in key.id })), \(array(external)))"
                            let read = try await rowsRead(run)
                            // Each name through its index, then a user by its id, then its one factor.
                            #expect(
                                read.count <= 3 * (emails.count + external.count),
                                "\(mode), \(emails.count) + \(external.count) names:\n\(read.plan)"
                            )
                            #expect(try await query("EXECUTE " + run).count == accounts)
                        }
                        let factors = try await query("SELECT id, user_id FROM factors ORDER BY id LIMIT \(count)").map {
                            (id: try $0.sql().decode(column: "id", as: Int64.self), userID: try $0.sql().decode(column: "user_id", as: Int64.self))
                        }
                        let run =
                            "claim(\(array(factors.map(\.id))), \(array(factors.map { _ in 100 })),"
                            + " \(array(factors.map { "code:\($0.userID)" })))"
                        let read = try await rowsRead(run)
                        #expect(read.count <= 2 * count, "\(mode), \(count) claims:\n\(read.plan)")
                        let won = Set(try await query("EXECUTE " + run).map { try $0.sql().decode(column: "id", as: Int64.self) })
                        #expect(won == Set(factors.filter { $0.userID % 3 != 0 }.map(\.id)))
                        _ = try await query("UPDATE factors SET last_used_step = NULL")
                    }
                }
                for statement in ["DEALLOCATE lookup", "DEALLOCATE claim", "RESET plan_cache_mode"] { _ = try await query(statement) }
            }
        }
    }

    /// A prepared statement that PostgreSQL can no longer run on a connection (a migration changed
    /// the type of a column it returns, while this instance kept running) fails once: its
    /// connection is closed, and the next run prepares it on a new one.
    @Test func aPreparedStatementBrokenByAMigrationRecoversOnANewConnection() async throws {
        let database = try await Database.open(url: try await TestDatabase.freshPostgresURL(), poolSize: 1, logger: Logger(label: "test"))
        do {
            try await database.migrate()
            let store = SQLStore(database: database)
            _ = try await Self.factor(store)
            #expect(try await store.userWithConfirmedFactors(email: "a@example.com")?.0.email == "a@example.com")
            try await database.writer.raw("ALTER TABLE users ALTER COLUMN external_id TYPE varchar(200)").run()
            await #expect(throws: (any Error).self) { try await store.userWithConfirmedFactors(email: "a@example.com") }
            #expect(try await store.userWithConfirmedFactors(email: "a@example.com")?.0.email == "a@example.com")
            #expect(try await store.userWithConfirmedFactors(email: "a@example.com")?.0.email == "a@example.com")
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
    }

    @Test func aRecoveryCodeIsUsedOnceAcrossInstances() async throws {
        try await Self.withTwoInstances { a, b in
            let (user, _) = try await Self.factor(a)
            try await a.replaceRecoveryCodes(userID: user.id, codes: [(hash: "h1", sealed: "s1"), (hash: "h2", sealed: "s2")], at: 1)
            let code = try #require(try await b.recoveryCodes(userID: user.id).first)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<40 { group.addTask { try await (index % 2 == 0 ? a : b).consumeRecoveryCode(id: code.id, at: 5) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await a.recoveryCodes(userID: user.id).filter { $0.usedAt != nil }.count == 1)
        }
    }

    /// Lockout budgets are compare-and-swap rows: of concurrent reservations on both instances,
    /// exactly one moves the state on, so wrong codes on any instance add up.
    @Test func attemptBudgetsAreSwappedOnceAcrossInstances() async throws {
        try await Self.withTwoInstances { a, b in
            func race(expected: String?, new: String) async throws -> Int {
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<40 {
                        group.addTask { try await (index % 2 == 0 ? a : b).replaceThrottleState(key: "code:1", expected: expected, new: new, at: 10) }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
            }
            #expect(try await race(expected: nil, new: "1") == 1, "the first attempt")
            #expect(try await race(expected: "1", new: "2") == 1, "the next")
            #expect(try await b.throttleState(key: "code:1") == "2")
            try await a.deleteThrottles(prefix: "code:", updatedBefore: 11)
            #expect(try await b.throttleState(key: "code:1") == nil, "swept by prefix")
        }
    }

    /// The SMS limits count, then insert. Without the advisory lock, concurrent sends on
    /// PostgreSQL all counted the same rows and all went out; with it, each limit holds across
    /// instances: one a minute per account, and the server-wide budget.
    @Test func smsLimitsHoldAcrossInstances() async throws {
        try await Self.withTwoInstances { a, b in
            var limits = SMSLimits()
            limits.cooldown = 60
            let cooldown = limits
            let oneAccount = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await (index % 2 == 0 ? a : b).recordSMSSend(
                            userID: 7,
                            phone: "+31612345678",
                            purpose: "sign_in",
                            at: 1_000,
                            limits: cooldown
                        )
                            == nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(oneAccount == 1)

            limits.cooldown = 0
            limits.perAccountPerHour = 1_000
            limits.perPhonePerDay = 1_000
            limits.serverPerHour = 7
            let budget = limits
            let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        try await (index % 2 == 0 ? a : b).recordSMSSend(
                            userID: Int64(index % 20),
                            phone: "+3161234\(1000 + index)",
                            purpose: "sign_in",
                            at: 2_000,
                            limits: budget
                        ) == nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(recorded == 6, "7 an hour, one already sent")
        }
    }

    /// A fresh schema has no tables: migrating it twice applies every step once.
    @Test func migrationsCreateTheSchema() async throws {
        let url = try await TestDatabase.freshPostgresURL()
        let database = try await Database.open(url: url, logger: Logger(label: "test"))
        let applied = try await database.migrate()
        #expect(applied == Array(1...applied.count) && applied.count >= 4)
        #expect(try await database.migrate() == [])
        let tables = try await database.sql.raw(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
        ).all(decodingColumn: "table_name", as: String.self)
        #expect(tables.contains("users") && tables.contains("factors") && tables.contains("schema_migrations"))
        try await database.close()
    }

    // MARK: Bad input: one clear line, never the password

    static func openError(_ url: String, sourceLocation: SourceLocation = #_sourceLocation) async -> String {
        do {
            let database = try await Database.open(url: url, logger: Logger(label: "test"))
            try? await database.close()
            Issue.record("opened \(url)", sourceLocation: sourceLocation)
            return ""
        } catch {
            let text = String(describing: error)
            #expect(!text.contains("\n"), "one line: \(text)", sourceLocation: sourceLocation)
            return text
        }
    }

    /// The test server's URL with one part changed.
    static func variant(sourceLocation: SourceLocation = #_sourceLocation, _ change: (inout URLComponents) -> Void) throws -> String {
        let base = try #require(TestDatabase.postgresURL, sourceLocation: sourceLocation)
        var parts = try #require(URLComponents(string: base), sourceLocation: sourceLocation)
        change(&parts)
        return try #require(parts.string, sourceLocation: sourceLocation)
    }

    @Test func aWrongPasswordIsNamedWithoutThePassword() async throws {
        let message = await Self.openError(try Self.variant { $0.password = "Wr0ng-Secret-x" })
        #expect(message.contains("password authentication failed"), "\(message)")
        #expect(!message.contains("Wr0ng-Secret-x"))
    }

    @Test func aMissingDatabaseIsNamed() async throws {
        let message = await Self.openError(try Self.variant { $0.path = "/no_such_database" })
        #expect(message.contains("database \"no_such_database\" does not exist"), "\(message)")
    }

    @Test func nothingListeningIsNamed() async throws {
        // The discard port: nothing listens there on this machine.
        let message = await Self.openError(try Self.variant { $0.port = 9 })
        #expect(message.contains("cannot reach PostgreSQL at 127.0.0.1:9"), "\(message)")
        #expect(!message.contains("twostep-test"))
    }

    @Test func badURLsAreNamed() async throws {
        #expect(await Self.openError("postgres://127.0.0.1/db").contains("no user name"))
        #expect(await Self.openError("postgres://u:Secret-1@127.0.0.1/db?sslmode=sometimes").contains("sslmode must be"))
        #expect(await !Self.openError("postgres://u:Secret-1@127.0.0.1/db?sslmode=sometimes").contains("Secret-1"))
        #expect(await Self.openError("postgres://u:p@127.0.0.1/db?colour=blue").contains("unknown parameter 'colour'"))
        for timeout in ["0", "301", "ten", ""] {
            #expect(await Self.openError("postgres://u:p@127.0.0.1/db?connect_timeout=\(timeout)").contains("connect_timeout must be"))
        }
    }

    @Test func aConnectTimeoutIsReadInSeconds() throws {
        #expect(try PostgresURL("postgres://u:p@127.0.0.1/db").connectTimeout == 5)
        #expect(try PostgresURL("postgres://u:p@127.0.0.1/db?sslmode=disable&connect_timeout=30").connectTimeout == 30)
    }

    // MARK: TLS (the test cluster offers it with a certificate for "localhost" from a CA of its own)

    /// That CA's PEM file: `.ci/postgres` makes it beside the cluster, CI names it.
    static var testCA: String? {
        ProcessInfo.processInfo.environment["TWOSTEP_TEST_POSTGRES_CA"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The test server's URL asking for TLS (`sslmode=require`), trusting `ca` if given.
    static func tlsURL(host: String? = nil, ca: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try variant(sourceLocation: sourceLocation) { parts in
            if let host { parts.host = host }
            parts.queryItems = [URLQueryItem(name: "sslmode", value: "require")] + (ca.map { [URLQueryItem(name: "sslrootcert", value: $0)] } ?? [])
        }
    }

    @Test(.enabled(if: testCA != nil, "set TWOSTEP_TEST_POSTGRES_CA to run"))
    func tlsWithTheServersCAEncryptsEveryConnection() async throws {
        let database = try await Database.open(url: try Self.tlsURL(host: "localhost", ca: Self.testCA), poolSize: 2, logger: Logger(label: "test"))
        let encrypted = try await database.sql.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .first(decodingColumn: "ssl", as: Bool.self)
        try await database.close()
        #expect(encrypted == true)
    }

    /// `sslmode=require` verifies (libpq's does not): a certificate no trusted CA signed is a
    /// man in the middle as far as TwoStep can tell.
    @Test(.enabled(if: testCA != nil, "set TWOSTEP_TEST_POSTGRES_CA to run"))
    func aCertificateFromAnUnknownCAIsRefused() async throws {
        let message = await Self.openError(try Self.tlsURL(host: "localhost", ca: nil))
        #expect(message.contains("not signed by a CA this machine trusts") && message.contains("sslrootcert"), "\(message)")
        #expect(!message.contains("twostep-test"))
    }

    @Test(.enabled(if: testCA != nil, "set TWOSTEP_TEST_POSTGRES_CA to run"))
    func aCertificateForAnotherHostIsRefused() async throws {
        // The certificate names "localhost"; 127.0.0.1 is the same server under another name.
        let message = await Self.openError(try Self.tlsURL(host: "127.0.0.1", ca: Self.testCA))
        #expect(message.contains("certificate is not for the host name 127.0.0.1"), "\(message)")
    }

    /// A pool of one connection, held by a transaction for `holding` seconds while `body` runs.
    /// - Parameter afterwards: Runs once the transaction has ended and the connection is free again.
    static func withBusyPool(
        queryTimeout: Duration,
        holding seconds: Double,
        _ body: (Database) async throws -> Void,
        afterwards: (Database) async throws -> Void = { _ in }
    ) async throws {
        let url = try await TestDatabase.freshPostgresURL()
        let database = try await Database.open(url: url, poolSize: 1, queryTimeout: queryTimeout, logger: Logger(label: "test"))
        do {
            // The pool's one connection is made first (slow under a loaded test run, when the
            // short timeout could fail it), then held.
            for attempt in 1...10 {
                do {
                    try await database.sql.raw("CREATE TABLE IF NOT EXISTS late_statements (n INTEGER)").run()
                    break
                } catch let error as DatabaseError where error.isUnavailable && attempt < 10 {}
            }
            let (holding, started) = AsyncStream.makeStream(of: Void.self)
            async let held: Void = database.transaction { sql in
                started.yield()
                try await sql.raw("SELECT pg_sleep(\(literal: seconds))").run()
            }
            for await _ in holding { break }
            try await body(database)
            try await held
            try await afterwards(database)
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
    }

    /// A statement waits for a busy pool only up to its timeout (503, not the pool's minute of
    /// retries), and never starts late: once the connection is free, the statement given up on has
    /// not run.
    @Test func aWaitForABusyPoolEndsAtTheTimeout() async throws {
        try await Self.withBusyPool(queryTimeout: .seconds(1), holding: 4) { database in
            let clock = ContinuousClock()
            let started = clock.now
            await #expect(throws: DatabaseError.unavailable) { try await database.sql.raw("INSERT INTO late_statements VALUES (1)").run() }
            let waited = started.duration(to: clock.now)
            #expect(waited >= .milliseconds(900) && waited < .milliseconds(3_500), "waited \(waited)")
        } afterwards: { database in
            let count = try await database.sql.raw("SELECT COUNT(*) AS n FROM late_statements").first(decodingColumn: "n", as: Int.self)
            #expect(count == 0, "the statement given up on never ran")
        }
    }

    /// While the server answers, a wait shorter than the timeout is only a wait.
    @Test func aWaitWithinTheTimeoutIsServed() async throws {
        try await Self.withBusyPool(queryTimeout: .seconds(30), holding: 2.5) { database in
            let clock = ContinuousClock()
            let started = clock.now
            let one = try await database.sql.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self)
            #expect(one == 1)
            #expect(started.duration(to: clock.now) >= .seconds(2), "served only after the transaction ended")
        }
    }

    /// A request given up while it waits (the client went away) stops waiting at once and leaves
    /// the pool as it was.
    @Test func aCancelledWaitEndsAndLeavesThePoolWorking() async throws {
        try await Self.withBusyPool(queryTimeout: .seconds(30), holding: 2) { database in
            let clock = ContinuousClock()
            let waiting = Task { try await database.sql.raw("SELECT 1").run() }
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = clock.now
            waiting.cancel()
            await #expect(throws: (any Error).self) { try await waiting.value }
            #expect(cancelled.duration(to: clock.now) < .seconds(1), "the wait ended with the cancellation")
            let one = try await database.sql.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self)
            #expect(one == 1)
        }
    }

    @Test func anUnreadableCAFileIsNamed() async throws {
        let message = await Self.openError("postgres://u:Secret-1@127.0.0.1/db?sslmode=require&sslrootcert=/no/such/ca.pem")
        #expect(message.contains("sslrootcert /no/such/ca.pem is not a readable PEM file"), "\(message)")
    }
}
