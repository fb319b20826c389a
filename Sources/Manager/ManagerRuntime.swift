import Addressing
import ClusterStore
import ClusterWire
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Raft
import RaftHost
import RaftStorage
import ShoalAPI
import Transport

/// A manager's moving parts, wired: the WAL under the Raft host, the
/// replicated store the host applies to, the transport to the other nodes
/// (its inbound frames go through the `FrameRouter`), and the loops of the
/// `Dispatcher` and the `TaskLoop`. How a write reaches Raft: `propose`.
public final class ManagerRuntime: Sendable {
    /// This node's identity, with its newest certificate.
    public var identity: NodeIdentity { renewal.identity }
    let renewal: CertificateRenewal
    let store: ReplicatedStore
    let host: RaftHost
    let transport: Transport
    let dispatcher: Dispatcher
    let taskLoop: TaskLoop
    /// This node's own agent.
    let agent: any NodeAgent
    let group: EventLoopGroup
    let logger: Logger
    /// Runs a local-API call a follower forwarded (the daemon's own router).
    let callHandler = LateBound<@Sendable (ClusterProtocol.Call) async -> ClusterProtocol.CallAnswer>()
    private let loops = LateBound<[Task<Void, Never>]>()

    /// The swarm's managers and nodes, as this manager's replica of the store holds them.
    public var memberCounts: (managers: Int, nodes: Int) {
        let nodes = store.snapshot.nodes
        return (nodes.filter { $0.role == .manager }.count, nodes.count)
    }

    private init(renewal: CertificateRenewal, store: ReplicatedStore, host: RaftHost, transport: Transport,
                 dispatcher: Dispatcher, taskLoop: TaskLoop, agent: any NodeAgent, group: EventLoopGroup, logger: Logger) {
        self.renewal = renewal
        self.store = store
        self.host = host
        self.transport = transport
        self.dispatcher = dispatcher
        self.taskLoop = taskLoop
        self.agent = agent
        self.group = group
        self.logger = logger
    }

    /// Starts from the WAL under `dataDirectory`; `bootstrap` makes this node
    /// the single voter of a brand-new cluster when the WAL is empty.
    /// `demoted` is called once when the store says this node is a worker
    /// now; `storageFailed` when the Raft log cannot be written (the node
    /// must stop: it can no longer keep what it promised its peers).
    public static func start(identity: NodeIdentity, dataDirectory: String, bootstrap: Bool, group: EventLoopGroup,
                             agent: any NodeAgent, logger: Logger, demoted: @escaping @Sendable () -> Void,
                             storageFailed: @escaping @Sendable (any Error) -> Void) async throws -> ManagerRuntime {
        try FileSystem.makeDirectory("\(dataDirectory)/swarm", mode: 0o700)
        let (wal, recovered) = try WAL.open(directory: raftDirectory(in: dataDirectory), fileSystem: PosixFileSystem())
        let config = RaftConfig(id: identity.raftID)
        let node = bootstrap && recovered == RecoveredState()
            ? RaftNode.bootstrap(config: config, voters: [identity.raftID])
            : RaftNode(config: config, recovered: recovered)
        let store = ReplicatedStore()
        let taskLoop = TaskLoop()
        let dispatcher = Dispatcher(agent: agent, taskLoop: taskLoop)
        let transportConfiguration = TransportConfiguration()
        let router = FrameRouter(identity: identity, store: store, dispatcher: dispatcher, agent: agent, logger: logger)
        let transport = try Transport(
            credentials: identity.credentials, configuration: transportConfiguration, group: group, logger: logger,
            admits: router.admits, receive: router.receive, disconnected: router.disconnected, serve: router.serve)
        let droppedWarnings = RateLimitedWarnings()
        // A Raft frame's payload, with room left for the frame's own header.
        let raftPayloadBytes = transportConfiguration.maximumFrameBytes - 64
        let host = try RaftHost(
            node: node, wal: wal, recoveredSnapshot: recovered.snapshot, stateMachine: StoreStateMachine(store: store),
            maximumProposalBytes: transportConfiguration.maximumFrameBytes / 2, logger: logger,
            send: { messages in
                for (id, batch) in Dictionary(grouping: messages, by: \.to) {
                    guard let peer = router.manager(withRaftID: id) else { continue }
                    let frames = batch.flatMap { FrameRouter.raftFrames(for: $0, maximumPayloadBytes: raftPayloadBytes) }
                    let sent = transport.send(frames, to: peer.nodeID, at: peer.address)
                    if sent < frames.count {
                        droppedWarnings.warning(peer.nodeID, "dropped \(frames.count - sent) of \(frames.count) raft frames to \(peer.nodeID): its connection is down or its send queue is full; raft sends again", logger: logger)
                    }
                }
            },
            onStorageFailure: storageFailed)
        let renewal = CertificateRenewal(identity: identity, dataDirectory: dataDirectory)
        let runtime = ManagerRuntime(renewal: renewal, store: store, host: host, transport: transport,
                                     dispatcher: dispatcher, taskLoop: taskLoop, agent: agent, group: group, logger: logger)
        router.runtime.value = runtime
        let listen = try HostPort(peer: identity.listenAddress)
        _ = try await transport.listen(host: listen.host, port: listen.port)
        host.start()
        renewal.start(transport: transport, managers: { runtime.managers() }, group: group, logger: logger)
        runtime.loops.value = [
            Task { await dispatcher.run(runtime, demoted: demoted) },
            Task {
                await taskLoop.run(
                    store: store, isLeader: { host.currentStatus.isLeader },
                    propose: { writes, time in _ = try await runtime.propose(writes, at: time) },
                    dispatch: { dispatcher.dispatch($0, runtime) }, stepDown: { dispatcher.forgetDeliveries() }, logger: logger)
            },
        ]
        return runtime
    }

    /// How this manager runs the calls other managers forward to it.
    public func answerForwardedCalls(with handler: @escaping @Sendable (ClusterProtocol.Call) async -> ClusterProtocol.CallAnswer) {
        callHandler.value = handler
    }

    static func raftDirectory(in dataDirectory: String) -> String { "\(dataDirectory)/swarm/raft" }

    /// This node's agent changed a task's status: the dispatcher takes it in.
    public func report(_ reports: [TaskReport]) { dispatcher.report(reports, self) }

    /// The managers as peers reach them.
    public func managers() -> [ClusterProtocol.ManagerInfo] {
        store.snapshot.nodes.compactMap { node in
            guard node.role == .manager, let id = node.raftID else { return nil }
            return ClusterProtocol.ManagerInfo(nodeID: node.meta.id, raftID: id, address: node.advertiseAddress)
        }
    }

    func leaderAddress() -> String? {
        let leader = host.currentStatus.leader
        return store.snapshot.nodes.first { $0.raftID == leader && leader != 0 }?.advertiseAddress
    }

    /// Replicates `batch`, stamped `time` (the createdAt/updatedAt every
    /// manager gives what it writes); returns the version it was applied at.
    func propose(_ batch: [Write], at time: Date = Date()) async throws -> UInt64 {
        let answer: [UInt8]
        do {
            answer = try await host.propose(ReplicatedStore.command(batch, at: time))
        } catch let failure as RaftHost.Failure {
            switch failure.reason {
            case .notLeader(let leader) where leader != 0: throw SwarmError.notLeader(leaderAddress())
            case .tooLarge: throw SwarmError("\(failure)", kind: .tooLarge)
            default: throw SwarmError.noLeader
            }
        }
        switch try ReplicatedStore.outcome(from: answer) {
        case .applied(let version): return version
        case .refused(let error):
            if case .versionConflict = error { throw SwarmError("\(error)", kind: .outOfSequence) }
            throw SwarmError("\(error)", kind: .conflict)
        }
    }

    /// The store, read linearizably: after a ReadIndex round confirms this
    /// node has applied everything committed. Without a leader (no quorum)
    /// within `seconds`, docker's no-leader error: never a copy that may no
    /// longer be the cluster's.
    func linearizableSnapshot(seconds: Double = 2) async throws(SwarmError) -> Store {
        let host = self.host
        try await Self.confirm(within: seconds) { try await host.readBarrier() }
        return store.snapshot
    }

    /// Returns once `barrier` succeeded; throws `SwarmError.noLeader` when it
    /// fails or has not finished within `seconds` (a read the leader never
    /// confirms must not hold the caller, nor be answered anyway).
    static func confirm(within seconds: Double, _ barrier: @escaping @Sendable () async throws -> Void) async throws(SwarmError) {
        // Whichever comes first answers.
        let confirmed: Bool = await withCheckedContinuation { continuation in
            let answered = NIOLockedValueBox(false)
            @Sendable func answer(_ value: Bool) {
                guard answered.withLockedValue({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(returning: value)
            }
            Task { answer((try? await barrier()) != nil) }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                answer(false)
            }
        }
        guard confirmed else { throw .noLeader }
    }

    /// Waits until this node leads (a new single-member cluster elects itself within ticks).
    public func waitForLeadership(seconds: Double) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !host.currentStatus.isLeader {
            guard ContinuousClock.now < deadline else {
                throw SwarmError("this manager did not become leader within \(Int(seconds)) s: see the daemon log", kind: .unavailable)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func stop() async {
        await renewal.stop()
        loops.value?.forEach { $0.cancel() }
        taskLoop.poke()
        host.stop()
        await transport.shutdown()
    }

    /// The largest Raft message (in practice a snapshot of the whole store) a
    /// follower puts together from chunks.
    static let maximumRaftMessageBytes = 512 << 20
}

/// The store as the Raft host's state machine.
private final class StoreStateMachine: ReplicatedStateMachine, Sendable {
    let store: ReplicatedStore

    init(store: ReplicatedStore) { self.store = store }

    func apply(_ command: [UInt8], at index: UInt64) -> [UInt8] { store.apply(command, at: index) }
    func snapshot() -> [UInt8] { store.encodedSnapshot() }
    func restore(from snapshot: [UInt8]) throws { try store.restore(from: snapshot) }
}

/// Runs `write` (a read of the store, a change and its proposal) again, up to 5 times in all, when another
/// write moved an object on in between: the nodes' heartbeats and the orchestrator write all the time, and
/// what a user asks for does not depend on the version it happened to read.
func retryingOutOfSequence<Result>(_ write: () async throws -> Result) async throws -> Result {
    for _ in 1..<5 {
        do {
            return try await write()
        } catch let error as SwarmError where error.kind == .outOfSequence {
            continue
        }
    }
    return try await write()
}
