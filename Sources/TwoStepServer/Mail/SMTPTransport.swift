import Foundation
public import NIOCore
public import NIOPosix
import NIOSSL
import TwoStepCore

/// How to reach the operator's mail server.
public struct SMTPConfiguration: Sendable {
    /// How the connection is protected.
    public enum Security: String, Sendable, CaseIterable {
        /// Plain connection upgraded with STARTTLS (RFC 3207), port 587. A server that does not
        /// offer STARTTLS is refused, never used in the clear (a stripped STARTTLS is a downgrade attack).
        case startTLS = "starttls"
        /// TLS from the first byte (RFC 8314 "implicit TLS"), port 465.
        case tls
        /// No TLS: only to a relay on this machine (127.0.0.1, ::1, localhost), and never with a password.
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// AUTH PLAIN or LOGIN (whichever the server offers, PLAIN first), only over TLS.
    public var username: String?
    public var password: String?
    /// The envelope sender and `From:` address.
    public var from: MailAddress
    /// The sender's name people see: the issuer (`--issuer`).
    public var fromName = "TwoStep"
    /// The name `EHLO` gives (RFC 5321 §4.1.1.1: the client's own domain).
    public var helloName: String
    /// A PEM file of certificates to trust instead of the system's (a private CA); the server's
    /// certificate and name are checked either way.
    public var caFile: String?
    public var connectTimeout: TimeAmount = .seconds(10)
    /// The longest wait for one reply. RFC 5321 §4.5.3.2 allows minutes for a queueing server;
    /// a person is waiting on the page here, so less.
    public var replyTimeout: TimeAmount = .seconds(20)
    /// Attempts after the first, for failures that may pass (4xx, timeouts, a dropped connection).
    public var retries = 2
    /// The wait before the first retry, doubled before each next one.
    public var backoff: Duration = .seconds(1)

    public init(host: String, port: Int, security: Security, from: MailAddress, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.security = security
        self.from = from
        self.username = username
        self.password = password
        helloName = from.address.split(separator: "@").last.map(String.init) ?? "localhost"
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// A small, strict SMTP client (RFC 5321) over swift-nio: one connection per message, every reply
/// checked, every wait bounded. No SMTP package exists in the mirror, so only what TwoStep needs:
/// EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT.
public struct SMTPTransport: MailTransport {
    public let configuration: SMTPConfiguration
    let sslContext: NIOSSLContext?
    let group: any EventLoopGroup

    /// - Throws: when the settings are unsafe (a password without TLS, plain SMTP to another
    ///   machine) or the CA file cannot be read.
    public init(_ configuration: SMTPConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        if configuration.security == .none {
            // Mail carries reset links: in the clear only over the loopback interface.
            guard SMTPConfiguration.isLoopback(configuration.host) else {
                throw MailTransportError(.rejected, "SMTP without TLS is only allowed to a relay on this machine")
            }
            guard configuration.username == nil, configuration.password == nil else {
                throw MailTransportError(.rejected, "SMTP passwords are only sent over TLS")
            }
            sslContext = nil
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            // Full verification: the chain and the server's name (a MITM with any certificate is refused).
            tls.certificateVerification = .fullVerification
            if let caFile = configuration.caFile { tls.trustRoots = .file(caFile) }
            sslContext = try NIOSSLContext(configuration: tls)
        }
        if (configuration.username == nil) != (configuration.password == nil) {
            throw MailTransportError(.rejected, "an SMTP user needs a password and a password a user")
        }
        self.configuration = configuration
        self.group = group
    }

    public func send(_ message: MailMessage) async throws(MailTransportError) {
        var lastError = MailTransportError(.unavailable, "the mail server was not tried")
        for attempt in 0...max(0, configuration.retries) {
            if attempt > 0 { try? await Task.sleep(for: configuration.backoff * (1 << (attempt - 1))) }
            do {
                try await deliver(message)
                return
            } catch let error as MailTransportError {
                // A 5xx is the server's final word (RFC 5321 §4.2.1): asking again only repeats it.
                if error.kind == .rejected { throw error }
                lastError = error
            } catch {
                lastError = MailTransportError(.unavailable, "the mail server failed: \(error)")
            }
        }
        throw lastError
    }

    /// One connection, one message.
    private func deliver(_ message: MailMessage) async throws {
        let reader = SMTPReplyReader(timeout: configuration.replyTimeout)
        let host = configuration.host
        let serverName = Self.serverName(host)
        let implicitTLS = configuration.security == .tls ? sslContext : nil
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(configuration.connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHandler(reader)
                    }
                }
                .connect(host: host, port: configuration.port).get()
        } catch {
            throw MailTransportError(.unavailable, "cannot connect to the mail server \(host):\(configuration.port): \(error)")
        }
        defer { channel.close(promise: nil) }
        let session = SMTPSession(channel: channel, reader: reader)

        try await session.expect([220], during: "the greeting")
        var features = try await session.command("EHLO \(configuration.helloName)", expect: [250])
        if configuration.security == .startTLS, let sslContext {
            guard features.offers("STARTTLS") else {
                throw MailTransportError(.rejected, "the mail server does not offer STARTTLS; refusing to send in the clear")
            }
            try await session.command("STARTTLS", expect: [220])
            // Anything already sent after the 220 came in the clear and would be read as if it were
            // protected (CVE-2011-0411, STARTTLS command injection): refuse it.
            guard try await reader.isDrained(on: channel.eventLoop) else {
                throw MailTransportError(.unavailable, "the mail server sent data before the TLS handshake; refusing it")
            }
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName), position: .first)
            }.get()
            // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
            features = try await session.command("EHLO \(configuration.helloName)", expect: [250])
        }
        if let username = configuration.username, let password = configuration.password {
            try await authenticate(session, features: features, username: username, password: password)
        }
        let utf8 = !message.to.isASCII || !configuration.from.isASCII
        if utf8, !features.offers("SMTPUTF8") {
            throw MailTransportError(.rejected, "the mail server cannot take an address with non-ASCII letters (no SMTPUTF8)")
        }
        try await session.command("MAIL FROM:<\(configuration.from.address)>" + (utf8 ? " SMTPUTF8" : ""), expect: [250])
        try await session.command("RCPT TO:<\(message.to.address)>", expect: [250, 251])
        try await session.command("DATA", expect: [354])
        let text = message.rendered(
            from: configuration.from,
            fromName: HeaderText(configuration.fromName),
            date: Date(),
            messageID: RandomToken.generate(),
            boundary: "twostep-" + RandomToken.generate()
        )
        try await session.data(Self.dotStuffed(text), expect: [250])
        // The message is accepted; a QUIT that fails changes nothing.
        _ = try? await session.command("QUIT", expect: [221])
    }

    private func authenticate(_ session: SMTPSession, features: SMTPReply, username: String, password: String) async throws {
        let mechanisms = features.authMechanisms
        if mechanisms.contains("PLAIN") {
            // RFC 4616: authorisation id (empty), authentication id and password, NUL separated.
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try await session.command("AUTH PLAIN " + token, expect: [235], secret: true)
        } else if mechanisms.contains("LOGIN") {
            try await session.command("AUTH LOGIN", expect: [334])
            try await session.command(Data(username.utf8).base64EncodedString(), expect: [334], secret: true)
            try await session.command(Data(password.utf8).base64EncodedString(), expect: [235], secret: true)
        } else {
            throw MailTransportError(.rejected, "the mail server offers neither AUTH PLAIN nor AUTH LOGIN")
        }
    }

    /// SNI and the name checked against the certificate; an IP literal is checked as an address.
    static func serverName(_ host: String) -> String? {
        host.contains(":") || host.split(separator: ".").allSatisfy({ Int($0) != nil }) ? nil : host
    }

    /// RFC 5321 §4.5.2: a line starting with a dot gets another one, so no line of the message can
    /// end the DATA section early. Then the terminating `.`.
    static func dotStuffed(_ text: String) -> String {
        let lines = text.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }
        var stuffed = lines.joined(separator: "\r\n")
        if !stuffed.hasSuffix("\r\n") { stuffed += "\r\n" }
        return stuffed + ".\r\n"
    }
}

/// An SMTP reply: its code and the text of each line (RFC 5321 §4.2).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    /// Whether an EHLO reply names this extension (its first word on a line after the greeting).
    func offers(_ keyword: String) -> Bool {
        lines.dropFirst().contains { $0.split(separator: " ").first?.uppercased() == keyword }
    }

    var authMechanisms: Set<String> {
        var mechanisms: Set<String> = []
        for line in lines.dropFirst() {
            let words = line.uppercased().split(separator: " ")
            if words.first == "AUTH" { mechanisms.formUnion(words.dropFirst().map(String.init)) }
        }
        return mechanisms
    }

    /// The first line, without the addresses it may quote, for an error message (logged).
    var summary: String { RemoteText.quoted(lines.first ?? "") }
}

/// The conversation: writes a command, waits for the reply, maps a reply it did not expect to an
/// error. Commands are never logged, so neither AUTH nor the message reaches a log.
private struct SMTPSession {
    let channel: any Channel
    let reader: SMTPReplyReader

    @discardableResult
    func command(_ line: String, expect codes: Set<Int>, secret: Bool = false) async throws -> SMTPReply {
        let verb = secret ? "AUTH" : String(line.prefix(while: { $0 != " " && $0 != ":" }))
        // Every argument here is a checked address, a fixed word or base64: a CR or LF cannot be
        // in it, but a command line is never allowed to carry one whatever a caller passes.
        guard !line.contains("\r"), !line.contains("\n") else { throw MailTransportError(.rejected, "a line break inside an SMTP command") }
        try await write(line + "\r\n")
        return try await expect(codes, during: verb)
    }

    func data(_ text: String, expect codes: Set<Int>) async throws {
        try await write(text)
        try await expect(codes, during: "the end of the message")
    }

    private func write(_ text: String) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text)).get()
        } catch {
            throw MailTransportError(.unavailable, "the mail server closed the connection early (\(error))")
        }
    }

    @discardableResult
    func expect(_ codes: Set<Int>, during step: String) async throws -> SMTPReply {
        let reply = try await reader.next(on: channel.eventLoop)
        if codes.contains(reply.code) { return reply }
        switch reply.code {
        case 400..<500:
            throw MailTransportError(.unavailable, code: reply.code, "the mail server asked to try later at \(step): \(reply.code) \(reply.summary)")
        case 500..<600:
            throw MailTransportError(.rejected, code: reply.code, "the mail server refused at \(step): \(reply.code) \(reply.summary)")
        default:
            throw MailTransportError(
                .unavailable,
                code: reply.code,
                "the mail server answered \(reply.code) at \(step), which SMTP does not allow there"
            )
        }
    }
}

/// Splits what the server sends into replies. Strict: every line must be CRLF-terminated, at most
/// 2,048 bytes, and start with a 3-digit code and a space or hyphen (RFC 5321 §4.2); a multi-line
/// reply keeps one code. Anything else is garbage, and the connection is dropped.
///
/// All its state is touched on the channel's event loop only (`next` and `isDrained` hop there),
/// hence `@unchecked Sendable`.
final class SMTPReplyReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount
    private var buffer = ByteBuffer()
    private var partial: (code: Int, lines: [String])?
    private var replies = CircularBuffer<SMTPReply>()
    private var waiting: EventLoopPromise<SMTPReply>?
    private var timer: Scheduled<Void>?
    private var failure: MailTransportError?
    private var context: ChannelHandlerContext?

    static let maximumLine = 2_048

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        parse()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(MailTransportError(.unavailable, "the mail server closed the connection early"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIOSSL reports a bad certificate or name here.
        fail(MailTransportError(.unavailable, "the connection to the mail server failed: \(error)"))
        context.close(promise: nil)
    }

    /// The next reply, within the reply timeout.
    func next(on eventLoop: any EventLoop) async throws -> SMTPReply {
        try await eventLoop.flatSubmit { self.nextReply(eventLoop) }.get()
    }

    private func nextReply(_ eventLoop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if let reply = replies.popFirst() { return eventLoop.makeSucceededFuture(reply) }
        if let failure { return eventLoop.makeFailedFuture(failure) }
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        waiting = promise
        let seconds = Double(timeout.nanoseconds) / 1e9
        timer = eventLoop.scheduleTask(in: timeout) {
            self.fail(MailTransportError(.unavailable, "the mail server did not answer within \(seconds) s"))
        }
        return promise.futureResult
    }

    /// Whether nothing beyond the replies read so far has arrived.
    func isDrained(on eventLoop: any EventLoop) async throws -> Bool {
        try await eventLoop.submit { self.buffer.readableBytes == 0 && self.replies.isEmpty && self.partial == nil }.get()
    }

    private func parse() {
        while failure == nil {
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.readableBytes > Self.maximumLine { fail(garbage("a reply line longer than \(Self.maximumLine) bytes")) }
                return
            }
            let length = newline - buffer.readerIndex
            guard length <= Self.maximumLine, let bytes = buffer.readBytes(length: length + 1) else {
                fail(garbage("a reply line longer than \(Self.maximumLine) bytes"))
                return
            }
            guard bytes.count >= 2, bytes[bytes.count - 2] == UInt8(ascii: "\r") else {
                fail(garbage("a reply line not ending in CRLF"))
                return
            }
            let line = Array(bytes.dropLast(2))
            guard line.count >= 3, line[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), (0x32...0x35).contains(line[0]),
                line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
            else {
                fail(garbage("'\(RemoteText.quoted(String(decoding: line, as: UTF8.self)))' is not an SMTP reply"))
                return
            }
            let code = Int(String(decoding: line[0...2], as: UTF8.self))!
            let text = line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : ""
            if let partial, partial.code != code {
                fail(garbage("a multi-line reply changed its code from \(partial.code) to \(code)"))
                return
            }
            var current = partial ?? (code, [])
            current.lines.append(text)
            if line.count > 3, line[3] == UInt8(ascii: "-") {
                partial = current
            } else {
                partial = nil
                deliver(SMTPReply(code: code, lines: current.lines))
            }
        }
    }

    private func garbage(_ what: String) -> MailTransportError {
        MailTransportError(.unavailable, "the mail server answered garbage: \(what)")
    }

    private func deliver(_ reply: SMTPReply) {
        if let promise = waiting {
            waiting = nil
            timer?.cancel()
            promise.succeed(reply)
        } else {
            replies.append(reply)
        }
    }

    private func fail(_ error: MailTransportError) {
        if failure == nil { failure = error }
        if let promise = waiting {
            waiting = nil
            timer?.cancel()
            promise.fail(error)
        }
        context?.close(promise: nil)
    }
}
