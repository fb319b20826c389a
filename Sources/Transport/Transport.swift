import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Node-to-node messaging: framed, versioned messages over mutual-TLS TCP.
///
/// Each node listens for its peers and dials each peer it sends to over one
/// connection of its own. Whoever connects must present a certificate of the
/// cluster CA; frames reach `receive` tagged with the sender's verified
/// identity, and only while `admits` accepts it. Sends never block: a frame
/// for a peer whose queue is full is dropped, as a lossy network would.
public final class Transport: Sendable {
    public typealias Receiver = @Sendable (PeerIdentity, Frame) -> Void
    /// Answers a request frame; nil sends no answer. The identity is nil for
    /// a client without a certificate.
    public typealias RequestHandler = @Sendable (PeerIdentity?, Frame) async -> Frame?

    private let configuration: TransportConfiguration
    private let group: EventLoopGroup
    private let logger: Logger
    /// The server's and the client's TLS contexts: replaced when the node's certificate is renewed.
    private let tls: NIOLockedValueBox<(server: NIOSSLContext, client: NIOSSLContext)>
    private let servesAnonymousClients: Bool
    private let callbacks: FrameHandler.Callbacks
    private let warnings = RateLimitedWarnings()
    private let unverified: UnverifiedConnections
    private let peers = NIOLockedValueBox<[String: PeerLink]>([:])
    private let listener = NIOLockedValueBox<Channel?>(nil)
    /// Connections peers opened to us, closed with the transport.
    private let accepted = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    public init(credentials: TransportCredentials, configuration: TransportConfiguration = .init(),
                group: EventLoopGroup, logger: Logger,
                admits: @escaping @Sendable (PeerIdentity) -> Bool, receive: @escaping Receiver,
                disconnected: @escaping @Sendable (PeerIdentity) -> Void = { _ in },
                serve: RequestHandler? = nil) throws {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        servesAnonymousClients = serve != nil
        tls = NIOLockedValueBox(try Self.contexts(credentials, servesAnonymousClients: serve != nil))
        callbacks = FrameHandler.Callbacks(admits: admits, receive: receive, serve: serve, disconnected: disconnected)
        unverified = UnverifiedConnections(perSource: configuration.maximumUnverifiedConnectionsPerSource,
                                           total: configuration.maximumUnverifiedConnections)
    }

    /// Why a connection was closed as soon as it was accepted.
    private struct TooManyUnverifiedConnections: Error {}

    /// Starts accepting peers on `host:port` (port 0 picks one) and returns the bound port.
    public func listen(host: String, port: Int) async throws -> Int {
        let tls = self.tls
        let callbacks = callbacks
        let logger = logger
        let configuration = configuration
        let warnings = warnings
        let unverified = unverified
        let accepted = self.accepted
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let source = channel.remoteAddress?.ipAddress ?? "unknown"
                guard let slot = unverified.admit(source) else {
                    warnings.warning("unverified-cap", "closing a connection from \(source) at once: at most \(unverified.perSource) "
                                     + "connections per address and \(unverified.total) in all may be unverified", logger: logger)
                    return channel.eventLoop.makeFailedFuture(TooManyUnverifiedConnections())
                }
                channel.closeFuture.whenComplete { _ in slot.release() }
                let key = ObjectIdentifier(channel)
                accepted.withLockedValue { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in _ = accepted.withLockedValue { $0.removeValue(forKey: key) } }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: tls.withLockedValue { $0.server }))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: configuration.maximumFrameBytes)))
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(FrameHandler(expectedNodeID: nil, callbacks: callbacks, configuration: configuration,
                                                     warnings: warnings, unverifiedSlot: slot, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
        listener.withLockedValue { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// Adds a peer, or moves it to a new address.
    public func setPeer(_ nodeID: String, host: String, port: Int) {
        let endpoint = PeerLink.Endpoint(host: host, port: port)
        peers.withLockedValue { peers in
            if let link = peers[nodeID] {
                link.update(endpoint: endpoint)
            } else {
                peers[nodeID] = PeerLink(nodeID: nodeID, endpoint: endpoint, eventLoop: group.next(),
                                         tls: tls.withLockedValue { $0.client },
                                         configuration: configuration, callbacks: callbacks, warnings: warnings, logger: logger)
            }
        }
    }

    /// From now on, connections present `credentials` (a renewed certificate).
    /// Links this node dialled are dropped, so they redial with it when next
    /// sent to (callers set their peers before sending); connections peers
    /// dialled keep the handshake they made.
    public func updateCredentials(_ credentials: TransportCredentials) throws {
        let contexts = try Self.contexts(credentials, servesAnonymousClients: servesAnonymousClients)
        tls.withLockedValue { $0 = contexts }
        for link in peers.withLockedValue({ peers in defer { peers = [:] }; return Array(peers.values) }) {
            link.close()
        }
    }

    private static func contexts(_ credentials: TransportCredentials,
                                 servesAnonymousClients: Bool) throws -> (server: NIOSSLContext, client: NIOSSLContext) {
        (try NIOSSLContext(configuration: credentials.tlsConfiguration(server: true, allowAnonymousClients: servesAnonymousClients)),
         try NIOSSLContext(configuration: credentials.tlsConfiguration(server: false)))
    }

    public func removePeer(_ nodeID: String) {
        peers.withLockedValue { $0.removeValue(forKey: nodeID) }?.close()
    }

    /// Sends `frame` to a known peer. False when the peer is unknown or its
    /// send queue is full; the frame is dropped then.
    @discardableResult
    public func send(_ frame: Frame, to nodeID: String) -> Bool {
        send([frame], to: nodeID) == 1
    }

    /// Sends `frames` to a known peer in order, flushed together. Returns how
    /// many were accepted; the rest (unknown peer, oversized, full queue) were dropped.
    @discardableResult
    public func send(_ frames: [Frame], to nodeID: String) -> Int {
        let fitting = frames.filter { frame in
            let size = frame.wireLength - Frame.headerBytes
            guard size <= configuration.maximumFrameBytes else {
                warnings.warning("oversized-send", "dropping a frame of kind \(frame.kind) for \(nodeID): \(size) bytes, "
                                 + "more than the limit of \(configuration.maximumFrameBytes)", logger: logger)
                return false
            }
            return true
        }
        guard let link = peers.withLockedValue({ $0[nodeID] }) else { return 0 }
        return link.send(fitting)
    }

    /// Stops listening and closes every connection, ours and our peers'.
    public func shutdown() async {
        for link in peers.withLockedValue({ peers in defer { peers = [:] }; return Array(peers.values) }) {
            link.close()
        }
        try? await listener.withLockedValue({ $0 })?.close()
        for channel in accepted.withLockedValue({ Array($0.values) }) { try? await channel.close() }
    }
}
