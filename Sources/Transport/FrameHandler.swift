import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// The top of every connection's pipeline, inbound or outbound: learns the
/// peer's identity when the TLS handshake completes, checks it, and passes
/// frames on. Whatever is wrong with a peer or its bytes is logged (rate
/// limited) and ends in a dropped frame or a closed connection — never in a
/// crash, and never in memory that grows with what the peer sends: requests
/// in progress are bounded, and the connection is not read while they are
/// at the bound or while the peer does not read our answers.
final class FrameHandler: ChannelDuplexHandler {
    typealias InboundIn = DecodedFrame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    struct Callbacks {
        /// Whether frames from this peer are accepted (checked on every frame:
        /// membership may change while a connection lasts).
        var admits: @Sendable (PeerIdentity) -> Bool
        var receive: @Sendable (PeerIdentity, Frame) -> Void
        /// Answers request frames (`Frame.isRequest`), from members and — on a
        /// listener that allows it — from anonymous peers (nil), such as a
        /// node that is joining and has no certificate yet.
        var serve: Transport.RequestHandler?
        /// A connection with a verified peer ended — for a peer that died,
        /// the first sign, well before any timeout.
        var disconnected: @Sendable (PeerIdentity) -> Void = { _ in }
        /// Called once the handshake proved the peer is who we dialled.
        var ready: @Sendable (Channel) -> Void = { _ in }
        var closed: @Sendable () -> Void = {}
    }

    /// For outbound connections, the node id the peer's certificate must carry.
    private let expectedNodeID: String?
    private let callbacks: Callbacks
    private let configuration: TransportConfiguration
    private let warnings: RateLimitedWarnings
    /// Held while the peer has not proven a member's identity (inbound only).
    private let unverifiedSlot: UnverifiedConnections.Slot?
    private var logger: Logger
    private var identity: PeerIdentity?
    /// The handshake completed without a client certificate (joiners): one
    /// request, one answer, then the connection is closed.
    private var anonymous = false
    private var refusalLogged = false
    private var handshakeDeadline: Scheduled<Void>?
    private var idleDeadline: Scheduled<Void>?
    /// Requests being served, and those read while that was at the bound.
    private var serving = 0
    private var waiting: [Frame] = []
    /// A read the channel asked for while reading was paused.
    private var readHeld = false
    private var inactive = false

    init(expectedNodeID: String?, callbacks: Callbacks, configuration: TransportConfiguration,
         warnings: RateLimitedWarnings, unverifiedSlot: UnverifiedConnections.Slot? = nil, logger: Logger) {
        self.expectedNodeID = expectedNodeID
        self.callbacks = callbacks
        self.configuration = configuration
        self.warnings = warnings
        self.unverifiedSlot = unverifiedSlot
        self.logger = logger
    }

    private var requestBound: Int { anonymous ? 1 : configuration.maximumOutstandingRequests }

    func handlerAdded(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress { logger[metadataKey: "remote"] = "\(remote)" }
        let channel = context.channel
        handshakeDeadline = context.eventLoop.scheduleTask(in: .milliseconds(configuration.connectTimeoutMilliseconds)) {
            [logger, warnings] in
            warnings.warning("handshake-timeout", "closing connection: no TLS handshake in time", logger: logger)
            channel.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        handshakeDeadline?.cancel()
        let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        if certificate == nil, expectedNodeID == nil, callbacks.serve != nil {
            anonymous = true
            let channel = context.channel
            idleDeadline = context.eventLoop.scheduleTask(in: .milliseconds(configuration.anonymousIdleTimeoutMilliseconds)) {
                channel.close(promise: nil)
            }
            return
        }
        guard let der = try? certificate?.toDERBytes(), let identity = PeerIdentity(certificateDER: der) else {
            warnings.warning("no-node-name", "closing connection: the peer's certificate names no node", logger: logger)
            context.close(promise: nil)
            return
        }
        logger[metadataKey: "peer"] = "\(identity.nodeID)"
        if let expectedNodeID, identity.nodeID != expectedNodeID {
            logger.warning("closing connection: dialled \(expectedNodeID) but the certificate names \(identity.nodeID)")
            context.close(promise: nil)
            return
        }
        self.identity = identity
        unverifiedSlot?.release()
        if expectedNodeID != nil { callbacks.ready(context.channel) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard identity != nil || anonymous else { return }  // no application data arrives before the handshake
        switch unwrapInboundIn(data) {
        case .unsupportedVersion(let version):
            warnings.warning("wire-version", "dropping frame of unsupported wire version \(version)", logger: logger)
        case .frame(let frame) where frame.isRequest:
            guard callbacks.serve != nil else {
                warnings.warning("unserved-request", "dropping request of kind \(frame.kind): nothing here answers it", logger: logger)
                return
            }
            request(frame, context: context)
        case .frame(let frame):
            guard let identity else {
                // A joiner only asks; anything else is not one.
                warnings.warning("anonymous-one-way", "closing connection: an anonymous peer sent a frame of kind \(frame.kind)",
                                 logger: logger)
                context.close(promise: nil)
                return
            }
            guard callbacks.admits(identity) else {
                if !refusalLogged {
                    warnings.warning("not-a-member", "dropping frames from \(identity): not a member of this cluster", logger: logger)
                    refusalLogged = true
                }
                return
            }
            callbacks.receive(identity, frame)
        }
    }

    /// Serves `frame` now, or once an earlier request is answered. Frames the
    /// decoder had already taken from the last read may come in after reading
    /// paused: an anonymous peer's are ignored (it gets one answer, then the
    /// connection closes); a member that sends more than a second bound's
    /// worth is not speaking this protocol, and is cut off.
    private func request(_ frame: Frame, context: ChannelHandlerContext) {
        if anonymous {
            guard let idleDeadline else { return }  // its one request came already
            idleDeadline.cancel()
            self.idleDeadline = nil
            serve(frame, context: context)
        } else if serving < requestBound {
            serve(frame, context: context)
        } else if waiting.count < requestBound {
            waiting.append(frame)
        } else {
            warnings.warning("request-flood", "closing connection: more than \(2 * requestBound) requests at once", logger: logger)
            context.close(promise: nil)
        }
    }

    private func serve(_ frame: Frame, context: ChannelHandlerContext) {
        guard let serve = callbacks.serve else { return }
        serving += 1
        let identity = self.identity
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let reply = await serve(identity, frame)
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.answer(reply, context: context)
            }
        }
    }

    private func answer(_ reply: Frame?, context: ChannelHandlerContext) {
        guard !inactive else { return }
        guard let reply else {
            answered(context: context)
            return
        }
        context.writeAndFlush(wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
            self.answered(context: context)
        }
    }

    /// An answer went out (or there was none): the next request, or reading again.
    private func answered(context: ChannelHandlerContext) {
        guard !inactive else { return }
        serving -= 1
        if anonymous {
            context.close(promise: nil)
            return
        }
        if !waiting.isEmpty { serve(waiting.removeFirst(), context: context) }
        resumeReading(context: context)
    }

    private func readingPaused(_ context: ChannelHandlerContext) -> Bool {
        !context.channel.isWritable || serving >= requestBound
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readHeld, !readingPaused(context) else { return }
        readHeld = false
        context.read()
    }

    func read(context: ChannelHandlerContext) {
        if readingPaused(context) {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context: context)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? FrameError {
            warnings.warning("bad-frame", "closing connection: \(error)", logger: logger)
        } else {
            warnings.warning("connection-error", "closing connection: \(error)", level: .info, logger: logger)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        waiting = []
        handshakeDeadline?.cancel()
        idleDeadline?.cancel()
        if let identity { callbacks.disconnected(identity) }
        callbacks.closed()
        context.fireChannelInactive()
    }
}
