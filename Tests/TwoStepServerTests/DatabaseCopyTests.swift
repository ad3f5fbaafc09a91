import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TwoStepCore
import TwoStepStore
import TwoStepTestSupport

@testable import TwoStepServer

/// `twostep db copy`: an SQLite server's users keep signing in, with the same app and recovery
/// codes, on PostgreSQL with the same master key.
@Suite("Moving from SQLite to PostgreSQL", .enabled(if: TestDatabase.postgresURL != nil, "set TWOSTEP_TEST_POSTGRES_URL to run"))
struct DatabaseCopyTests {
    /// Runs the pages on `configuration`'s database, then closes it (the data directory stays).
    static func withPages(
        _ configuration: ServerConfiguration,
        clock: TestClock,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let logs = LogCapture()
        let parts = try await openServerParts(configuration, logger: logs.logger())
        do {
            let router = try buildRouter(configuration, parts: parts, now: { clock.now }, passwordHasher: TestServer.hasher, logger: logs.logger())
            try await Application(router: router, logger: logs.logger()).test(.router, body)
        } catch {
            try? await parts.database.close()
            throw error
        }
        try await parts.database.close()
    }

    @Test func usersSignInWithTheSameCodesAfterTheMove() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-copy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqliteURL = "sqlite:" + directory.appendingPathComponent("twostep.sqlite").path
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory.path
        configuration.databaseURL = sqliteURL
        let clock = TestClock()

        // On SQLite: two users with the app and recovery codes, one of them signed in on a trusted device.
        let enrolled = Enrolled()
        try await Self.withPages(configuration, clock: clock) { client in
            for email in ["ann@example.com", "bob@example.com"] {
                let browser = Browser(client)
                try await browser.signUp(email)
                let totp = try await browser.enableApp(at: clock)
                let page = try await browser.post("/profile/two-factor/recovery-codes")
                enrolled.add(email, totp, RecoveryCodeTests.codes(in: page))
            }
        }
        #expect(enrolled.users.count == 2 && enrolled.users.allSatisfy { $0.codes.count == 10 })

        // The copy: every table, counts checked; a second copy into the same target is refused.
        let postgresURL = try await TestDatabase.freshPostgresURL()
        let source = try await Database.open(url: sqliteURL, logger: Logger(label: "test"))
        let target = try await Database.open(url: postgresURL, logger: Logger(label: "test"))
        let copied = try await Database.copy(from: source, to: target, replace: false)
        let rows = Dictionary(uniqueKeysWithValues: copied.map { ($0.name, $0.rows) })
        #expect(rows["users"] == 2 && rows["factors"] == 2 && rows["recovery_codes"] == 20, "\(rows)")
        #expect(copied.first?.name == "api_keys" || copied.first?.name == "users", "parents first: \(copied.map(\.name))")
        await #expect(throws: DatabaseError.self) { try await Database.copy(from: source, to: target, replace: false) }
        #expect(try await Database.copy(from: source, to: target, replace: true) == copied, "--force replaces")
        try await source.close()
        try await target.close()

        // On PostgreSQL with the same data directory (the master key): the next code, a recovery code,
        // and a new account whose id follows the copied ones.
        configuration.databaseURL = postgresURL
        clock.advance(30)
        try await Self.withPages(configuration, clock: clock) { client in
            for user in enrolled.users {
                let browser = Browser(client)
                #expect(try await browser.signIn(user.email).location == "/signin/code")
                let passed = try await browser.post("/signin/code", ["code": user.totp.code(at: clock.now)])
                #expect(passed.location == "/profile", "\(user.email): the app's code after the move")
                try await browser.signOut()
                #expect(try await browser.signIn(user.email).location == "/signin/code")
                let recovered = try await browser.post("/signin/recovery", ["code": user.codes[3]])
                #expect(recovered.location == "/profile/two-factor?done=recovery-used", "\(user.email): a recovery code after the move")
            }
            try await Browser(client).signUp("new@example.com")
        }
        let check = try await Database.open(url: postgresURL, logger: Logger(label: "test"))
        let ids = try await SQLStore(database: check).allUsers().map(\.id)
        try await check.close()
        #expect(ids == [1, 2, 3], "the identity sequence continues after the copied rows")
    }
}

/// What the SQLite half enrolled, for the PostgreSQL half.
private final class Enrolled: @unchecked Sendable {
    struct User {
        var email: String
        var totp: TOTP
        var codes: [String]
    }
    private let lock = NSLock()
    private var list: [User] = []
    var users: [User] { lock.withLock { list } }
    func add(_ email: String, _ totp: TOTP, _ codes: [String]) { lock.withLock { list.append(User(email: email, totp: totp, codes: codes)) } }
}
