import NIOCore
import NIOHTTPTypes

/// How long a client may take over each part of an HTTP/1.1 exchange before its connection is
/// closed. Without bounds a client that trickles bytes ("slowloris") holds a connection for as long
/// as it likes; the attack run against TwoStep held connections for 200 s (issue 12). The defaults
/// follow common server practice (Apache mod_reqtimeout: 20–40 s for headers, 20 s for the body;
/// nginx: 60 s).
public struct ConnectionTimeouts: Sendable, Equatable {
    /// From the first byte of a request to the end of its headers.
    public var header: Duration = .seconds(10)
    /// From the end of the headers to the end of the body (bodies are at most 64 KiB).
    public var body: Duration = .seconds(30)
    /// A kept-alive connection waiting for its next request (or its first).
    public var idle: Duration = .seconds(30)

    public init() {}
}

/// Closes a connection whose client is too slow (`ConnectionTimeouts`). Two faces share one state:
/// one at the front of the pipeline sees the raw bytes (so it knows when a request *starts*), one
/// after HTTP decoding sees where headers and body end and when the response is written.
final class SlowClientGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase { case waiting, readingHead, readingBody, responding }

    private let timeouts: ConnectionTimeouts
    private var phase = Phase.waiting
    private var timer: Scheduled<Void>?
    private var started = false

    init(timeouts: ConnectionTimeouts) { self.timeouts = timeouts }

    func handlerAdded(context: ChannelHandlerContext) {
        let bytes = FirstByteWatcher(guard: self)
        try? context.pipeline.syncOperations.addHandler(bytes, position: .first)
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancel() }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        arm(context, for: .waiting, after: timeouts.idle)
    }

    /// Bytes arrived: if the connection was waiting, a request has begun and its headers are on the clock.
    fileprivate func bytesArrived(_ context: ChannelHandlerContext) {
        guard phase == .waiting else { return }
        arm(context, for: .readingHead, after: timeouts.header)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, for: .readingBody, after: timeouts.body)
        case .body: break
        case .end:
            // The application answers in its own time; only the client's side is bounded.
            cancel()
            phase = .responding
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), phase == .responding {
            arm(context, for: .waiting, after: timeouts.idle)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, for phase: Phase, after duration: Duration) {
        let delay = TimeAmount(duration)
        cancel()
        self.phase = phase
        let channel = context.channel
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [weak self] in
            guard let self, self.phase == phase else { return }
            self.timer = nil
            channel.close(promise: nil)
        }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }
}

@available(*, unavailable)
extension SlowClientGuard: Sendable {}

/// The raw-bytes face of `SlowClientGuard`.
private final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let owner: SlowClientGuard

    init(guard owner: SlowClientGuard) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesArrived(context)
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension FirstByteWatcher: Sendable {}
