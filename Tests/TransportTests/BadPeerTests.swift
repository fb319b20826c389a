import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import Transport

/// A member of the cluster whose bytes are broken: its frames are dropped or
/// its connection closed, and the transport goes on serving everyone else.
@Suite struct BadPeerTests {
    /// Opens a mutual-TLS connection with `credentials` and writes `bytes` raw.
    private func sendRaw(_ bytes: [UInt8], port: Int, credentials: TransportCredentials) async throws -> Channel {
        let tls = try NIOSSLContext(configuration: credentials.tlsConfiguration(server: false))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        return channel
    }

    private func frameBytes(length: UInt32, version: UInt8 = Frame.wireVersion, payload: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: length.bigEndian, Array.init) + [version, 1] + payload
    }

    @Test func badFramesAreDroppedAndTheServerKeepsServing() async throws {
        let pki = try TestPKI()
        let received = NIOLockedValueBox<[[UInt8]]>([])
        let server = try Transport(credentials: pki.credentials(nodeID: "server"),
                                   // A handshake slowed by a busy machine is not what this tests.
                                   configuration: .init(maximumFrameBytes: 64, connectTimeoutMilliseconds: 60_000),
                                   group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "bad-peer-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                   admits: { _ in true }, receive: { _, frame in received.withLockedValue { $0.append(frame.payload) } })
        let port = try await server.listen(host: "127.0.0.1", port: 0)
        let peer = try pki.credentials(nodeID: "peer")

        // Another wire version: skipped; the good frame after it arrives.
        let mixed = try await sendRaw(frameBytes(length: 3, version: 42, payload: [0]) + frameBytes(length: 3, payload: [1]),
                                      port: port, credentials: peer)
        // Oversized and malformed: the connection is closed.
        let oversized = try await sendRaw(frameBytes(length: 1_000_000, payload: [2]), port: port, credentials: peer)
        let malformed = try await sendRaw([0, 0, 0, 1, 0xff, 0xff], port: port, credentials: peer)
        try await oversized.closeFuture.get()
        try await malformed.closeFuture.get()

        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while received.withLockedValue({ $0 }).isEmpty, clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(received.withLockedValue { $0 } == [[1]])
        #expect(mixed.isActive)

        // Plain garbage instead of TLS: the handshake fails, nothing arrives.
        let garbage = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        try await garbage.writeAndFlush(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n\r\n".utf8)))
        try await garbage.closeFuture.get()

        // Still serving.
        _ = try await sendRaw(frameBytes(length: 3, payload: [3]), port: port, credentials: peer)
        let later = clock.now + .seconds(5)
        while received.withLockedValue({ $0 }).count < 2, clock.now < later { try await Task.sleep(for: .milliseconds(10)) }
        #expect(received.withLockedValue { $0 } == [[1], [3]])
        try await mixed.close()
        await server.shutdown()
    }
}
