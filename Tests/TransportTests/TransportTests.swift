import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import Transport

/// Real TLS over loopback between transports with certificates of a CA the
/// test makes itself.
@Suite struct TransportTests {
    /// What a transport received, for the test to wait on.
    final class Inbox: Sendable {
        private let frames = NIOLockedValueBox<[(PeerIdentity, Frame)]>([])

        func add(_ peer: PeerIdentity, _ frame: Frame) { frames.withLockedValue { $0.append((peer, frame)) } }
        var received: [(PeerIdentity, Frame)] { frames.withLockedValue { $0 } }

        /// Waits up to `seconds` for `count` frames.
        func wait(for count: Int, seconds: Double = 5) async throws -> [(PeerIdentity, Frame)] {
            let clock = ContinuousClock()
            let deadline = clock.now + .milliseconds(Int(seconds * 1000))
            while received.count < count, clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            return received
        }
    }

    struct Node {
        let transport: Transport
        let inbox: Inbox
        let port: Int
    }

    private static let group = MultiThreadedEventLoopGroup.singleton
    private static let logger = Logger(label: "transport-test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func node(_ credentials: TransportCredentials, admitting members: Set<String>? = nil,
                      configuration: TransportConfiguration = .init()) async throws -> Node {
        let inbox = Inbox()
        let transport = try Transport(
            credentials: credentials, configuration: configuration, group: Self.group, logger: Self.logger,
            admits: { members?.contains($0.nodeID) ?? true }, receive: { inbox.add($0, $1) })
        let port = try await transport.listen(host: "127.0.0.1", port: 0)
        return Node(transport: transport, inbox: inbox, port: port)
    }

    @Test func framesArriveInOrderTaggedWithTheSendersIdentity() async throws {
        let pki = try TestPKI()
        let a = try await node(pki.credentials(nodeID: "node-a", role: "manager"))
        let b = try await node(pki.credentials(nodeID: "node-b", role: "worker"))
        a.transport.setPeer("node-b", host: "127.0.0.1", port: b.port)
        for i in 0..<100 { #expect(a.transport.send(Frame(kind: 7, payload: [UInt8(i)]), to: "node-b")) }
        let received = try await b.inbox.wait(for: 100)
        #expect(received.map(\.1.payload) == (0..<100).map { [UInt8($0)] })
        #expect(received.allSatisfy { $0.0 == PeerIdentity(nodeID: "node-a", role: "manager") && $0.1.kind == 7 })
        await a.transport.shutdown()
        await b.transport.shutdown()
    }

    @Test func aPeerThatComesUpLaterIsReachedByRedialling() async throws {
        let pki = try TestPKI()
        let a = try await node(pki.credentials(nodeID: "node-a"),
                               configuration: .init(initialBackoffMilliseconds: 20, maximumBackoffMilliseconds: 100))
        // Reserve a port, then free it so the first dials are refused.
        let late = try await node(pki.credentials(nodeID: "node-b"))
        let port = late.port
        await late.transport.shutdown()
        a.transport.setPeer("node-b", host: "127.0.0.1", port: port)
        #expect(a.transport.send(Frame(kind: 1, payload: [1]), to: "node-b"))  // lost: nobody listens
        try await Task.sleep(for: .milliseconds(100))

        let inbox = Inbox()
        let b = try Transport(credentials: pki.credentials(nodeID: "node-b"), group: Self.group, logger: Self.logger,
                              admits: { _ in true }, receive: { inbox.add($0, $1) })
        _ = try await b.listen(host: "127.0.0.1", port: port)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while inbox.received.isEmpty, clock.now < deadline {
            a.transport.send(Frame(kind: 1, payload: [2]), to: "node-b")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(inbox.received.first?.1.payload == [2])
        await a.transport.shutdown()
        await b.shutdown()
    }

    @Test func aCertificateOfAnotherClusterIsRefused() async throws {
        let ours = try TestPKI(name: "ours")
        let theirs = try TestPKI(name: "theirs")
        let b = try await node(ours.credentials(nodeID: "node-b"))
        // Signed by another CA, though it trusts ours: b refuses it in the handshake.
        let intruder = try await node(theirs.credentials(nodeID: "node-x", trusting: ours))
        intruder.transport.setPeer("node-b", host: "127.0.0.1", port: b.port)
        for _ in 0..<20 {
            intruder.transport.send(Frame(kind: 1, payload: [9]), to: "node-b")
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(b.inbox.received.isEmpty)
        await intruder.transport.shutdown()
        await b.transport.shutdown()
    }

    @Test func framesFromAPeerThatIsNotAMemberAreDropped() async throws {
        let pki = try TestPKI()
        let b = try await node(pki.credentials(nodeID: "node-b"), admitting: ["node-a"])
        let stranger = try await node(pki.credentials(nodeID: "node-z"))
        let member = try await node(pki.credentials(nodeID: "node-a"))
        stranger.transport.setPeer("node-b", host: "127.0.0.1", port: b.port)
        member.transport.setPeer("node-b", host: "127.0.0.1", port: b.port)
        stranger.transport.send(Frame(kind: 1, payload: [0]), to: "node-b")
        try await Task.sleep(for: .milliseconds(300))
        member.transport.send(Frame(kind: 1, payload: [1]), to: "node-b")
        let received = try await b.inbox.wait(for: 1)
        try await Task.sleep(for: .milliseconds(100))
        #expect(b.inbox.received.map(\.0.nodeID) == ["node-a"])
        #expect(received.first?.1.payload == [1])
        for n in [b, stranger, member] { await n.transport.shutdown() }
    }

    @Test func aPeerAnsweringWithTheWrongNodeIDIsNotTrusted() async throws {
        let pki = try TestPKI()
        let a = try await node(pki.credentials(nodeID: "node-a"))
        let impostor = try await node(pki.credentials(nodeID: "node-c"))
        a.transport.setPeer("node-b", host: "127.0.0.1", port: impostor.port)  // node-b's address, node-c answers
        for _ in 0..<5 { a.transport.send(Frame(kind: 1, payload: [1]), to: "node-b") }
        try await Task.sleep(for: .milliseconds(300))
        #expect(impostor.inbox.received.isEmpty)
        await a.transport.shutdown()
        await impostor.transport.shutdown()
    }

    @Test func aPeerThatGoesAwayIsReportedAtOnce() async throws {
        let pki = try TestPKI()
        let gone = NIOLockedValueBox<[String]>([])
        let a = try Transport(credentials: pki.credentials(nodeID: "node-a"), group: Self.group, logger: Self.logger,
                              admits: { _ in true }, receive: { _, _ in },
                              disconnected: { peer in gone.withLockedValue { $0.append(peer.nodeID) } })
        let aPort = try await a.listen(host: "127.0.0.1", port: 0)
        let b = try await node(pki.credentials(nodeID: "node-b"))
        b.transport.setPeer("node-a", host: "127.0.0.1", port: aPort)
        b.transport.send(Frame(kind: 1, payload: [1]), to: "node-a")
        try await Task.sleep(for: .milliseconds(200))
        #expect(gone.withLockedValue { $0 }.isEmpty)
        await b.transport.shutdown()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while gone.withLockedValue({ $0 }).isEmpty, clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(gone.withLockedValue { $0 } == ["node-b"])
        await a.shutdown()
    }

    @Test func aJoinerWithoutACertificateGetsAnswersButCannotSendFrames() async throws {
        let pki = try TestPKI()
        let inbox = Inbox()
        let server = try Transport(credentials: pki.credentials(nodeID: "manager"), group: Self.group, logger: Self.logger,
                                   admits: { _ in true }, receive: { inbox.add($0, $1) },
                                   serve: { peer, frame in Frame(kind: frame.kind, payload: Array((peer?.nodeID ?? "anonymous").utf8)) })
        let port = try await server.listen(host: "127.0.0.1", port: 0)
        let unverified = try await Request.send(Frame(kind: 200, payload: []), host: "127.0.0.1", port: port,
                                                trustedRootDER: nil, group: Self.group)
        #expect(String(decoding: unverified.payload, as: UTF8.self) == "anonymous")
        let pinned = try await Request.send(Frame(kind: 201, payload: []), host: "127.0.0.1", port: port,
                                            trustedRootDER: try pki.authority.certificateDER, group: Self.group)
        #expect(pinned.kind == 201)
        // Trusting another CA, the client refuses the server.
        let stranger = try TestPKI(name: "stranger")
        await #expect(throws: (any Error).self) {
            _ = try await Request.send(Frame(kind: 201, payload: []), host: "127.0.0.1", port: port,
                                       trustedRootDER: try stranger.authority.certificateDER, group: Self.group,
                                       timeout: .seconds(2))
        }
        // A one-way frame from an anonymous client is dropped.
        _ = try? await Request.send(Frame(kind: 5, payload: [1]), host: "127.0.0.1", port: port, trustedRootDER: nil,
                                    group: Self.group, timeout: .milliseconds(300))
        #expect(inbox.received.isEmpty)
        await server.shutdown()
    }

    @Test func sendsBeyondTheQueueBoundAreDropped() async throws {
        let pki = try TestPKI()
        let a = try await node(pki.credentials(nodeID: "node-a"), configuration: .init(sendQueueBytes: 1000))
        a.transport.setPeer("node-b", host: "127.0.0.1", port: 1)  // nobody there
        let frame = Frame(kind: 1, payload: [UInt8](repeating: 0, count: 400))
        // One batch is queued under one lock, so a failing dial cannot drain the queue meanwhile.
        #expect(a.transport.send(Array(repeating: frame, count: 5), to: "node-b") == 2)
        #expect(!a.transport.send(Frame(kind: 1, payload: []), to: "nobody"))
        await a.transport.shutdown()
    }
}
