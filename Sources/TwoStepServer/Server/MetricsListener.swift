public import Hummingbird
public import Logging
public import NIOCore

/// The Prometheus endpoint, on a listener of its own (`--metrics-port`, loopback unless
/// `--metrics-host` says otherwise): the public port never serves it, so metrics are not published
/// by accident, and a scrape never competes with sign-ins for the main listener.
/// - Parameter onServerRunning: Called once it listens (the start-up line names the port).
public func buildMetricsApplication(
    _ configuration: ServerConfiguration,
    port: Int,
    parts: ServerParts,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router()
    let metrics = parts.metrics
    router.get("/metrics") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
        )
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.metricsHost, port: port), serverName: "TwoStep"),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
