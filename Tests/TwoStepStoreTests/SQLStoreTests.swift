import Foundation
import Logging
import SQLKit
import Testing
import TwoStepTestSupport

@testable import TwoStepStore

/// The store against a real SQLite file (WAL, several connections), as the server uses it.
@Suite("SQL store")
struct SQLStoreTests {
    /// An authenticator app for the account, not yet confirmed.
    static func appFactor(_ store: SQLStore, userID: Int64) async throws -> Factor {
        try await store.createFactor(userID: userID, kind: .totp, sealedSecret: "s", phone: nil, algorithm: "SHA1", digits: 6, period: 30, at: 1)
    }

    static func withStore(_ body: (SQLStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try await TestDatabase.url(sqlitePath: directory.appendingPathComponent("t.sqlite").path)
        let database = try await Database.open(url: url, poolSize: 4, logger: Logger(label: "test"))
        try await database.migrate()
        do {
            try await body(SQLStore(database: database))
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
    }

    @Test func migrationsRunOnce() async throws {
        try await Self.withStore { store in
            #expect(try await store.database.migrate() == [], "already applied")
            let versions = try await store.database.sql.raw("SELECT version FROM schema_migrations").all(decodingColumn: "version", as: Int.self)
            #expect(versions == Array(1...versions.count), "every step, in order")
            guard store.database.dialect == .sqlite else { return }
            let mode = try await store.database.sql.raw("PRAGMA journal_mode").first(decodingColumn: "journal_mode", as: String.self)
            #expect(mode == "wal")
        }
    }

    @Test func unsupportedURLsAreRefused() async throws {
        await #expect(throws: StoreError.self) { try await Database.open(url: "mysql://x", logger: Logger(label: "test")) }
    }

    @Test func emailsAreUnique() async throws {
        try await Self.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            #expect(user.id == 1 && user.createdAt == 1)
            await #expect(throws: StoreError.duplicate) { try await store.createUser(email: "a@example.com", passwordHash: "h2", at: 2) }
            #expect(try await store.user(email: "a@example.com")?.passwordHash == "h")
        }
    }

    /// Rows are read column by column (issue 19): every column lands in its own field, the joined
    /// validate lookup reads what the plain reads do, and a stored name this version does not know
    /// fails closed: a role grants nothing, an unknown origin or factor kind is an error.
    @Test func rowsAreReadAsStoredAndUnknownNamesFailClosed() async throws {
        try await Self.withStore { store in
            let (user, factor) = try await PostgresStoreTests.factor(store)
            let key = try await store.createAPIKey(name: "k", keyHash: "kh", scopes: [.validate], reach: .all, at: 1)
            let writer = store.database.writer
            try await writer.raw(
                """
                UPDATE users SET origin = 'import', api_key_id = \(bind: key.id), external_id = 'ext-7', enrolment_required = 1,
                email_verified_at = 11, role = 'support', two_factor_grace_from = 13 WHERE id = \(bind: user.id)
                """
            ).run()
            try await writer.raw(
                """
                UPDATE factors SET phone = '+31612345678', algorithm = 'SHA256', digits = 8, period = 60, last_used_step = 7,
                confirmed_at = 2 WHERE id = \(bind: factor.id)
                """
            ).run()

            let read = try #require(try await store.user(id: user.id))
            #expect(read.id == user.id)
            #expect(read.email == "a@example.com")
            #expect(read.passwordHash == "h")
            #expect(read.createdAt == 1)
            #expect(read.origin == .import)
            #expect(read.apiKeyID == key.id)
            #expect(read.externalID == "ext-7")
            #expect(read.enrolmentRequired)
            #expect(read.emailVerifiedAt == 11)
            #expect(read.role == .support)
            #expect(read.twoFactorGraceFrom == 13)
            let stored = try #require(try await store.factors(userID: user.id).first)
            #expect(stored.id == factor.id)
            #expect(stored.userID == user.id)
            #expect(stored.kind == .totp)
            #expect(stored.sealedSecret == "s")
            #expect(stored.phone == "+31612345678")
            #expect(stored.algorithm == "SHA256")
            #expect(stored.digits == 8)
            #expect(stored.period == 60)
            #expect(stored.lastUsedStep == 7)
            #expect(stored.createdAt == 1)
            #expect(stored.confirmedAt == 2)
            let byEmail = try #require(try await store.userWithConfirmedFactors(email: "a@example.com"))
            #expect(byEmail.0 == read && byEmail.1 == [stored])
            let byID = try #require(try await store.userWithConfirmedFactors(apiKeyID: key.id, externalID: "ext-7"))
            #expect(byID.0 == read && byID.1 == [stored])

            try await writer.raw("UPDATE users SET role = 'superuser' WHERE id = \(bind: user.id)").run()
            #expect(try await store.user(id: user.id)?.role == AccountRole.none)
            try await writer.raw("UPDATE users SET origin = 'carrier_pigeon' WHERE id = \(bind: user.id)").run()
            await #expect(throws: DecodingError.self) { try await store.user(id: user.id) }
            try await writer.raw("UPDATE users SET origin = NULL WHERE id = \(bind: user.id)").run()
            #expect(try await store.user(id: user.id)?.origin == nil)
            try await writer.raw("UPDATE factors SET kind = 'carrier_pigeon' WHERE id = \(bind: factor.id)").run()
            await #expect(throws: DecodingError.self) { try await store.factors(userID: user.id) }
            await #expect(throws: DecodingError.self) { try await store.userWithConfirmedFactors(email: "a@example.com") }
        }
    }

    /// Issue 19: an event nobody is mailed about (a wrong code, every check of an attack) is recorded
    /// as needing no alert, and so is an import's (no confirmed address yet): the alert dispatcher
    /// reads only what it may mail. All of them stay in the audit trail.
    @Test func onlyEventsThatMayAlertAreLeftForTheDispatcher() async throws {
        try await Self.withStore { plain in
            let store = SQLStore(database: plain.database, alerting: [.passwordChanged, .twoFactorEnabled])
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            try await store.recordEvent(userID: user.id, kind: .secondFactorFailed, detail: "wrong code", at: 2)
            try await store.recordEvent(userID: user.id, kind: .passwordChanged, detail: "", at: 3)
            let key = Array(repeating: UInt8(1), count: 20)
            let imported = UserImport(email: "b@example.com", passwordHash: "", secret: key, algorithm: "SHA1", digits: 6, period: 30)
            #expect(try await store.importUsers([imported], seal: { _, _ in "s" }, eventDetail: "imported", at: 4) == 1)

            #expect(try await store.claimEventsForAlerts(limit: 50).map(\.kind) == [.passwordChanged])
            #expect(try await store.claimEventsForAlerts(limit: 50).isEmpty)
            let trail = try await store.auditEvents(userID: nil, since: nil, beforeID: nil, limit: 10).map(\.kind)
            #expect(trail == ["two_factor_enabled", "password_changed", "second_factor_failed"])
        }
    }

    /// An event's eleven values are bound by position in a fixed text (`Database.rows(fixed:)`):
    /// each must land in its own column, the account's and the request's alike.
    @Test func anEventKeepsEachValueInItsColumn() async throws {
        try await Self.withStore { plain in
            let store = SQLStore(database: plain.database, alerting: [.passwordChanged])
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            let trace = RequestTrace(requestID: "req-1", userAgent: "agent/1")
            trace.identify(apiKeyName: "shop")
            try await RequestOrigin.$clientAddress.withValue("192.0.2.7") {
                try await RequestOrigin.$trace.withValue(trace) {
                    try await store.recordEvent(userID: user.id, kind: .secondFactorFailed, detail: "wrong code", outcome: .failure, at: 42)
                }
            }
            try await store.recordEvent(userID: user.id, kind: .passwordChanged, detail: "", outcome: .success, at: 43)
            try await store.recordEvent(userID: nil, kind: .passwordChanged, detail: "operator", outcome: .refused, at: 44)
            let events = try await store.auditEvents(userID: nil, since: nil, beforeID: nil, limit: 10)
            try #require(events.count == 3)
            let failed = events[2]
            #expect(failed.userID == user.id && failed.email == "a@example.com")
            #expect(failed.kind == "second_factor_failed" && failed.detail == "wrong code" && failed.createdAt == 42)
            #expect(failed.clientAddress == "192.0.2.7" && failed.userAgent == "agent/1" && failed.requestID == "req-1")
            #expect(failed.actorKind == "api_key" && failed.actorName == "shop" && failed.outcome == "failure")
            let changed = events[1]
            #expect(changed.userID == user.id && changed.kind == "password_changed" && changed.createdAt == 43)
            #expect(changed.actorKind == "system" && changed.clientAddress.isEmpty && changed.requestID.isEmpty)
            #expect(events[0].userID == nil && events[0].detail == "operator" && events[0].outcome == "refused")
            // Only the account's event that may alert is left for the dispatcher (`alert_state` NULL).
            #expect(try await store.claimEventsForAlerts(limit: 10).map(\.createdAt) == [43])
        }
    }

    /// `Database.rows(fixed:)` binds `$n` by position on PostgreSQL and by first appearance on
    /// SQLite: its check counts the values of a text on which the two agree, and refuses the rest.
    @Test func fixedTextsNumberTheirValuesInOrder() {
        #expect(Database.valueCount("UPDATE t SET a = $1, b = $2 WHERE c = $3 AND d = $1") == 3)
        #expect(Database.valueCount("SELECT 1") == 0)
        #expect(Database.valueCount("SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11") == 11)
        for misnamed in ["UPDATE t SET a = $2 WHERE b = $1", "SELECT $1, $3", "SELECT '$'", "SELECT $0", "SELECT $01", "SELECT $1a", "SELECT a$1"] {
            #expect(Database.valueCount(misnamed) == nil, "\(misnamed)")
        }
    }

    /// RFC 6238 §5.2 across instances: 50 concurrent claims of one step on several connections, one wins.
    @Test func claimingAStepIsAtomic() async throws {
        try await Self.withStore { store in
            let (_, factor) = try await PostgresStoreTests.factor(store)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<50 { group.addTask { try await store.claimStep(100, factorID: factor.id) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await store.claimStep(100, factorID: factor.id) == false, "the same step again")
            #expect(try await store.claimStep(99, factorID: factor.id) == false, "an earlier step")
            #expect(try await store.claimStep(101, factorID: factor.id) == true, "the next step")
        }
    }

    /// Issue 19's claim without a reservation: only while the budget has no row, in one statement.
    /// Concurrent claims and reservations: a claim never lands after a reservation it raced.
    @Test func claimingWithoutAReservationNeedsAnEmptyBudget() async throws {
        try await Self.withStore { store in
            let (user, factor) = try await PostgresStoreTests.factor(store)
            let budget = "code:\(user.id)"
            #expect(try await store.claimStep(100, factorID: factor.id, unlessBudgetHasRow: budget) == true)
            #expect(try await store.claimStep(100, factorID: factor.id, unlessBudgetHasRow: budget) == false, "a replay")
            #expect(try await store.replaceThrottleState(key: budget, expected: nil, new: "1;5;5", at: 5))
            #expect(try await store.claimStep(101, factorID: factor.id, unlessBudgetHasRow: budget) == false, "a failure is counted")
            #expect(try await store.claimStep(101, factorID: factor.id, unlessBudgetHasRow: "code:0") == true, "another budget is not")
            try await store.deleteThrottles(keys: [budget])

            // Each round: 20 claims of one step race one reservation. Whichever lands first decides:
            // a claim after the reservation fails, and at most one claim wins.
            for step in Int64(200)..<Int64(220) {
                let (wins, reserved) = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                    for _ in 0..<20 {
                        group.addTask { (try await store.claimStep(step, factorID: factor.id, unlessBudgetHasRow: budget) ? 1 : 0, false) }
                    }
                    group.addTask { (0, try await store.replaceThrottleState(key: budget, expected: nil, new: "1;5;5", at: 5)) }
                    return try await group.reduce((0, false)) { ($0.0 + $1.0, $0.1 || $1.1) }
                }
                #expect(wins <= 1 && reserved)
                #expect(try await store.claimStep(step + 1000, factorID: factor.id, unlessBudgetHasRow: budget) == false)
                try await store.deleteThrottles(keys: [budget])
            }
        }
    }

    /// A statement that meets another connection's write lock (a bulk import's transaction) waits
    /// for it and lands after, instead of failing.
    @Test func aWriteWaitsForAnotherConnectionsTransaction() async throws {
        try await Self.withStore { store in
            guard store.database.dialect == .sqlite else { return }
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            let (holding, hold) = AsyncStream.makeStream(of: Void.self)
            async let bulk: Void = store.database.transaction { sql in
                try await sql.raw("INSERT INTO throttles (key, state, updated_at) VALUES ('bulk', 'x', 1)").run()
                hold.yield()
                try await Task.sleep(for: .milliseconds(300))
            }
            for await _ in holding { break }
            let started = ContinuousClock.now
            #expect(try await store.replaceThrottleState(key: "code:\(user.id)", expected: nil, new: "1;5;5", at: 5))
            #expect(ContinuousClock.now - started >= .milliseconds(100), "it waited for the transaction")
            try await bulk
            #expect(try await store.throttleState(key: "bulk") == "x")
        }
    }

    /// Concurrent writes on the one writer: one failing statement (here a foreign key) fails alone,
    /// and every other write lands.
    @Test func aFailingWriteInAGroupFailsAlone() async throws {
        try await Self.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        do {
                            _ = try await store.createFactor(
                                userID: index % 4 == 0 ? 999_999 : user.id,
                                kind: .recoveryPhone,
                                sealedSecret: nil,
                                phone: "+1555000\(index)",
                                algorithm: "",
                                digits: 6,
                                period: 0,
                                at: 1
                            )
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 150)
            #expect(try await store.factors(userID: user.id).count == 150)
        }
    }

    /// Reads and writes of many requests at once, as under load: none may fail. (Writes on several
    /// SQLite connections failed with SQLITE_BUSY_SNAPSHOT until all writes went through one writer.)
    @Test func concurrentReadsAndWritesNeverCollide() async throws {
        try await Self.withStore { store in
            var factors: [Int64] = []
            for index in 0..<40 {
                factors.append(try await PostgresStoreTests.factor(store, email: "u\(index)@example.com").1.id)
            }
            let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, factor) in factors.enumerated() {
                    for step in Int64(1)...25 {
                        group.addTask {
                            _ = try await store.user(email: "u\(index)@example.com")
                            _ = try await store.factors(userID: Int64(index + 1))
                            try await store.recordEvent(userID: Int64(index + 1), kind: .secondFactorFailed, detail: "", at: step)
                            return try await store.claimStep(step * 1000 + Int64(index), factorID: factor) ? 1 : 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(claimed >= factors.count)
            for index in 0..<40 { #expect(try await store.events(userID: Int64(index + 1), limit: 100).count == 25) }
        }
    }

    /// Concurrent validate lookups are answered together; each must get exactly its own user and
    /// confirmed factors, and an unknown address nothing.
    @Test func concurrentLookupsGetTheirOwnUsers() async throws {
        try await Self.withStore { store in
            for index in 0..<30 {
                let user = try await store.createUser(email: "u\(index)@example.com", passwordHash: "h\(index)", at: 1)
                for kind in [FactorKind.totp, .recoveryPhone].prefix(index % 3) {
                    let factor = try await store.createFactor(
                        userID: user.id,
                        kind: kind,
                        sealedSecret: "s\(index)",
                        phone: nil,
                        algorithm: "SHA1",
                        digits: 6,
                        period: 30,
                        at: 1
                    )
                    try await store.confirmFactor(id: factor.id, lastUsedStep: nil, at: 2)
                }
                _ = try await store.createFactor(
                    userID: user.id,
                    kind: .sms,
                    sealedSecret: nil,
                    phone: "+31612345678",
                    algorithm: "",
                    digits: 6,
                    period: 0,
                    at: 1
                )  // pending: not returned
            }
            let results = try await withThrowingTaskGroup(of: (Int, User?, [Factor]).self) { group in
                for round in 0..<10 {
                    for index in 0..<32 {
                        group.addTask {
                            let found = try await store.userWithConfirmedFactors(email: "u\(index)@example.com")
                            return (index + round * 0, found?.0, found?.1 ?? [])
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 320)
            for (index, user, factors) in results {
                if index >= 30 {
                    #expect(user == nil)
                    continue
                }
                #expect(user?.email == "u\(index)@example.com" && user?.passwordHash == "h\(index)")
                #expect(factors.map(\.kind) == Array([FactorKind.totp, .recoveryPhone].prefix(index % 3)))
                #expect(factors.allSatisfy { $0.userID == user?.id && $0.sealedSecret == "s\(index)" && $0.isConfirmed })
            }
        }
    }

    /// Validate's lookup decodes its rows its own way on each database (`SQLiteStatementRow`,
    /// `PostgresStatementRow`): every column, set or NULL, must come out as every other read gives it.
    @Test func aLookupReadsAnAccountAsEveryOtherReadDoes() async throws {
        try await Self.withStore { store in
            let key = try await store.createAPIKey(name: "vpn", keyHash: "h", scopes: [.validate], reach: .own, at: 1)
            let full = try await store.createUser(email: "full@example.com", passwordHash: "h1", at: 1)
            try await store.setEnrolmentRequired(true, userID: full.id)
            _ = try await store.startTwoFactorGrace(userID: full.id, at: 7)
            #expect(try await store.setEmailVerified(userID: full.id, email: "full@example.com", at: 8))
            try await store.setRole(.admin, userID: full.id)
            let app = try await store.createFactor(
                userID: full.id,
                kind: .totp,
                sealedSecret: "sealed",
                phone: nil,
                algorithm: "SHA256",
                digits: 8,
                period: 60,
                at: 2
            )
            try await store.confirmFactor(id: app.id, lastUsedStep: 1_234_567_890_123, at: 3)
            let phone = try await store.createFactor(
                userID: full.id,
                kind: .recoveryPhone,
                sealedSecret: nil,
                phone: "+31612345678",
                algorithm: "",
                digits: 6,
                period: 0,
                at: 2
            )
            try await store.confirmFactor(id: phone.id, lastUsedStep: nil, at: 4)
            let bare = try await store.createUser(email: nil, passwordHash: "h2", origin: .apiKey, apiKeyID: key.id, externalID: "jdoe", at: 5)

            let (byID, byEmail) = try await store.usersWithConfirmedFactors(apiKeyID: key.id, externalID: "jdoe", email: "full@example.com")
            #expect(byEmail?.0 == (try await store.user(id: full.id)))
            #expect(byEmail?.0.enrolmentRequired == true && byEmail?.0.role == .admin && byEmail?.0.twoFactorGraceFrom == 7)
            #expect(byEmail?.1.sorted { $0.id < $1.id } == (try await store.factors(userID: full.id)).sorted { $0.id < $1.id })
            #expect(byEmail?.1.first { $0.id == app.id }?.lastUsedStep == 1_234_567_890_123)
            #expect(byID?.0 == (try await store.user(id: bare.id)) && byID?.0.email == nil && byID?.0.externalID == "jdoe")
            #expect(byID?.1 == [])
        }
    }

    /// SQLite's lookup statements themselves return only the accounts they name: a key's own id
    /// under that key alone, an address, both at once, each account once. (The store then files
    /// rows by each row's own names, a second guard that would hide a statement reading too much.)
    @Test func theSQLiteLookupReadsOnlyTheAccountsItNames() async throws {
        try await Self.withStore { store in
            guard store.database.dialect == .sqlite else { return }
            let vpn = try await store.createAPIKey(name: "vpn", keyHash: "v", scopes: APIKeyScope.defaults, reach: .own, at: 1)
            let ssh = try await store.createAPIKey(name: "ssh", keyHash: "s", scopes: APIKeyScope.defaults, reach: .own, at: 1)
            let vpnJdoe = try await store.createUser(email: nil, passwordHash: "!", origin: .apiKey, apiKeyID: vpn.id, externalID: "jdoe", at: 1)
            let sshJdoe = try await store.createUser(email: nil, passwordHash: "!", origin: .apiKey, apiKeyID: ssh.id, externalID: "jdoe", at: 1)
            let signedUp = try await store.createUser(email: "jdoe@example.com", passwordHash: "h", at: 1)
            func ids(_ emails: [String], _ external: [(keyID: Int64, id: String)]) async throws -> [Int64] {
                let (sql, binds) = SQLiteValidation.lookup(emails: emails, external: external)
                return try await store.database.execute(sqlite: sql, binds, writing: false).map { try $0.decode(column: "id", as: Int64.self) }
                    .sorted()
            }
            #expect(try await ids([], [(vpn.id, "jdoe")]) == [vpnJdoe.id])
            #expect(try await ids([], [(ssh.id, "jdoe")]) == [sshJdoe.id])
            #expect(try await ids(["jdoe@example.com"], []) == [signedUp.id])
            #expect(try await ids(["jdoe@example.com"], [(vpn.id, "jdoe")]) == [vpnJdoe.id, signedUp.id].sorted())
            #expect(try await ids(["jdoe@example.com"], [(ssh.id, "jdoe")]) == [sshJdoe.id, signedUp.id].sorted())
            #expect(try await ids(["nobody@example.com"], [(vpn.id, "nobody")]) == [])
        }
    }

    /// Claims for many factors at once: each step of each factor is won at most once, and the
    /// latest step exactly once.
    @Test func batchedClaimsKeepTheReplayGuard() async throws {
        try await Self.withStore { store in
            var factors: [Int64] = []
            for index in 0..<20 {
                let user = try await store.createUser(email: "c\(index)@example.com", passwordHash: "h", at: 1)
                factors.append(try await Self.appFactor(store, userID: user.id).id)
            }
            let wins = try await withThrowingTaskGroup(of: (Int64, Int64, Bool).self) { group in
                for factor in factors {
                    for step in (Int64(1)...10).shuffled() + [10, 10] {  // step 10 three times: one may win
                        group.addTask { (factor, step, try await store.claimStep(step, factorID: factor)) }
                    }
                }
                return try await group.reduce(into: [(Int64, Int64, Bool)]()) { $0.append($1) }
            }
            for factor in factors {
                let won = wins.filter { $0.0 == factor && $0.2 }.map(\.1)
                #expect(won.filter { $0 == 10 }.count == 1, "the latest step is won exactly once")
                #expect(Set(won).count == won.count, "no step won twice")
                #expect(try await store.claimStep(10, factorID: factor) == false)
                #expect(try await store.claimStep(11, factorID: factor) == true)
            }
        }
    }

    /// Commits never checkpoint (the checkpointer does, off the write path); closing leaves an empty log.
    @Test func theLogIsCheckpointedAndTruncatedOnClose() async throws {
        try await TestDatabase.withSQLiteFile { path, database in
            let store = SQLStore(database: database)
            let autocheckpoint = try await database.writer.raw("PRAGMA wal_autocheckpoint").first(decodingColumn: "wal_autocheckpoint", as: Int.self)
            #expect(autocheckpoint == 0)
            let user = try await store.createUser(email: "w@example.com", passwordHash: "h", at: 1)
            for index in 0..<1_500 { try await store.recordEvent(userID: user.id, kind: .signedIn, detail: "\(index)", at: 1) }
            let walSize = { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }
            // No floor on the size here: the checkpointer copies the log (and a write after a full copy starts
            // it again), so how far it grew depends on how fast the machine ran the 1,500 commits (under
            // load it failed a size floor).
            // `wal_autocheckpoint = 0` above is what keeps checkpoints out of commits.
            #expect(walSize() > 0, "the commits went through the write-ahead log")
            try await database.close()
            #expect(walSize() == 0)
            // Closed, every connection refuses, the first included (tried without the others' lock).
            let errors = [
                await #expect(throws: SQLiteWorkerError.self) { try await store.user(email: "w@example.com") },
                await #expect(throws: SQLiteWorkerError.self) {
                    try await store.usersWithConfirmedFactors(apiKeyID: 1, externalID: nil, email: "w@example.com")
                },
                await #expect(throws: SQLiteWorkerError.self) { try await store.createUser(email: "x@example.com", passwordHash: "h", at: 1) },
            ]
            #expect(errors.allSatisfy { $0?.message == "the database is closed" }, "\(errors)")
            let reopened = try await Database.open(url: "sqlite:" + path, logger: Logger(label: "test"))
            #expect(try await SQLStore(database: reopened).events(userID: user.id, limit: 2_000).count == 1_500)
            try await reopened.close()
        }
    }

    /// The attempt budgets' compare-and-set: of concurrent writers that read the same state, exactly
    /// one replaces it — creating, changing or removing the row alike.
    @Test func throttleStatesChangeByCompareAndSet() async throws {
        try await Self.withStore { store in
            func race(expected: String?, new: @escaping @Sendable (Int) -> String?) async throws -> Int {
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<40 {
                        group.addTask { try await store.replaceThrottleState(key: "k", expected: expected, new: new(index), at: 5) }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
            }
            #expect(try await race(expected: nil) { "first \($0)" } == 1, "one insert")
            let first = try #require(try await store.throttleState(key: "k"))
            #expect(first.hasPrefix("first "))
            #expect(try await race(expected: first) { "second \($0)" } == 1, "one update")
            #expect(try await store.replaceThrottleState(key: "k", expected: first, new: "stale", at: 6) == false)
            let second = try #require(try await store.throttleState(key: "k"))
            #expect(second.hasPrefix("second "))
            #expect(try await race(expected: second) { _ in nil } == 1, "one delete")
            #expect(try await store.throttleState(key: "k") == nil)

            for key in ["src:a", "src:b", "code:1"] { _ = try await store.replaceThrottleState(key: key, expected: nil, new: "x", at: 10) }
            try await store.deleteThrottles(prefix: "src:", updatedBefore: 11)
            #expect(try await store.throttleState(key: "src:a") == nil)
            #expect(try await store.throttleState(key: "code:1") == "x")
            // A change moves the row's time too: the sweep sees the newer one.
            #expect(try await store.replaceThrottleState(key: "code:1", expected: "x", new: "y", at: 20))
            try await store.deleteThrottles(prefix: "code:", updatedBefore: 20)
            #expect(try await store.throttleState(key: "code:1") == "y")
            try await store.deleteThrottles(keys: ["code:1"])
            #expect(try await store.throttleState(key: "code:1") == nil)
        }
    }

    @Test func deletingAUserCascades() async throws {
        try await Self.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            _ = try await store.createFactor(
                userID: user.id,
                kind: .totp,
                sealedSecret: nil,
                phone: nil,
                algorithm: "SHA1",
                digits: 6,
                period: 30,
                at: 1
            )
            _ = try await store.createTrustedDevice(userID: user.id, tokenHash: "t", userAgent: "", at: 1, expiresAt: 2)
            try await store.recordEvent(userID: user.id, kind: .signedUp, detail: "", at: 1)
            try await store.database.sql.raw("DELETE FROM users WHERE id = \(bind: user.id)").run()
            #expect(try await store.factors(userID: user.id).isEmpty)
            #expect(try await store.trustedDevices(userID: user.id).isEmpty)
            #expect(try await store.events(userID: user.id, limit: 10).isEmpty)
        }
    }

    @Test func expiredDevicesAndOldChallengesAreSwept() async throws {
        try await Self.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            _ = try await store.createTrustedDevice(userID: user.id, tokenHash: "old", userAgent: "", at: 1, expiresAt: 100)
            _ = try await store.createTrustedDevice(userID: user.id, tokenHash: "new", userAgent: "", at: 1, expiresAt: 200)
            try await store.deleteExpiredTrustedDevices(before: 150)
            #expect(try await store.trustedDevices(userID: user.id).map(\.tokenHash) == ["new"])

            let factor = try await store.createFactor(
                userID: user.id,
                kind: .sms,
                sealedSecret: nil,
                phone: "+31612345612",
                algorithm: "",
                digits: 6,
                period: 0,
                at: 1
            )
            for time: Int64 in [10, 20] {
                _ = try await store.createSMSChallenge(
                    userID: user.id,
                    factorID: factor.id,
                    phone: "+31612345612",
                    sealedCode: "c",
                    at: time,
                    expiresAt: time + 300
                )
            }
            try await store.deleteSMSChallenges(createdBefore: 15)
            #expect(try await store.latestSMSChallenge(factorID: factor.id)?.createdAt == 20)
        }
    }

    @Test func sessionsExpireByIdleAndAge() async throws {
        try await Self.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            for (hash, created, seen) in [("old", 0, 100), ("idle", 50, 60), ("live", 90, 100)] as [(String, Int64, Int64)] {
                try await store.createSession(
                    Session(idHash: hash, userID: user.id, stage: .signedIn, createdAt: created, lastSeenAt: seen, userAgent: "")
                )
            }
            try await store.deleteExpiredSessions(idleBefore: 70, createdBefore: 10)
            #expect(try await store.session(idHash: "old") == nil)
            #expect(try await store.session(idHash: "idle") == nil)
            #expect(try await store.session(idHash: "live")?.stage == .signedIn)
        }
    }
}
