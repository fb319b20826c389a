import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// One request on a connection of its own — without a client certificate,
/// what a node that is joining uses before it has one. With
/// `trustedRootDER`, the server's certificate must chain to that one
/// certificate; without, the server is not verified at all — only for
/// fetching the CA whose digest the caller then checks against its join token.
public enum Request {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// With `credentials`, the request goes over mutual TLS as that node
    /// (their trusted roots verify the server); without, anonymously.
    public static func send(_ frame: Frame, host: String, port: Int, trustedRootDER: [UInt8]?,
                            credentials: TransportCredentials? = nil,
                            group: EventLoopGroup, timeout: TimeAmount = .seconds(10),
                            maximumFrameBytes: Int = 16 << 20) async throws -> Frame {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        if let credentials {
            tls = try credentials.tlsConfiguration(server: false)
        } else if let trustedRootDER {
            tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: trustedRootDER, format: .der)])
            tls.certificateVerification = .noHostnameVerification
        } else {
            tls.certificateVerification = .none
        }
        let context = try NIOSSLContext(configuration: tls)
        let eventLoop = group.next()
        let answer = eventLoop.makePromise(of: Frame.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try sync.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: maximumFrameBytes)))
                        try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                        try sync.addHandler(AnswerHandler(request: frame, answer: answer))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            answer.fail(error)
            throw Failure(description: "cannot connect to \(host):\(port): \(error)")
        }
        let deadline = eventLoop.scheduleTask(in: timeout) {
            answer.fail(Failure(description: "\(host):\(port) did not answer within \(timeout.nanoseconds / 1_000_000_000) s"))
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try await answer.futureResult.get()
    }
}

/// Writes the request once TLS is up; takes the first frame as the answer.
private final class AnswerHandler: ChannelInboundHandler {
    typealias InboundIn = DecodedFrame
    typealias OutboundOut = Frame

    private let request: Frame
    private let answer: EventLoopPromise<Frame>

    init(request: Frame, answer: EventLoopPromise<Frame>) {
        self.request = request
        self.answer = answer
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            context.writeAndFlush(wrapOutboundOut(request), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .frame(let frame) = unwrapInboundIn(data) { answer.succeed(frame) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        answer.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(Request.Failure(description: "the connection closed before an answer came"))
        context.fireChannelInactive()
    }
}
