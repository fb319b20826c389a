#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import ShoalAPI

/// An HTTP/1.1 + JSON API answered by an `HTTPRouter`: the local API on its
/// unix socket, or (for tools such as the benchmark store) on TCP.
public final class APIServer: Sendable {
    public enum Endpoint: Sendable {
        /// Bound root-only (0600), replacing a stale socket file.
        case unixSocket(path: String)
        case tcp(host: String, port: Int)
    }

    private let channel: Channel

    /// `requestTimeout`: how long a connection may take to send a whole
    /// request, or stay idle between requests, before it is closed.
    public static func start(_ endpoint: Endpoint, router: HTTPRouter, group: EventLoopGroup,
                             requestTimeout: TimeAmount = .seconds(30)) throws -> APIServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(router: router, requestTimeout: requestTimeout))
                }
            }
        switch endpoint {
        case .tcp(let host, let port):
            return APIServer(channel: try bootstrap.bind(host: host, port: port).wait())
        case .unixSocket(let socketPath):
            let channel = try bootstrap.bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).wait()
            guard chmod(socketPath, 0o600) == 0 else {
                try? channel.close().wait()
                throw ShoalError("cannot restrict \(socketPath) to root", hint: "check the file system it is on")
            }
            return APIServer(channel: channel)
        }
    }

    private init(channel: Channel) { self.channel = channel }

    public func close() throws { try channel.close().wait() }
}

/// Collects one request at a time and answers it through the router.
/// A connection gets `requestTimeout` for each request (from when it
/// connects, or from the previous answer); one that sends half a request or
/// idles longer is closed. A request the HTTP parser refuses ends the connection.
private final class HTTPRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bodies larger than this are refused; the API's requests are small.
    private static let maximumBodyBytes = 8 << 20

    private let router: HTTPRouter
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private let requestTimeout: TimeAmount
    private var requestDeadline: Scheduled<Void>?

    init(router: HTTPRouter, requestTimeout: TimeAmount) {
        self.router = router
        self.requestTimeout = requestTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestDeadline?.cancel()
        requestDeadline = nil
        context.fireChannelInactive()
    }

    /// The HTTP parser's 400 is on its way (HTTPServerProtocolErrorHandler): close once it is out.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        requestDeadline?.cancel()
        context.close(promise: nil)
    }

    private func armDeadline(context: ChannelHandlerContext) {
        requestDeadline?.cancel()
        let channel = context.channel
        requestDeadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maximumBodyBytes {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head else { return }
            self.head = nil
            // No deadline while the router works: some calls legitimately take a while.
            requestDeadline?.cancel()
            requestDeadline = nil
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let version = head.version
        if tooLarge {
            write(context: context, version: version, keepAlive: false,
                  response: .text("request body too large\n", status: 413))
            return
        }
        guard let target = RequestTarget(parsing: head.uri) else {
            write(context: context, version: version, keepAlive: false, response: HTTPRouter.errorResponse(
                400, "malformed request target \(head.uri.prefix(200).debugDescription): percent-encode the path and query"))
            return
        }
        let request = APIRequest(method: head.method.rawValue, path: target.path, query: target.query, body: body)
        let router = self.router
        let promise = context.eventLoop.makePromise(of: APIResponse.self)
        promise.completeWithTask { await router.respond(to: request) }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { response in
            let (handler, context) = loopBound.value
            handler.write(context: context, version: version, keepAlive: keepAlive, response: response)
        }
    }

    private func write(context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, response: APIResponse) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: version, status: .init(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            armDeadline(context: context)
        } else {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
