import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TwoStepCore
import TwoStepStore
import TwoStepTestSupport

@testable import TwoStepServer

/// A clock the tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)

    var now: Date { lock.withLock { current } }

    func advance(_ seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}

/// Log lines kept in memory, so a test can check that no secret was ever logged.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    /// Lines as `--log-format json` writes them, rather than as text (both `LogLineHandler`).
    let json: Bool

    init(json: Bool = false) { self.json = json }

    var text: String { lock.withLock { lines.joined(separator: "\n") } }
    var allLines: [String] { lock.withLock { lines } }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    /// A logger that writes through the server's own handler, at every level.
    func logger() -> Logger {
        var logger = Logger(label: "test") { label in
            LogLineHandler(label: label, format: self.json ? .json : .text) { line in self.append(String(line.dropLast())) }
        }
        logger.logLevel = .trace
        return logger
    }
}

/// A server on a temporary data directory with a movable clock.
struct TestServer {
    let directory: URL
    let configuration: ServerConfiguration
    let parts: ServerParts
    let clock = TestClock()
    let logs: LogCapture

    /// Cheap hashing keeps the suite fast; the production cost is tested in TwoStepCoreTests.
    static let hasher = SecretHasher(parameters: .init(logN: 10, blockSize: 8, parallelism: 1))

    static func make(jsonLogs: Bool = false, _ adjust: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-test-\(UUID().uuidString)")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory.path
        configuration.port = 0
        if TestDatabase.usePostgres {
            configuration.databaseURL = try await TestDatabase.freshPostgresURL()
            // Every test runs at once, each with its own pool: small pools keep them under the server's connection limit.
            configuration.databasePoolSize = 3
        }
        adjust(&configuration)
        let logs = LogCapture(json: jsonLogs)
        let parts = try await openServerParts(configuration, logger: logs.logger())
        return TestServer(directory: directory, configuration: configuration, parts: parts, logs: logs)
    }

    init(directory: URL, configuration: ServerConfiguration, parts: ServerParts, logs: LogCapture) {
        self.directory = directory
        self.configuration = configuration
        self.parts = parts
        self.logs = logs
    }

    var store: SQLStore { parts.store }

    /// The services as the server wires them, on this server's clock.
    var services: Services {
        let clock = clock
        return Services(configuration, parts: parts, now: { clock.now }, passwordHasher: Self.hasher, logger: logs.logger())
    }

    /// Runs `body` against the router (no sockets), then removes the data directory.
    func run(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let clock = clock
        let router = try buildRouter(configuration, parts: parts, now: { clock.now }, passwordHasher: Self.hasher, logger: logs.logger())
        let app = Application(router: router, logger: logs.logger())
        do {
            try await app.test(.router, body)
        } catch {
            try? await parts.database.close()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        try await parts.database.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

extension TestServer {
    /// Runs `body` against a real server on 127.0.0.1 (port 0), then removes the data directory.
    func runLive(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let clock = clock
        let app = try buildApplication(configuration, parts: parts, logger: logs.logger(), now: { clock.now }, passwordHasher: Self.hasher)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The application's own service closes the database when the server stops.
        try await app.test(.live, body)
    }
}

/// A browser: keeps cookies, follows nothing automatically, adds the CSRF field to forms.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

    init(_ client: any TestClientProtocol) { self.client = client }

    static let csrfCookie = "__Host-twostep-csrf"
    static let sessionCookie = "__Host-twostep-session"
    static let deviceCookie = "__Host-twostep-device"

    /// The CSRF cookie, under its `__Host-` name or (dev mode) its plain one.
    var csrfToken: String? { cookies[Self.csrfCookie] ?? cookies["twostep-csrf"] }

    @discardableResult
    func get(_ path: String) async throws -> Page {
        try await send(path, method: .get, body: nil)
    }

    /// Posts a form with this browser's CSRF token (fetching the sign-in page first if it has none).
    @discardableResult
    func post(_ path: String, _ form: [String: String] = [:], csrf: Bool = true) async throws -> Page {
        var form = form
        if csrf {
            if csrfToken == nil { try await get("/signin") }
            form["csrf_token"] = form["csrf_token"] ?? csrfToken
        }
        let body = form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try await send(path, method: .post, body: body)
    }

    func send(
        _ path: String,
        method: HTTPRequest.Method,
        body: String?,
        contentType: String = "application/x-www-form-urlencoded"
    ) async throws -> Page {
        var headers: HTTPFields = [.userAgent: userAgent]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if body != nil { headers[.contentType] = contentType }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return Page(response: response)
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// Signs up and lands signed in.
    func signUp(_ email: String, password: String = "correct horse battery", sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let page = try await post("/signup", ["email": email, "password": password])
        #expect(page.location == "/profile", "sign-up: \(page.status) \(page.text.prefix(300))", sourceLocation: sourceLocation)
    }

    func signIn(_ email: String, password: String = "correct horse battery") async throws -> Page {
        try await post("/signin", ["email": email, "password": password])
    }

    func signOut() async throws {
        try await post("/signout")
    }

    /// "Confirm it's you" with the password: 10 minutes of sensitive changes, under a new session id.
    func reauthenticate(
        password: String = "correct horse battery",
        next: String = "/profile/two-factor",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        // `__Secure-` when a cookie domain is set (issue 14).
        let session = { [self] in cookies[Self.sessionCookie] ?? cookies["__Secure-twostep-session"] }
        let old = session()
        let page = try await post("/profile/confirm", ["password": password, "next": next])
        #expect(page.location == next, "confirm: \(page.status) \(page.text.prefix(300))", sourceLocation: sourceLocation)
        #expect(session() != old, "the session id is rotated", sourceLocation: sourceLocation)
    }

    /// Enrols the authenticator app and returns its TOTP, leaving 2FA on.
    func enableApp(at clock: TestClock, trust: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) async throws -> TOTP {
        try await reauthenticate(sourceLocation: sourceLocation)
        try await post("/profile/two-factor/app")
        let page = try await get("/profile/two-factor/app")
        let key = try #require(page.manualKey, "no key on the App page: \(page.text.prefix(500))", sourceLocation: sourceLocation)
        let totp = try TOTP(secret: try Base32.decode(key))
        var form = ["code": totp.code(at: clock.now)]
        if trust { form["trust"] = "on" }
        let activated = try await post("/profile/two-factor/app/activate", form)
        #expect(activated.location == "/profile/two-factor?done=enabled", "\(activated.status)", sourceLocation: sourceLocation)
        return totp
    }
}

/// A response, with the bits the tests read.
struct Page {
    let response: TestResponse

    var status: HTTPResponse.Status { response.status }
    var headers: HTTPFields { response.headers }
    var text: String { String(buffer: response.body) }
    var location: String? { response.headers[.location] }

    /// The key shown for manual entry on the App page.
    var manualKey: String? {
        guard let range = text.range(of: #"<code id="manual-key" class="key">([A-Z2-7 ]+)</code>"#, options: .regularExpression) else { return nil }
        return String(text[range]).replacingOccurrences(of: #"<[^>]+>"#, with: "", options: .regularExpression)
    }
}
