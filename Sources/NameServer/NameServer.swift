#if canImport(Glibc)
import Glibc
#endif
import DNS
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The swarm's embedded DNS server: UDP and TCP listeners at 127.0.0.11:53
/// inside every task's network namespace, all answering from one directory
/// (scoped to the asking task's networks) and forwarding the rest upstream.
/// The listeners are served by the daemon's event loops.
public final class NameServer: Sendable {
    /// TCP connections one task may hold open at once, and how long one may sit idle.
    static let maximumConnections = 16
    static let idleTimeout = TimeAmount.seconds(10)

    private struct State {
        var directory = DNSDirectory(networks: [])
        /// Steps per query: which of several addresses comes first.
        var rotation: UInt64 = 0
        var listeners: [String: Listener] = [:]
        /// Queries answered, by result: a response code in lower case, "forwarded" or "dropped".
        var results: [String: UInt64] = [:]
    }

    private let group: any EventLoopGroup
    private let forwarder: UpstreamForwarder
    private let state = NIOLockedValueBox(State())

    /// `upstreams` answer what the swarm does not know (see `Upstreams`).
    public init(group: any EventLoopGroup, upstreams: [SocketAddress]) {
        self.group = group
        forwarder = UpstreamForwarder(group: group, upstreams: upstreams)
    }

    public var upstreams: [SocketAddress] { forwarder.upstreams }

    /// What every listener answers from now on.
    public func update(_ directory: DNSDirectory) {
        state.withLockedValue { $0.directory = directory }
    }

    /// Serves task `taskID`, attached to `networks`, at 127.0.0.11:53 in the
    /// network namespace at `path` until `stop(taskID:)`.
    public func serve(taskID: String, inNetworkNamespace path: String, networks: [String]) async throws {
        let sockets = try ListeningSockets.open(inNetworkNamespace: path)
        let listener = Listener()
        do {
            let datagram = try await DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: DNSDirectory.maximumUDPPayload))
                // Under load, datagrams are read (recvmmsg) and answered (sendmmsg) in batches.
                .channelOption(.datagramVectorReadMessageCount, value: 32)
                .channelOption(.maxMessagesPerRead, value: 32)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramQueryHandler(server: self, networks: networks))
                    }
                }
                .withBoundSocket(sockets.datagram).get()
            listener.add(datagram)
        } catch {
            close(sockets.stream)
            listener.closeAll()
            throw error
        }
        do {
            let stream = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .childChannelInitializer { channel in
                    guard listener.admit(channel) else { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(MessageFramer(), maximumBufferSize: MessageFramer.maximumBuffer))
                        try channel.pipeline.syncOperations.addHandler(StreamQueryHandler(server: self, networks: networks))
                    }
                }
                .withBoundSocket(sockets.stream).get()
            listener.add(stream)
        } catch {
            listener.closeAll()
            throw error
        }
        let previous = state.withLockedValue { $0.listeners.updateValue(listener, forKey: taskID) }
        previous?.closeAll()
    }

    /// Closes the task's listeners and connections: an open socket would
    /// keep its namespace, and with it its interfaces, alive.
    public func stop(taskID: String) {
        state.withLockedValue { $0.listeners.removeValue(forKey: taskID) }?.closeAll()
    }

    public func stopAll() {
        let listeners = state.withLockedValue { state in
            defer { state.listeners = [:] }
            return Array(state.listeners.values)
        }
        listeners.forEach { $0.closeAll() }
    }

    fileprivate func respond(to query: [UInt8], over transport: DNSTransport, fromNetworks networks: [String]) -> DNSResponse {
        let (directory, rotation) = state.withLockedValue { state in
            state.rotation &+= 1
            return (state.directory, state.rotation)
        }
        let response = directory.respond(to: query, over: transport, fromNetworks: networks, rotation: rotation)
        let result = switch response {
        case .answer(let reply): (try? DNSHeader(parsing: reply)).map { $0.responseCode.description.lowercased() } ?? "malformed"
        case .forward: "forwarded"
        case .drop: "dropped"
        }
        state.withLockedValue { $0.results[result, default: 0] += 1 }
        return response
    }

    /// What a Prometheus scrape of this node learns of its DNS server.
    public func metricFamilies() -> [MetricFamily] {
        let results = state.withLockedValue { $0.results }
        return [
            MetricFamily("swarm_dns_queries_total", help: "Queries the tasks' DNS server took, by result (forwarded: sent upstream).",
                         kind: .counter, samples: results.sorted { $0.key < $1.key }.map { Sample(Double($1), labels: [Label("result", $0)]) }),
        ]
    }

    fileprivate func forward(_ query: DNSForwardedQuery, on eventLoop: any EventLoop) -> EventLoopFuture<[UInt8]> {
        forwarder.forward(query, on: eventLoop)
    }
}

/// The channels serving one task: its two listeners and the TCP connections they accepted.
private final class Listener: Sendable {
    private let channels = NIOLockedValueBox<(listeners: [any Channel], connections: [ObjectIdentifier: any Channel])>(([], [:]))

    func add(_ channel: any Channel) {
        channels.withLockedValue { $0.listeners.append(channel) }
    }

    /// Whether `connection` may stay: within the task's share of connections.
    func admit(_ connection: any Channel) -> Bool {
        let key = ObjectIdentifier(connection)
        let admitted = channels.withLockedValue { channels in
            guard channels.connections.count < NameServer.maximumConnections else { return false }
            channels.connections[key] = connection
            return true
        }
        if admitted {
            connection.closeFuture.whenComplete { _ in self.channels.withLockedValue { _ = $0.connections.removeValue(forKey: key) } }
        }
        return admitted
    }

    func closeAll() {
        let all = channels.withLockedValue { channels in
            defer { channels = ([], [:]) }
            return channels.listeners + Array(channels.connections.values)
        }
        all.forEach { $0.close(promise: nil) }
    }
}

private final class DatagramQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let server: NameServer
    private let networks: [String]
    /// Upstream replies arrive in bursts, apart from the reads of this channel.
    private let forwardedReplies = BatchedWrites()

    init(server: NameServer, networks: [String]) {
        self.server = server
        self.networks = networks
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        switch server.respond(to: Array(envelope.data.readableBytesView), over: .udp, fromNetworks: networks) {
        case .drop:
            return
        case .answer(let reply):
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: ByteBuffer(bytes: reply))), promise: nil)
        case .forward(let query):
            let channel = context.channel
            let replies = forwardedReplies
            server.forward(query, on: context.eventLoop).whenSuccess { reply in
                replies.write(AddressedEnvelope(remoteAddress: client, data: ByteBuffer(bytes: reply)), to: channel)
            }
        }
    }

    /// The answers to a batch of reads leave together.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// A datagram socket's errors (e.g. a client's port gone) end nothing.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

private final class StreamQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: NameServer
    private let networks: [String]
    private var idle: Scheduled<Void>?

    init(server: NameServer, networks: [String]) {
        self.server = server
        self.networks = networks
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idle?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        armIdleTimer(context)
        switch server.respond(to: Array(unwrapInboundIn(data).readableBytesView), over: .tcp, fromNetworks: networks) {
        case .drop:
            context.close(promise: nil)
        case .answer(let reply):
            context.writeAndFlush(wrapOutboundOut(MessageFramer.framed(reply)), promise: nil)
        case .forward(let query):
            let channel = context.channel
            server.forward(query, on: context.eventLoop).whenSuccess { reply in
                channel.writeAndFlush(MessageFramer.framed(reply), promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func armIdleTimer(_ context: ChannelHandlerContext) {
        idle?.cancel()
        let channel = context.channel
        idle = context.eventLoop.scheduleTask(in: NameServer.idleTimeout) { channel.close(promise: nil) }
    }
}
