import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#else
    import Darwin
#endif

/// A range of IP addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address):
/// which reverse proxies' `X-Forwarded-For` the server believes (`--trusted-proxy`).
public struct IPRange: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    let network: [UInt8]
    let prefixLength: Int

    /// - Returns: `nil` unless `text` is an address, optionally with `/prefix`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPRange.bytes(String(parts[0])) else { return nil }
        let bits = address.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else { return nil }
        network = IPRange.masked(address, prefix)
        prefixLength = prefix
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = IPRange.bytes(address), bytes.count == network.count else { return false }
        return IPRange.masked(bytes, prefixLength) == network
    }

    public var description: String { "\(IPRange.text(network))/\(prefixLength)" }

    /// The address as bytes; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 it is.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return Array(bytes[12...]) }
        return bytes
    }

    static func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = min(8, max(0, prefix - index * 8))
            return keep == 8 ? byte : byte & ~(UInt8(0xff) >> keep)
        }
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }
}

/// Where a request came from, for throttling and the security activity list (SPEC §2, F10).
enum ClientAddress {
    /// What is recorded when the socket has no address (requests made inside the process).
    static let unknown = "unknown"

    /// The socket's peer, unless it is a trusted proxy: then the right-most `X-Forwarded-For`
    /// entry that is not itself a trusted proxy (each proxy appends the address it saw; anything
    /// further left was written by the client and proves nothing).
    /// - Parameters:
    ///   - peer: The socket's remote address, if any.
    ///   - forwardedFor: Every `X-Forwarded-For` field, in order.
    ///   - trusted: The `--trusted-proxy` ranges.
    static func resolve(peer: String?, forwardedFor: [String], trusted: [IPRange]) -> String {
        guard let peer, let peerBytes = IPRange.bytes(peer) else { return peer.map(canonical) ?? unknown }
        var client = IPRange.text(peerBytes)
        guard trusted.contains(where: { $0.contains(client) }) else { return client }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            // A hop the trusted proxy wrote that is no address: believe no further.
            guard let bytes = IPRange.bytes(stripPort(hop)) else { return client }
            client = IPRange.text(bytes)
            if !trusted.contains(where: { $0.contains(client) }) { return client }
        }
        return client
    }

    /// The key a source is throttled under: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber usually holds a whole /64, so single addresses would be free to rotate).
    static func throttleKey(_ address: String) -> String {
        guard let bytes = IPRange.bytes(address), bytes.count == 16 else { return address }
        return IPRange.text(IPRange.masked(bytes, 64)) + "/64"
    }

    private static func canonical(_ text: String) -> String {
        IPRange.bytes(text).map(IPRange.text) ?? text
    }

    /// `192.0.2.1:443` → `192.0.2.1`, `[2001:db8::1]:443` → `2001:db8::1`.
    private static func stripPort(_ hop: String) -> String {
        if hop.hasPrefix("["), let end = hop.firstIndex(of: "]") { return String(hop[hop.index(after: hop.startIndex)..<end]) }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") { return String(hop[..<colon]) }
        return hop
    }
}
