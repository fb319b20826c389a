import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The one outbound connection to a peer: frames sent while it is down wait
/// in a bounded queue; a lost connection is redialled with doubling backoff.
final class PeerLink: Sendable {
    struct Endpoint: Equatable, Sendable {
        var host: String
        var port: Int
    }

    private struct State {
        var endpoint: Endpoint
        var channel: Channel?
        var connecting = false
        var retryScheduled = false
        var closed = false
        var backoffMilliseconds: Int64
        var queued: [Frame] = []
        /// Bytes queued here plus bytes handed to the channel and not yet written.
        var pendingBytes = 0
    }

    let nodeID: String
    private let state: NIOLockedValueBox<State>
    private let eventLoop: EventLoop
    private let tls: NIOSSLContext
    private let configuration: TransportConfiguration
    private let callbacks: FrameHandler.Callbacks
    private let warnings: RateLimitedWarnings
    private let logger: Logger

    init(nodeID: String, endpoint: Endpoint, eventLoop: EventLoop, tls: NIOSSLContext, configuration: TransportConfiguration,
         callbacks: FrameHandler.Callbacks, warnings: RateLimitedWarnings, logger: Logger) {
        self.nodeID = nodeID
        self.warnings = warnings
        self.eventLoop = eventLoop
        self.tls = tls
        self.configuration = configuration
        self.callbacks = callbacks
        var logger = logger
        logger[metadataKey: "peer"] = "\(nodeID)"
        self.logger = logger
        state = NIOLockedValueBox(State(endpoint: endpoint, backoffMilliseconds: configuration.initialBackoffMilliseconds))
    }

    /// Queues or writes `frames` (flushed together); returns how many were
    /// accepted — the rest were dropped because the peer's queue is full.
    func send(_ frames: [Frame]) -> Int {
        enum Action { case write(Channel), queued(dial: Bool) }
        let (accepted, action): ([Frame], Action) = state.withLockedValue { state in
            guard !state.closed else { return ([], .queued(dial: false)) }
            var accepted: [Frame] = []
            for frame in frames where state.pendingBytes + frame.wireLength <= configuration.sendQueueBytes {
                state.pendingBytes += frame.wireLength
                accepted.append(frame)
            }
            if let channel = state.channel { return (accepted, .write(channel)) }
            state.queued += accepted
            let dial = !accepted.isEmpty && !state.connecting && !state.retryScheduled
            if dial { state.connecting = true }
            return (accepted, .queued(dial: dial))
        }
        switch action {
        case .write(let channel):
            if !accepted.isEmpty { write(accepted, to: channel) }
        case .queued(let dial):
            if dial { connect() }
        }
        return accepted.count
    }

    func update(endpoint: Endpoint) {
        let stale: Channel? = state.withLockedValue { state in
            guard state.endpoint != endpoint else { return nil }
            state.endpoint = endpoint
            return state.channel
        }
        stale?.close(promise: nil)
    }

    func close() {
        let channel = state.withLockedValue { state in
            state.closed = true
            state.queued = []
            return state.channel
        }
        channel?.close(promise: nil)
    }

    private func write(_ frames: [Frame], to channel: Channel) {
        for frame in frames {
            let size = frame.wireLength
            channel.write(frame).whenComplete { [state] _ in
                state.withLockedValue { $0.pendingBytes -= size }
            }
        }
        channel.flush()
    }

    private func connect() {
        let endpoint = state.withLockedValue { $0.endpoint }
        let callbacks = FrameHandler.Callbacks(
            admits: self.callbacks.admits,
            receive: self.callbacks.receive,
            serve: self.callbacks.serve,
            disconnected: self.callbacks.disconnected,
            ready: { [weak self] channel in self?.connected(channel) },
            closed: { [weak self] in self?.lost() }
        )
        let handshakeTimeout = TimeAmount.milliseconds(configuration.connectTimeoutMilliseconds)
        let maximumFrameBytes = configuration.maximumFrameBytes
        let configuration = self.configuration
        let warnings = self.warnings
        let logger = self.logger
        ClientBootstrap(group: eventLoop)
            .connectTimeout(handshakeTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: maximumFrameBytes)))
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(FrameHandler(expectedNodeID: self.nodeID, callbacks: callbacks,
                                                     configuration: configuration, warnings: warnings, logger: logger))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .whenFailure { [weak self] error in
                self?.logger.debug("cannot connect to \(endpoint.host):\(endpoint.port): \(error)")
                self?.lost()
            }
    }

    private func connected(_ channel: Channel) {
        let frames: [Frame]? = state.withLockedValue { state in
            guard !state.closed else { return nil }
            state.channel = channel
            state.connecting = false
            state.backoffMilliseconds = configuration.initialBackoffMilliseconds
            defer { state.queued = [] }
            return state.queued
        }
        guard let frames else {
            channel.close(promise: nil)
            return
        }
        logger.debug("connected")
        write(frames, to: channel)
    }

    /// The connection failed or ended: what was queued is dropped (Raft and
    /// the dispatcher resend what matters), and a redial is scheduled.
    private func lost() {
        let delay: Int64? = state.withLockedValue { state in
            state.channel = nil
            state.connecting = false
            state.pendingBytes -= state.queued.reduce(0) { $0 + $1.wireLength }
            state.queued = []
            guard !state.closed, !state.retryScheduled else { return nil }
            state.retryScheduled = true
            let delay = state.backoffMilliseconds
            state.backoffMilliseconds = min(delay * 2, configuration.maximumBackoffMilliseconds)
            return delay
        }
        guard let delay else { return }
        eventLoop.scheduleTask(in: .milliseconds(delay)) { [weak self] in self?.retry() }
    }

    /// After the backoff, dial again only if something is waiting to go out.
    private func retry() {
        let dial = state.withLockedValue { state in
            state.retryScheduled = false
            guard !state.closed, state.channel == nil, !state.connecting, !state.queued.isEmpty else { return false }
            state.connecting = true
            return true
        }
        if dial { connect() }
    }
}
