import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// The top of every connection's pipeline, inbound or outbound: learns the
/// peer's identity when the TLS handshake completes, checks it, and passes
/// frames on. Whatever is wrong with a peer or its bytes is logged and ends
/// in a dropped frame or a closed connection — never in a crash.
final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = DecodedFrame

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
    private let handshakeTimeout: TimeAmount
    private var logger: Logger
    private var identity: PeerIdentity?
    /// The handshake completed without a client certificate (joiners).
    private var anonymous = false
    private var refusalLogged = false
    private var handshakeDeadline: Scheduled<Void>?

    init(expectedNodeID: String?, callbacks: Callbacks, handshakeTimeout: TimeAmount, logger: Logger) {
        self.expectedNodeID = expectedNodeID
        self.callbacks = callbacks
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress { logger[metadataKey: "remote"] = "\(remote)" }
        let channel = context.channel
        handshakeDeadline = context.eventLoop.scheduleTask(in: handshakeTimeout) { [logger] in
            logger.warning("closing connection: no TLS handshake in time")
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
            return
        }
        guard let der = try? certificate?.toDERBytes(), let identity = PeerIdentity(certificateDER: der) else {
            logger.warning("closing connection: the peer's certificate names no node")
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
        if expectedNodeID != nil { callbacks.ready(context.channel) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard identity != nil || anonymous else { return }  // no application data arrives before the handshake
        switch unwrapInboundIn(data) {
        case .unsupportedVersion(let version):
            logger.warning("dropping frame of unsupported wire version \(version)")
        case .frame(let frame) where frame.isRequest:
            guard let serve = callbacks.serve else {
                logger.warning("dropping request of kind \(frame.kind): nothing here answers it")
                return
            }
            let identity = self.identity
            let channel = context.channel
            Task {
                if let reply = await serve(identity, frame) { channel.writeAndFlush(reply, promise: nil) }
            }
        case .frame(let frame):
            guard let identity else {
                logger.warning("dropping frame of kind \(frame.kind) from an anonymous peer")
                return
            }
            guard callbacks.admits(identity) else {
                if !refusalLogged {
                    logger.warning("dropping frames from \(identity): not a member of this cluster")
                    refusalLogged = true
                }
                return
            }
            callbacks.receive(identity, frame)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? FrameError {
            logger.warning("closing connection: \(error)")
        } else {
            logger.info("closing connection: \(error)")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeDeadline?.cancel()
        if let identity { callbacks.disconnected(identity) }
        callbacks.closed()
        context.fireChannelInactive()
    }
}
