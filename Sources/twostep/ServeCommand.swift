import ArgumentParser
import Foundation
import Hummingbird
import TwoStepServer
import TwoStepStore

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

    @Option(help: "Plain-HTTP development mode: cookies without Secure [TWOSTEP_DEV_MODE] (default: false).")
    var devMode: Bool?

    @OptionGroup var data: DataOptions

    func run() async throws {
        var configuration = ServerConfiguration()
        try data.apply(to: &configuration)
        if let value = try setting(host, "HOST", { $0 }) { configuration.host = value }
        if let value = try setting(port, "PORT", Int.init) { configuration.port = value }
        if let value = try setting(issuer, "ISSUER", { $0 }) { configuration.issuer = value }
        if let value = try setting(trustDeviceDays, "TRUST_DEVICE_DAYS", Int.init) { configuration.trustDeviceDays = value }
        if let value = try setting(devMode, "DEV_MODE", Bool.init) { configuration.devMode = value }
        guard (0...65_535).contains(configuration.port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (1...365).contains(configuration.trustDeviceDays) else { throw ValidationError("--trust-device-days must be 1 to 365") }

        let logger = try data.logger()
        let parts = try await openServerParts(configuration, logger: logger)
        let app = try buildApplication(configuration, parts: parts, logger: logger)
        let banner = "TwoStep is running at http://\(configuration.host):\(configuration.port)/ (data in \(configuration.dataDirectory)\(configuration.devMode ? ", dev mode" : ""))\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await app.runService()
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or update the database schema.")

    @OptionGroup var data: DataOptions

    func run() async throws {
        var configuration = ServerConfiguration()
        try data.apply(to: &configuration)
        let parts = try await openServerParts(configuration, logger: try data.logger())
        try await parts.database.close()
        print("The database is up to date.")
    }
}
