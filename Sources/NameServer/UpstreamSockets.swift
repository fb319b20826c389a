import DNS
import NIOCore
import NIOPosix

/// The UDP sockets one event loop asks one upstream server through: a few
/// connected sockets, each replaced after a while by one on a new random
/// port, so a query costs one datagram each way rather than a socket of its
/// own. Every query has a random id no other pending query on them has; a
/// reply counts only with that id, the question asked and the server's
/// address. Touched only on its event loop.
final class UpstreamSockets: @unchecked Sendable {
    /// Sockets open at once, and queries one socket carries before a new one on another port takes its place.
    static let sockets = 4
    static let queriesPerSocket = 2000

    private final class Socket {
        let channel: EventLoopFuture<any Channel>
        var sent = 0
        init(_ channel: EventLoopFuture<any Channel>) { self.channel = channel }
    }

    private let eventLoop: any EventLoop
    private let upstream: SocketAddress
    private var sockets: [Socket] = []
    private var pending: [UInt16: (judge: ([UInt8]) -> DNSForwardedQuery.Verdict, attempt: Attempt)] = [:]

    init(eventLoop: any EventLoop, upstream: SocketAddress) {
        self.eventLoop = eventLoop
        self.upstream = upstream
    }

    /// Sends `query` and returns the verdict on the first reply that matches it,
    /// or `tryNextServer` when the server refuses, is unreachable or stays silent.
    func ask(_ query: DNSForwardedQuery, within timeout: TimeAmount) -> EventLoopFuture<DNSForwardedQuery.Verdict> {
        eventLoop.preconditionInEventLoop()
        var id = UInt16.random(in: .min ... .max)
        while pending[id] != nil { id = UInt16.random(in: .min ... .max) }
        let attempt = Attempt(eventLoop: eventLoop)
        let upstream = self.upstream
        pending[id] = ({ reply in query.judge(reply, from: upstream, over: .udp, upstreamID: id, upstream: upstream) }, attempt)
        let expiry = eventLoop.scheduleTask(in: timeout) { attempt.decide(.tryNextServer) }
        attempt.verdict.whenComplete { _ in
            expiry.cancel()
            self.pending[id] = nil
        }
        let payload = query.upstreamQuery(id: id)
        // Sent at once, not with the rest of the batch: the upstream server works meanwhile
        // (identical queries in flight are one already, see `UpstreamForwarder`).
        socket().channel.whenComplete { result in
            switch result {
            case .success(let channel):
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: payload)), promise: nil)
            case .failure:
                attempt.decide(.tryNextServer)
            }
        }
        return attempt.verdict
    }

    /// A socket to send on: a random one of the open ones, a worn one replaced first.
    private func socket() -> Socket {
        let slot = Int.random(in: 0..<Self.sockets)
        if slot >= sockets.count {
            sockets.append(open())
            return sockets[sockets.count - 1]
        }
        if sockets[slot].sent >= Self.queriesPerSocket {
            // Its last replies may still be on their way: it closes once the budget has passed.
            let worn = sockets[slot].channel
            eventLoop.scheduleTask(in: UpstreamForwarder.budget) { worn.whenSuccess { $0.close(promise: nil) } }
            sockets[slot] = open()
        }
        sockets[slot].sent += 1
        return sockets[slot]
    }

    private func open() -> Socket {
        Socket(DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelOption(.maxMessagesPerRead, value: 32)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamReplyHandler(sockets: self))
                }
            }
            .connect(to: upstream))
    }

    fileprivate func received(_ envelope: AddressedEnvelope<ByteBuffer>) {
        let view = envelope.data.readableBytesView
        guard view.count >= 2, envelope.remoteAddress == upstream else { return }
        let id = UInt16(view[view.startIndex]) << 8 | UInt16(view[view.startIndex + 1])
        guard let entry = pending[id] else { return }
        let verdict = entry.judge(Array(view))
        if verdict != .ignore { entry.attempt.decide(verdict) }
    }

    /// The server's port is closed (an ICMP error on a connected socket): every query waiting on it moves on.
    fileprivate func unreachable() {
        for entry in pending.values { entry.attempt.decide(.tryNextServer) }
    }
}

private final class UpstreamReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let sockets: UpstreamSockets

    init(sockets: UpstreamSockets) { self.sockets = sockets }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sockets.received(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sockets.unreachable()
    }
}
