#if canImport(Glibc)
import Glibc
#endif
import ClusterStore
import Logging
import NIOCore
import Raft
import RaftHost
import RaftStorage
import ShoalAPI
import Transport

/// A manager's moving parts: the Raft host with its WAL, the replicated
/// store it feeds, and the transport to the other managers.
final class ManagerRuntime: Sendable {
    static let raftFrameKind: UInt8 = 1

    let identity: NodeIdentity
    let store: ReplicatedStore
    let host: RaftHost
    let transport: Transport

    private init(identity: NodeIdentity, store: ReplicatedStore, host: RaftHost, transport: Transport) {
        self.identity = identity
        self.store = store
        self.host = host
        self.transport = transport
    }

    /// Starts from the WAL under `dataDirectory`; `bootstrap` makes this node
    /// the single voter of a brand-new cluster when the WAL is empty.
    static func start(identity: NodeIdentity, dataDirectory: String, bootstrap: Bool,
                      group: EventLoopGroup, logger: Logger) async throws -> ManagerRuntime {
        try FileSystem.makeDirectory("\(dataDirectory)/swarm", mode: 0o700)
        let (wal, recovered) = try WAL.open(directory: "\(dataDirectory)/swarm/raft", fileSystem: PosixFileSystem())
        let config = RaftConfig(id: identity.raftID)
        let node = bootstrap && recovered == RecoveredState()
            ? RaftNode.bootstrap(config: config, voters: [identity.raftID])
            : RaftNode(config: config, recovered: recovered)
        let store = ReplicatedStore()
        let hostBox = LateBound<RaftHost>()
        let transport = try Transport(
            credentials: TransportCredentials(certificateChainPEM: identity.certificatePEM,
                                              privateKeyPEM: identity.privateKeyPEM,
                                              trustedRootsPEM: identity.caCertificatePEM),
            group: group, logger: logger,
            admits: { peer in store.snapshot.nodes.contains { $0.meta.id == peer.nodeID } },
            receive: { peer, frame in
                guard frame.kind == raftFrameKind, let message = try? Message(decoding: frame.payload),
                      store.snapshot.nodes.first(where: { $0.meta.id == peer.nodeID })?.raftID == message.from else { return }
                hostBox.value?.receive(message)
            },
            disconnected: { peer in
                if let raftID = store.snapshot.nodes.first(where: { $0.meta.id == peer.nodeID })?.raftID {
                    hostBox.value?.peerDisconnected(raftID)
                }
            })
        let host = RaftHost(
            node: node, wal: wal, stateMachine: StoreStateMachine(store: store), logger: logger,
            send: { messages in
                let managers = store.snapshot.nodes.filter { $0.raftID != nil }
                for (raftID, batch) in Dictionary(grouping: messages, by: \.to) {
                    guard let peer = managers.first(where: { $0.raftID == raftID }) else { continue }
                    transport.send(batch.map { Frame(kind: raftFrameKind, payload: $0.encode()) }, to: peer.meta.id)
                }
            },
            onStorageFailure: { error in
                logger.critical("the raft log cannot be written: \(error); stopping the daemon")
                exit(70)
            })
        hostBox.value = host
        let (listenHost, listenPort) = try Self.split(identity.listenAddress)
        _ = try await transport.listen(host: listenHost, port: listenPort)
        host.start()
        return ManagerRuntime(identity: identity, store: store, host: host, transport: transport)
    }

    /// Replicates `batch`; returns the version it was applied at.
    func propose(_ batch: [Write]) async throws -> UInt64 {
        let answer: [UInt8]
        do {
            answer = try await host.propose(ReplicatedStore.command(batch))
        } catch let failure as RaftHost.Failure {
            throw ManagerError("the swarm does not have a leader right now (\(failure)): wait a moment and retry", status: 503)
        }
        switch try ReplicatedStore.outcome(from: answer) {
        case .applied(let version): return version
        case .refused(let error): throw ManagerError("\(error)", status: 409)
        }
    }

    /// Waits until this node leads (a new single-member cluster elects itself within ticks).
    func waitForLeadership(seconds: Double) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !host.currentStatus.isLeader {
            guard ContinuousClock.now < deadline else {
                throw ManagerError("this manager did not become leader within \(Int(seconds)) s: see the daemon log", status: 503)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() async {
        host.stop()
        await transport.shutdown()
    }

    static func split(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ManagerError("invalid address \(address): use HOST:PORT")
        }
        return (String(address[..<colon]), port)
    }
}

/// The store as the Raft host's state machine.
private final class StoreStateMachine: ReplicatedStateMachine, Sendable {
    let store: ReplicatedStore

    init(store: ReplicatedStore) { self.store = store }

    func apply(_ command: [UInt8], at index: UInt64) -> [UInt8] { store.apply(command, at: index) }
    func snapshot() -> [UInt8] { store.encodedSnapshot() }
    func restore(from snapshot: [UInt8]) throws { try store.restore(from: snapshot) }
}
