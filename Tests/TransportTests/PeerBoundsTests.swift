import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
@testable import Transport

/// What one peer can make a listener hold — requests in progress, answers,
/// connections, time — is bounded, however it sends and whatever it never reads.
@Suite struct PeerBoundsTests {
    private static let group = MultiThreadedEventLoopGroup.singleton
    private static let logger = Logger(label: "peer-bounds-test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A request handler that takes `delay` to answer, counting how many requests it serves at once.
    final class SlowServer: Sendable {
        private struct Counts {
            var now = 0
            var most = 0
            var total = 0
        }

        private let counts = NIOLockedValueBox(Counts())
        private let delay: Duration

        init(delay: Duration = .milliseconds(100)) {
            self.delay = delay
        }

        var most: Int { counts.withLockedValue { $0.most } }
        var total: Int { counts.withLockedValue { $0.total } }

        func serve(_ frame: Frame) async -> Frame? {
            counts.withLockedValue { counts in
                counts.now += 1
                counts.total += 1
                counts.most = max(counts.most, counts.now)
            }
            try? await Task.sleep(for: delay)
            counts.withLockedValue { $0.now -= 1 }
            return Frame(kind: frame.kind, payload: [])
        }
    }

    /// A TLS client that writes raw bytes, counts the frames that come back and notes when the server closes.
    final class RawClient: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = DecodedFrame

        let handshake: EventLoopPromise<Void>
        private let frames = NIOLockedValueBox(0)
        private(set) var channel: Channel?  // set once, before the test uses it

        private init(eventLoop: EventLoop) {
            handshake = eventLoop.makePromise()
        }

        var answers: Int { frames.withLockedValue { $0 } }
        var isOpen: Bool { channel?.isActive ?? false }

        /// Connects from `source` and completes the handshake: anonymously, or as a member with `credentials`.
        /// Throws when the server closes the connection before the handshake completes.
        static func connect(port: Int, credentials: TransportCredentials? = nil,
                            from source: String = "127.0.0.1") async throws -> RawClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv13
            tls.certificateVerification = .none
            if let credentials { tls = try credentials.tlsConfiguration(server: false) }
            let context = try NIOSSLContext(configuration: tls)
            let eventLoop = group.next()
            let client = RawClient(eventLoop: eventLoop)
            client.channel = try await ClientBootstrap(group: eventLoop)
                .bind(to: try SocketAddress(ipAddress: source, port: 0))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try sync.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 1 << 20)))
                        try sync.addHandler(client)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await client.handshake.futureResult.get()
            return client
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted = event { handshake.succeed() }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            frames.withLockedValue { $0 += 1 }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            handshake.fail(ChannelError.alreadyClosed)
        }

        /// Writes `count` empty frames of `kind` in one go.
        func send(kind: UInt8, count: Int) async throws {
            let one: [UInt8] = [0, 0, 0, 2, Frame.wireVersion, kind]
            try await channel?.writeAndFlush(ByteBuffer(bytes: Array([[UInt8]](repeating: one, count: count).joined())))
        }

        func close() async {
            try? await channel?.close()
        }
    }

    /// No handshake or idle deadline fires while a test runs: CPU-bound tests
    /// sharing the cooperative pool can hold a test's task for many seconds.
    private static let patient = TransportConfiguration(connectTimeoutMilliseconds: 60_000,
                                                        anonymousIdleTimeoutMilliseconds: 60_000)

    private func server(_ configuration: TransportConfiguration = patient, slow: SlowServer = SlowServer(),
                        pki: TestPKI, received: NIOLockedValueBox<Int> = .init(0)) async throws -> (Transport, Int) {
        let transport = try Transport(credentials: pki.credentials(nodeID: "manager"), configuration: configuration,
                                      group: Self.group, logger: Self.logger, admits: { _ in true },
                                      receive: { _, _ in received.withLockedValue { $0 += 1 } },
                                      serve: { _, frame in await slow.serve(frame) })
        return (transport, try await transport.listen(host: "127.0.0.1", port: 0))
    }

    /// Waits up to `seconds` for `condition`; returns whether it held.
    private func eventually(seconds: Double = 60, _ condition: () async -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        while await !condition() {
            guard clock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    @Test func anAnonymousPeerGetsOneAnswerAtATimeAndThenTheConnectionCloses() async throws {
        let pki = try TestPKI()
        let slow = SlowServer()
        let (server, port) = try await server(slow: slow, pki: pki)
        let client = try await RawClient.connect(port: port)
        try await client.send(kind: 128, count: 10_000)
        #expect(try await eventually { !client.isOpen })
        try await Task.sleep(for: .milliseconds(200))  // nothing more is being served
        #expect(slow.most == 1)
        #expect(slow.total == 1)
        #expect(client.answers == 1)
        await server.shutdown()
    }

    @Test func anAnonymousPeerSendingOneWayFramesIsDisconnectedAtTheFirst() async throws {
        let pki = try TestPKI()
        let received = NIOLockedValueBox(0)
        let (server, port) = try await server(pki: pki, received: received)
        let client = try await RawClient.connect(port: port)
        try await client.send(kind: 1, count: 1)
        #expect(try await eventually { !client.isOpen })
        #expect(received.withLockedValue { $0 } == 0)
        await server.shutdown()
    }

    @Test func anIdleAnonymousConnectionIsClosed() async throws {
        let pki = try TestPKI()
        let (server, port) = try await server(.init(anonymousIdleTimeoutMilliseconds: 200), pki: pki)
        let client = try await RawClient.connect(port: port)
        #expect(try await eventually(seconds: 3) { !client.isOpen })
        await server.shutdown()
    }

    @Test func unverifiedConnectionsAreCappedPerAddressAndInAll() async throws {
        let pki = try TestPKI()
        let (server, port) = try await server(
            .init(connectTimeoutMilliseconds: 60_000, anonymousIdleTimeoutMilliseconds: 60_000,
                  maximumUnverifiedConnectionsPerSource: 2, maximumUnverifiedConnections: 3),
            pki: pki)  // no deadline frees a place while the test runs
        let first = try await RawClient.connect(port: port, from: "127.0.0.1")
        _ = try await RawClient.connect(port: port, from: "127.0.0.1")
        await #expect(throws: (any Error).self) { _ = try await RawClient.connect(port: port, from: "127.0.0.1") }
        _ = try await RawClient.connect(port: port, from: "127.0.0.2")
        await #expect(throws: (any Error).self) { _ = try await RawClient.connect(port: port, from: "127.0.0.3") }
        // A closed connection gives its place back; a member's counts only until its certificate is verified.
        await first.close()
        let worker = try pki.credentials(nodeID: "worker")
        var member: RawClient?
        #expect(try await eventually {
            member = try? await RawClient.connect(port: port, credentials: worker, from: "127.0.0.4")
            return member != nil
        })
        #expect(try await eventually { (try? await RawClient.connect(port: port, from: "127.0.0.3")) != nil })
        #expect(member?.isOpen == true)
        await server.shutdown()
    }

    @Test func aMembersRequestsAreBoundedToo() async throws {
        let pki = try TestPKI()
        let slow = SlowServer(delay: .milliseconds(50))
        let (server, port) = try await server(.init(maximumOutstandingRequests: 2), slow: slow, pki: pki)
        let member = try await RawClient.connect(port: port, credentials: pki.credentials(nodeID: "worker"))
        // Within twice the bound: all answered, two at a time.
        try await member.send(kind: 131, count: 4)
        #expect(try await eventually { member.answers == 4 })
        #expect(slow.most <= 2)
        #expect(member.isOpen)
        // Far beyond: cut off, and never more than the bound at once.
        try await member.send(kind: 131, count: 10_000)
        #expect(try await eventually { !member.isOpen })
        try await Task.sleep(for: .milliseconds(200))
        #expect(slow.most <= 2)
        #expect(slow.total <= 8)
        await server.shutdown()
    }
}
