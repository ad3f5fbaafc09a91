import HTTPTypes
import NIOCore

/// Who may read `/dev/outbox` (`--dev-outbox`): it shows every texted code, so only a browser on
/// this machine, talking to the server directly. A request that came through a proxy (it names a
/// forwarded client) is refused even though its socket is local: the client is elsewhere.
enum DevOutbox {
    static func allows(peer: SocketAddress?, headers: HTTPFields) -> Bool {
        guard headers[.forwarded] == nil, headers[.xForwardedFor] == nil, let ip = peer?.ipAddress else { return false }
        return ip == "::1" || ip.hasPrefix("127.") || ip.hasPrefix("::ffff:127.")
    }
}

extension HTTPField.Name {
    static let forwarded = Self("Forwarded")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}
