#if canImport(Glibc)
import Glibc
#endif
import ClusterCA
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
    let identity: NodeIdentity
    let store: ReplicatedStore
    let host: RaftHost
    let transport: Transport
    let dispatcher: Dispatcher
    private let logger: Logger
    private let statusLoop = LateBound<Task<Void, Never>>()

    private init(identity: NodeIdentity, store: ReplicatedStore, host: RaftHost, transport: Transport,
                 dispatcher: Dispatcher, logger: Logger) {
        self.identity = identity
        self.store = store
        self.host = host
        self.transport = transport
        self.dispatcher = dispatcher
        self.logger = logger
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
        let dispatcher = Dispatcher()
        let hostBox = LateBound<RaftHost>()
        let runtimeBox = LateBound<ManagerRuntime>()
        let transport = try Transport(
            credentials: TransportCredentials(certificateChainPEM: identity.certificatePEM,
                                              privateKeyPEM: identity.privateKeyPEM,
                                              trustedRootsPEM: identity.caCertificatePEM),
            group: group, logger: logger,
            admits: { peer in store.snapshot.nodes.contains { $0.meta.id == peer.nodeID } },
            receive: { peer, frame in
                switch frame.kind {
                case ClusterProtocol.heartbeat:
                    dispatcher.heard(from: peer.nodeID)
                case ClusterProtocol.raft:
                    guard let message = try? Message(decoding: frame.payload),
                          store.snapshot.nodes.first(where: { $0.meta.id == peer.nodeID })?.raftID == message.from else { return }
                    hostBox.value?.receive(message)
                default:
                    break
                }
            },
            disconnected: { peer in
                if let raftID = store.snapshot.nodes.first(where: { $0.meta.id == peer.nodeID })?.raftID {
                    hostBox.value?.peerDisconnected(raftID)
                }
            },
            serve: { _, frame in await runtimeBox.value?.answer(frame) })
        let host = RaftHost(
            node: node, wal: wal, stateMachine: StoreStateMachine(store: store), logger: logger,
            send: { messages in
                let managers = store.snapshot.nodes.filter { $0.raftID != nil }
                for (raftID, batch) in Dictionary(grouping: messages, by: \.to) {
                    guard let peer = managers.first(where: { $0.raftID == raftID }) else { continue }
                    transport.send(batch.map { Frame(kind: ClusterProtocol.raft, payload: $0.encode()) }, to: peer.meta.id)
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
        let runtime = ManagerRuntime(identity: identity, store: store, host: host, transport: transport,
                                     dispatcher: dispatcher, logger: logger)
        runtimeBox.value = runtime
        runtime.statusLoop.value = Task { await runtime.watchNodes() }
        return runtime
    }

    /// Once per heartbeat period: keep peer addresses current, heartbeat to
    /// the other managers, and (as leader) write nodes that went down or came back.
    private func watchNodes() async {
        while !Task.isCancelled {
            let snapshot = store.snapshot
            let period = Duration.milliseconds(Int((snapshot.cluster?.heartbeatPeriodSeconds ?? 1) * 1000))
            for node in snapshot.nodes where node.role == .manager && node.meta.id != identity.nodeID {
                if let (host, port) = try? Self.split(node.advertiseAddress) { transport.setPeer(node.meta.id, host: host, port: port) }
                transport.send(Frame(kind: ClusterProtocol.heartbeat, payload: []), to: node.meta.id)
            }
            let changes = dispatcher.statusChanges(nodes: snapshot.nodes, selfID: identity.nodeID,
                                                   isLeader: host.currentStatus.isLeader, period: period)
            if !changes.isEmpty {
                do {
                    _ = try await propose(changes.map { .update(.node($0)) })
                } catch {
                    logger.debug("node status update deferred: \(error)")
                }
            }
            try? await Task.sleep(for: period)
        }
    }

    /// Answers the requests anyone may send: the root CA, and joining.
    private func answer(_ frame: Frame) async -> Frame? {
        switch frame.kind {
        case ClusterProtocol.rootCA:
            return Frame(kind: ClusterProtocol.rootCA, payload: Array(identity.caCertificatePEM.utf8))
        case ClusterProtocol.join:
            guard let request = ClusterProtocol.decode(ClusterProtocol.JoinRequest.self, from: frame) else {
                return ClusterProtocol.frame(ClusterProtocol.join, ClusterProtocol.JoinAnswer.refused("malformed join request"))
            }
            return ClusterProtocol.frame(ClusterProtocol.join, await join(request))
        default:
            return nil
        }
    }

    private func join(_ request: ClusterProtocol.JoinRequest) async -> ClusterProtocol.JoinAnswer {
        let status = host.currentStatus
        let snapshot = store.snapshot
        guard status.isLeader else {
            if let leader = snapshot.nodes.first(where: { $0.raftID == status.leader && status.leader != 0 }) {
                return .redirect(address: leader.advertiseAddress)
            }
            return .refused("the swarm has no leader right now: retry in a moment")
        }
        guard let cluster = snapshot.cluster else { return .refused("the swarm is still starting: retry in a moment") }
        let role: NodeRole
        if JoinToken(caDigest: "", secret: cluster.workerJoinSecret).hasSecret(request.secret) {
            role = .worker
        } else if JoinToken(caDigest: "", secret: cluster.managerJoinSecret).hasSecret(request.secret) {
            return .refused("joining as a manager is not yet available: join as a worker")
        } else {
            return .refused("A valid join token is necessary to join this cluster")
        }
        do {
            let authority = try CertificateAuthority(certificatePEM: cluster.rootCACertificatePEM,
                                                     privateKeyPEM: cluster.rootCAKeyPEM)
            let nodeID = Base36.objectID()
            let certificate = try authority.issue(nodeID: nodeID, role: role.rawValue, publicKeyPEM: request.publicKeyPEM)
            let node = NodeObject(meta: ObjectMeta(id: nodeID), hostname: request.hostname,
                                  advertiseAddress: request.advertiseAddress, role: role, state: .ready,
                                  engineVersion: Defaults.version)
            dispatcher.heard(from: nodeID)
            _ = try await propose([.create(.node(node))])
            logger.info("node joined", metadata: ["node_id": "\(nodeID)", "hostname": "\(request.hostname)", "role": "\(role)"])
            let managers = store.snapshot.nodes.compactMap { node in
                node.raftID.map { ClusterProtocol.ManagerInfo(nodeID: node.meta.id, raftID: $0, address: node.advertiseAddress) }
            }
            return .joined(nodeID: nodeID, role: role.rawValue, certificatePEM: certificate, managers: managers)
        } catch {
            return .refused("\(error)")
        }
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
        statusLoop.value?.cancel()
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
