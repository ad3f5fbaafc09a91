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
    /// The shortest timeout: the timer never sleeps longer, so a deadline set while it sleeps is
    /// never earlier than its next check.
    private let checkInterval: TimeAmount
    private var phase = Phase.waiting
    /// When the current phase runs out; `nil` while the application answers.
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var started = false

    init(timeouts: ConnectionTimeouts) {
        self.timeouts = timeouts
        // At least 100 ms: a zero timeout must not make the timer spin.
        checkInterval = max(TimeAmount(min(timeouts.header, timeouts.body, timeouts.idle)), .milliseconds(100))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bytes = FirstByteWatcher(guard: self)
        try? context.pipeline.syncOperations.addHandler(bytes, position: .first)
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { stopTimer() }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        enter(.waiting, for: timeouts.idle, context)
    }

    /// Bytes arrived: if the connection was waiting, a request has begun and its headers are on the clock.
    fileprivate func bytesArrived(_ context: ChannelHandlerContext) {
        guard phase == .waiting else { return }
        enter(.readingHead, for: timeouts.header, context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: enter(.readingBody, for: timeouts.body, context)
        case .body: break
        case .end:
            // The application answers in its own time; only the client's side is bounded.
            phase = .responding
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), phase == .responding {
            enter(.waiting, for: timeouts.idle, context)
        }
        context.write(data, promise: promise)
    }

    /// Moves the deadline; the timer is only started, never moved. A timer scheduled and cancelled
    /// three times a request cost 7 % of the validate path's CPU (issue 19); now each connection's
    /// timer wakes at most once per `checkInterval`, and exactly at the deadline that ends it.
    private func enter(_ phase: Phase, for duration: Duration, _ context: ChannelHandlerContext) {
        self.phase = phase
        deadline = .now() + TimeAmount(duration)
        if timer == nil { check(context) }
    }

    /// Closes the connection if its deadline has passed, else looks again at the deadline or after
    /// `checkInterval`, whichever comes first.
    private func check(_ context: ChannelHandlerContext) {
        timer = nil
        guard let deadline else { return }
        let now = NIODeadline.now()
        guard now < deadline else {
            context.channel.close(promise: nil)
            return
        }
        let next = min(deadline, now + checkInterval)
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: next) { [weak self] in
            self?.check(context)
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
        deadline = nil
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
