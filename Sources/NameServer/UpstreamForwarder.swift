import DNS
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Asks the upstream servers the names the swarm does not know, docker's
/// way: in order, over the protocol the client used (UDP cut short → the
/// same server again over TCP), SERVFAIL or REFUSED → the next server, and
/// no answer within `budget` → SERVFAIL. UDP goes through a few sockets per
/// server and event loop (`UpstreamSockets`), TCP a connection per attempt;
/// every attempt has a fresh random id and takes only a reply that matches
/// it, the question and the server. Queries identical but for their id,
/// asked while one of them is in flight, share its attempt.
final class UpstreamForwarder: Sendable {
    /// How long a client waits at most before it gets SERVFAIL.
    static let budget = TimeAmount.seconds(2)
    /// Queries forwarded at once; more get SERVFAIL at once rather than queue without bound.
    static let maximumInFlight = 256

    let upstreams: [SocketAddress]
    private let group: any EventLoopGroup
    private let inFlight = NIOLockedValueBox(0)
    private let loops = NIOLockedValueBox<[ObjectIdentifier: LoopForwarding]>([:])

    /// What one event loop is asking upstream. Touched only on that loop.
    private final class LoopForwarding: @unchecked Sendable {
        /// The UDP sockets to each upstream, in `upstreams`' order.
        let datagramSockets: [UpstreamSockets]
        /// The reply each distinct query in flight will get (see `DNSForwardedQuery.coalescingKey`).
        var asked: [DNSForwardedQuery.CoalescingKey: EventLoopFuture<[UInt8]>] = [:]

        init(datagramSockets: [UpstreamSockets]) { self.datagramSockets = datagramSockets }
    }

    init(group: any EventLoopGroup, upstreams: [SocketAddress]) {
        self.group = group
        self.upstreams = upstreams
    }

    /// The reply for the client: an upstream's answer, or SERVFAIL. Runs on
    /// `eventLoop` alone, so a busy task pool never holds a client waiting.
    func forward(_ query: DNSForwardedQuery, on eventLoop: any EventLoop) -> EventLoopFuture<[UInt8]> {
        let admitted = inFlight.withLockedValue { count in
            guard count < Self.maximumInFlight else { return false }
            count += 1
            return true
        }
        guard admitted else { return eventLoop.makeSucceededFuture(query.serverFailure()) }
        let loop = forwarding(on: eventLoop)
        let key = query.coalescingKey
        let reply: EventLoopFuture<[UInt8]>
        if let asked = loop.asked[key] {
            reply = asked.map { query.adopting($0) }
        } else {
            reply = forward(query, from: 0, until: .now() + Self.budget, on: eventLoop)
            loop.asked[key] = reply
            reply.whenComplete { _ in loop.asked[key] = nil }
        }
        reply.whenComplete { _ in self.inFlight.withLockedValue { $0 -= 1 } }
        return reply
    }

    /// Asks `upstreams[index]`, then the ones after it, until one answers or the deadline passes.
    private func forward(_ query: DNSForwardedQuery, from index: Int, until deadline: NIODeadline,
                         on eventLoop: any EventLoop) -> EventLoopFuture<[UInt8]> {
        let remaining = deadline - .now()
        guard upstreams.indices.contains(index), remaining > .zero else {
            return eventLoop.makeSucceededFuture(query.serverFailure())
        }
        // A silent server takes its share of the budget, not all of it.
        let share = TimeAmount.nanoseconds(remaining.nanoseconds / Int64(upstreams.count - index))
        return ask(index, query, over: query.transport, within: share, on: eventLoop).flatMap { verdict in
            verdict == .retryOverTCP
                ? self.ask(index, query, over: .tcp, within: max(deadline - .now(), .zero), on: eventLoop)
                : eventLoop.makeSucceededFuture(verdict)
        }.flatMap { verdict in
            if case .reply(let bytes) = verdict { return eventLoop.makeSucceededFuture(bytes) }
            return self.forward(query, from: index + 1, until: deadline, on: eventLoop)
        }
    }

    /// One attempt at `upstreams[index]`: its verdict on the first reply that
    /// matches, or `tryNextServer` when it refuses, fails or stays silent.
    private func ask(_ index: Int, _ query: DNSForwardedQuery, over transport: DNSTransport,
                     within timeout: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<DNSForwardedQuery.Verdict> {
        if transport == .udp { return forwarding(on: eventLoop).datagramSockets[index].ask(query, within: timeout) }
        let upstream = upstreams[index]
        let id = UInt16.random(in: .min ... .max)
        let payload = query.upstreamQuery(id: id)
        let attempt = Attempt(eventLoop: eventLoop)
        let expiry = eventLoop.scheduleTask(in: timeout) { attempt.decide(.tryNextServer) }
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(MessageFramer(), maximumBufferSize: MessageFramer.maximumBuffer))
                    // A reply counts only with the id and question sent (the connection's peer is the server asked).
                    try channel.pipeline.syncOperations.addHandler(StreamReplyHandler(attempt: attempt) { reply in
                        query.judge(reply, from: upstream, over: .tcp, upstreamID: id, upstream: upstream)
                    })
                }
            }
            .connect(to: upstream)
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                channel.writeAndFlush(MessageFramer.framed(payload), promise: nil)
                attempt.verdict.whenComplete { _ in channel.close(promise: nil) }
            case .failure:
                attempt.decide(.tryNextServer)
            }
        }
        attempt.verdict.whenComplete { _ in expiry.cancel() }
        return attempt.verdict
    }

    /// What `eventLoop` is asking, made on first use.
    private func forwarding(on eventLoop: any EventLoop) -> LoopForwarding {
        loops.withLockedValue { all in
            let key = ObjectIdentifier(eventLoop as AnyObject)
            if let loop = all[key] { return loop }
            let loop = LoopForwarding(datagramSockets: upstreams.map { UpstreamSockets(eventLoop: eventLoop, upstream: $0) })
            all[key] = loop
            return loop
        }
    }
}

/// One attempt's verdict, decided once, on its event loop: by a reply, an error or the timeout.
final class Attempt: @unchecked Sendable {
    private let eventLoop: any EventLoop
    private let promise: EventLoopPromise<DNSForwardedQuery.Verdict>
    /// Touched only on `eventLoop`.
    private var decided = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        promise = eventLoop.makePromise()
    }

    var verdict: EventLoopFuture<DNSForwardedQuery.Verdict> { promise.futureResult }

    func decide(_ verdict: DNSForwardedQuery.Verdict) {
        eventLoop.preconditionInEventLoop()
        guard !decided else { return }
        decided = true
        promise.succeed(verdict)
    }
}

private final class StreamReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let attempt: Attempt
    private let judge: ([UInt8]) -> DNSForwardedQuery.Verdict

    init(attempt: Attempt, judge: @escaping ([UInt8]) -> DNSForwardedQuery.Verdict) {
        self.attempt = attempt
        self.judge = judge
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let verdict = judge(Array(unwrapInboundIn(data).readableBytesView))
        if verdict != .ignore { attempt.decide(verdict) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        attempt.decide(.tryNextServer)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        attempt.decide(.tryNextServer)
        context.close(promise: nil)
    }
}

/// DNS over TCP: every message behind a two-byte length.
struct MessageFramer: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// One whole message and its length prefix, with room to spare.
    static let maximumBuffer = 2 * (Int(UInt16.max) + 2)

    static func framed(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(clamping: message.count))
        buffer.writeBytes(message.prefix(Int(UInt16.max)))
        return buffer
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let message = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
