import ArgumentParser
import Foundation
import Logging
import Synchronization
import TwoStepServer
import TwoStepStore

/// Where the server keeps its data. Every flag falls back to a `TWOSTEP_…` environment variable,
/// then to the built-in default.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory for the SQLite database and master key [TWOSTEP_DATA_DIR] (default: ./twostep-data).")
    var dataDirectory: String?

    @Option(
        name: .customLong("database"),
        help:
            "Database URL, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable|prefer|require] [TWOSTEP_DATABASE] (default: sqlite:<data dir>/twostep.sqlite). Prefer the variable for a password: flags show in ps."
    )
    var databaseURL: String?

    @Option(name: .customLong("database-pool-size"), help: "PostgreSQL connections per instance [TWOSTEP_DATABASE_POOL_SIZE] (default: 8).")
    var databasePoolSize: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical [TWOSTEP_LOG_LEVEL] (default: info).")
    var logLevel: String?

    @Option(help: "Log lines as json (one object per line) or text [TWOSTEP_LOG_FORMAT] (default: text).")
    var logFormat: String?

    func apply(to configuration: inout ServerConfiguration) throws {
        if let value = dataDirectory ?? environment("DATA_DIR") { configuration.dataDirectory = value }
        if let value = databaseURL ?? environment("DATABASE") { configuration.databaseURL = value }
        if let value = try setting(databasePoolSize, "DATABASE_POOL_SIZE", Int.init) { configuration.databasePoolSize = value }
        guard (1...500).contains(configuration.databasePoolSize) else { throw ValidationError("--database-pool-size must be 1 to 500") }
    }

    func logger() throws -> Logger {
        switch logFormat ?? environment("LOG_FORMAT") ?? "text" {
        case "text": bootstrapLogs(.text)
        case "json": bootstrapLogs(.json)
        case let other: throw ValidationError("--log-format must be json or text, not '\(other)'")
        }
        var logger = Logger(label: "twostep")
        let name = logLevel ?? environment("LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: name) else { throw ValidationError("unknown log level '\(name)'") }
        logger.logLevel = level
        return logger
    }
}

/// Every logger of the process, the libraries' too, writes lines in `format`. The first call
/// decides: swift-log allows one bootstrap per process.
private func bootstrapLogs(_ format: LogLineHandler.Format) {
    logsBootstrapped.withLock { done in
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { LogLineHandler(label: $0, format: format) }
    }
}

private let logsBootstrapped = Mutex(false)

func environment(_ name: String) -> String? {
    ProcessInfo.processInfo.environment["TWOSTEP_" + name].flatMap { $0.isEmpty ? nil : $0 }
}

/// Reads a flag, else its environment variable, parsed by `parse`.
func setting<T>(_ flag: T?, _ name: String, _ parse: (String) -> T?) throws -> T? {
    if let flag { return flag }
    guard let text = environment(name) else { return nil }
    guard let value = parse(text) else { throw ValidationError("TWOSTEP_\(name) has an invalid value '\(text)'") }
    return value
}

/// Who runs an operator command, for the audit trail: `--operator`, else the login (the one behind `sudo`).
func operatorLogin(_ flag: String? = nil) -> String {
    let environment = ProcessInfo.processInfo.environment
    let name = flag ?? environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? NSUserName()
    return String(name.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(64))
}

/// Opens the database, runs one operator action as `operatorName` (for the audit trail), closes it.
func withOperator<T>(_ data: DataOptions, operator operatorName: String? = nil, _ body: (OperatorActions) async throws -> T) async throws -> T {
    var configuration = ServerConfiguration()
    try data.apply(to: &configuration)
    let parts = try await openServerParts(configuration, logger: try data.logger())
    do {
        let actions = OperatorActions(parts: parts, configuration: configuration)
        let result = try await RequestOrigin.$operatorName.withValue(operatorLogin(operatorName)) { try await body(actions) }
        try await parts.database.close()
        return result
    } catch {
        try? await parts.database.close()
        throw error
    }
}
