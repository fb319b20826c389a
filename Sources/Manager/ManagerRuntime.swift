#if canImport(Glibc)
import Glibc
#endif
import ClusterCA
import ClusterStore
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Raft
import RaftHost
import RaftStorage
import ShoalAPI
import Transport

/// A manager's moving parts: the Raft host with its WAL, the replicated
/// store it feeds, and the transport to the other managers.
final class ManagerRuntime: Sendable {
    /// This node's identity, with its newest certificate.
    var identity: NodeIdentity { renewal.identity }
    let renewal: CertificateRenewal
    let store: ReplicatedStore
    let host: RaftHost
    let transport: Transport
    let dispatcher: Dispatcher
    let agent: AgentLink
    let taskLoop = TaskLoop()
    /// Called once when the store says this node is a worker now.
    let demoted: @Sendable () -> Void
    private let logger: Logger
    private let statusLoop = LateBound<Task<Void, Never>>()
    private let tasksLoop = LateBound<Task<Void, Never>>()

    private init(renewal: CertificateRenewal, store: ReplicatedStore, host: RaftHost, transport: Transport,
                 dispatcher: Dispatcher, agent: AgentLink, demoted: @escaping @Sendable () -> Void, logger: Logger) {
        self.agent = agent
        self.demoted = demoted
        self.renewal = renewal
        self.store = store
        self.host = host
        self.transport = transport
        self.dispatcher = dispatcher
        self.logger = logger
    }

    /// Starts from the WAL under `dataDirectory`; `bootstrap` makes this node
    /// the single voter of a brand-new cluster when the WAL is empty.
    static func start(identity: NodeIdentity, dataDirectory: String, bootstrap: Bool,
                      group: EventLoopGroup, agent: AgentLink, logger: Logger,
                      demoted: @escaping @Sendable () -> Void) async throws -> ManagerRuntime {
        try FileSystem.makeDirectory("\(dataDirectory)/swarm", mode: 0o700)
        let (wal, recovered) = try WAL.open(directory: "\(dataDirectory)/swarm/raft", fileSystem: PosixFileSystem())
        let config = RaftConfig(id: identity.raftID)
        let node = bootstrap && recovered == RecoveredState()
            ? RaftNode.bootstrap(config: config, voters: [identity.raftID])
            : RaftNode(config: config, recovered: recovered)
        let store = ReplicatedStore()
        let dispatcher = Dispatcher()
        // Until a promoted node's store has caught up, the managers it was told about route its Raft traffic.
        let seeds = identity.managers
        @Sendable func membership() -> ClusterMembership { ClusterMembership(store.snapshot, identity) }
        @Sendable func raftID(of nodeID: String) -> UInt64? { membership().raftID(of: nodeID) }
        @Sendable func manager(withRaftID id: UInt64) -> (nodeID: String, address: String)? {
            if let node = store.snapshot.nodes.first(where: { $0.raftID == id }) { return (node.meta.id, node.advertiseAddress) }
            return seeds.first(where: { $0.raftID == id }).map { ($0.nodeID, $0.address) }
        }
        let hostBox = LateBound<RaftHost>()
        let runtimeBox = LateBound<ManagerRuntime>()
        let transportConfiguration = TransportConfiguration()
        // A Raft frame's payload, with room left for the frame's own header.
        let raftPayloadBytes = transportConfiguration.maximumFrameBytes - 64
        let assembler = NIOLockedValueBox(RaftMessageAssembler(maximumMessageBytes: Self.maximumRaftMessageBytes,
                                                               timeout: .seconds(30)))
        let droppedWarnings = RateLimitedWarnings()
        @Sendable func receiveRaft(_ bytes: [UInt8], from sender: UInt64) {
            guard let message = try? Message(decoding: bytes), message.from == sender else { return }
            hostBox.value?.receive(message)
        }
        let transport = try Transport(
            credentials: identity.credentials, configuration: transportConfiguration,
            group: group, logger: logger,
            admits: { peer in membership().admits(peer.nodeID) },
            receive: { peer, frame in
                switch frame.kind {
                case ClusterProtocol.heartbeat:
                    dispatcher.heard(from: peer.nodeID)
                    runtimeBox.value?.taskLoop.receive(AgentLink.reports(in: frame), from: peer.nodeID)
                case ClusterProtocol.assignments:
                    // Only the leader assigns: a worker's (or a stale or demoted manager's) frame runs nothing here.
                    let membership = membership()
                    guard let leader = hostBox.value?.currentStatus.leader, leader != 0,
                          membership.isManager(peer), membership.raftID(of: peer.nodeID) == leader else { return }
                    agent.deliver(frame)
                case ClusterProtocol.raft:
                    guard let sender = raftID(of: peer.nodeID) else { return }
                    // Heartbeats keep coming: they also retire a chunked message whose sender went quiet.
                    assembler.withLockedValue { $0.discardIfStale(now: .now) }
                    receiveRaft(frame.payload, from: sender)
                case ClusterProtocol.raftChunk:
                    guard let sender = raftID(of: peer.nodeID), let leader = hostBox.value?.currentStatus.leader,
                          let bytes = assembler.withLockedValue({
                              $0.add(frame.payload, from: sender, leader: leader, now: .now)
                          }) else { return }
                    receiveRaft(bytes, from: sender)
                default:
                    break
                }
            },
            disconnected: { peer in
                if let id = raftID(of: peer.nodeID) { hostBox.value?.peerDisconnected(id) }
            },
            serve: { peer, frame in await runtimeBox.value?.answer(frame, from: peer) })
        let host = try RaftHost(
            node: node, wal: wal, recoveredSnapshot: recovered.snapshot, stateMachine: StoreStateMachine(store: store),
            maximumProposalBytes: transportConfiguration.maximumFrameBytes / 2, logger: logger,
            send: { messages in
                for (id, batch) in Dictionary(grouping: messages, by: \.to) {
                    guard let peer = manager(withRaftID: id) else { continue }
                    if let (host, port) = try? split(peer.address) { transport.setPeer(peer.nodeID, host: host, port: port) }
                    let frames = batch.flatMap { message in
                        RaftWire.payloads(for: message, maximumPayloadBytes: raftPayloadBytes,
                                          messageID: .random(in: 1...UInt64.max)).map { payload in
                            switch payload {
                            case .whole(let bytes): Frame(kind: ClusterProtocol.raft, payload: bytes)
                            case .chunk(let bytes): Frame(kind: ClusterProtocol.raftChunk, payload: bytes)
                            }
                        }
                    }
                    let sent = transport.send(frames, to: peer.nodeID)
                    if sent < frames.count {
                        droppedWarnings.warning(peer.nodeID, "dropped \(frames.count - sent) of \(frames.count) raft frames to \(peer.nodeID): its connection is down or its send queue is full; raft sends again", logger: logger)
                    }
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
        let renewal = CertificateRenewal(identity: identity, dataDirectory: dataDirectory)
        let runtime = ManagerRuntime(renewal: renewal, store: store, host: host, transport: transport,
                                     dispatcher: dispatcher, agent: agent, demoted: demoted, logger: logger)
        runtimeBox.value = runtime
        renewal.start(transport: transport, managers: { runtime.managers() }, group: group, logger: logger)
        runtime.statusLoop.value = Task { await runtime.watchNodes() }
        runtime.tasksLoop.value = Task {
            await runtime.taskLoop.run(
                store: store, isLeader: { host.currentStatus.isLeader },
                propose: { writes, time in _ = try await runtime.propose(writes, at: time) },
                deliver: { nodeID, assignments in runtime.deliver(assignments, to: nodeID) }, logger: logger)
        }
        return runtime
    }

    /// Hands a node its assignments: this node's agent directly, others over the transport.
    private func deliver(_ assignments: ClusterProtocol.Assignments, to nodeID: String) {
        if nodeID == identity.nodeID { return agent.deliver(assignments) }
        guard let node = store.snapshot.nodes.first(where: { $0.meta.id == nodeID }),
              let (host, port) = try? Self.split(node.advertiseAddress) else { return }
        transport.setPeer(nodeID, host: host, port: port)
        transport.send(ClusterProtocol.frame(ClusterProtocol.assignments, assignments), to: nodeID)
    }

    /// This node's agent changed a task's status: the leader takes it in; a
    /// follower tells the other managers at once (the leader among them).
    func report(_ reports: [TaskReport]) {
        if host.currentStatus.isLeader { return taskLoop.receive(reports, from: identity.nodeID) }
        let frame = AgentLink.heartbeat(reports)
        for node in store.snapshot.nodes where node.role == .manager && node.meta.id != identity.nodeID {
            transport.send(frame, to: node.meta.id)
        }
    }

    /// Once per heartbeat period: keep peer addresses current, heartbeat to
    /// the other managers, and (as leader) write nodes that went down or came back.
    private func watchNodes() async {
        while !Task.isCancelled {
            let snapshot = store.snapshot
            if snapshot.nodes.first(where: { $0.meta.id == identity.nodeID })?.role == .worker {
                demoted()
                return
            }
            // Clamped: a period from an old log entry must not trap here on every start.
            let period = Limits.heartbeatPeriod(clamping: snapshot.cluster?.heartbeatPeriodSeconds ?? 1)
            let heartbeat = await agent.heartbeat()
            let status = host.currentStatus
            if status.isLeader { taskLoop.receive(AgentLink.reports(in: heartbeat), from: identity.nodeID) }
            for node in snapshot.nodes where node.role == .manager && node.meta.id != identity.nodeID {
                if let (host, port) = try? Self.split(node.advertiseAddress) { transport.setPeer(node.meta.id, host: host, port: port) }
                transport.send(heartbeat, to: node.meta.id)
            }
            var changes = dispatcher.statusChanges(nodes: snapshot.nodes, selfID: identity.nodeID,
                                                   isLeader: status.isLeader, period: period)
            if status.isLeader {
                changes = Self.withReachability(changes, nodes: snapshot.nodes, status: status, selfID: identity.nodeID)
                let list = ClusterProtocol.frame(ClusterProtocol.managers, ClusterProtocol.Session(
                    managers: managers(), heartbeatPeriodSeconds: snapshot.cluster?.heartbeatPeriodSeconds ?? 1))
                for node in snapshot.nodes where node.role == .worker {
                    if let (host, port) = try? Self.split(node.advertiseAddress) { transport.setPeer(node.meta.id, host: host, port: port) }
                    transport.send(list, to: node.meta.id)
                }
            }
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

    /// The managers as peers reach them.
    func managers() -> [ClusterProtocol.ManagerInfo] {
        store.snapshot.nodes.compactMap { node in
            guard node.role == .manager, let id = node.raftID else { return nil }
            return ClusterProtocol.ManagerInfo(nodeID: node.meta.id, raftID: id, address: node.advertiseAddress)
        }
    }

    /// Adds to `changes` every manager whose reachability, as the leader's Raft sees it, moved.
    static func withReachability(_ changes: [NodeObject], nodes: [NodeObject], status: RaftHost.Status,
                                 selfID: String) -> [NodeObject] {
        var result = Dictionary(uniqueKeysWithValues: changes.map { ($0.meta.id, $0) })
        for node in nodes where node.role == .manager && node.meta.id != selfID {
            guard let id = node.raftID, let peer = status.peers[id] else { continue }
            var updated = result[node.meta.id] ?? node
            if updated.managerReachable != peer.recentlyActive {
                updated.managerReachable = peer.recentlyActive
                result[node.meta.id] = updated
            }
        }
        return Array(result.values)
    }

    /// `node promote`, on the leader: the node gets a Raft id and a manager
    /// certificate, joins Raft as a learner, catches up, then becomes a voter.
    func promote(_ nodeID: String) async throws {
        guard host.currentStatus.isLeader else { throw ManagerError.notLeader(leaderAddress()) }
        guard var node = store.snapshot.nodes.first(where: { $0.meta.id == nodeID }),
              let cluster = store.snapshot.cluster else { throw ManagerError("node \(nodeID) not found", status: 404) }
        guard let publicKey = node.publicKeyPEM else {
            throw ManagerError("node \(node.hostname) has no key on record: it must leave and join again before it can be promoted")
        }
        let raftID = UInt64.random(in: 1...UInt64.max >> 2)
        let certificate = try cluster.issueNodeCertificate(nodeID: nodeID, role: .manager, publicKeyPEM: publicKey)
        node.role = .manager
        node.raftID = raftID
        node.managerReachable = nil
        _ = try await propose([.update(.node(node))])
        try await changeMembership(ConfChange(kind: .addLearner, node: raftID, context: Array(nodeID.utf8)))
        let promotion = ClusterProtocol.frame(
            ClusterProtocol.promotion,
            ClusterProtocol.Promotion(raftID: raftID, certificatePEM: certificate, managers: managers()))
        if let (host, port) = try? Self.split(node.advertiseAddress) { transport.setPeer(nodeID, host: host, port: port) }
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let status = host.currentStatus
            if let peer = status.peers[raftID], peer.match >= status.commitIndex, peer.match > 0 { break }
            guard ContinuousClock.now < deadline else {
                throw ManagerError("node \(node.hostname) did not catch up with the raft log within 30 s: check that its daemon runs, then promote it again", status: 504)
            }
            transport.send(promotion, to: nodeID)  // again until it answers: the first may have been lost
            try await Task.sleep(for: .milliseconds(500))
        }
        try await changeMembership(ConfChange(kind: .addVoter, node: raftID, context: Array(nodeID.utf8)))
    }

    /// `node demote`, on the leader: the node is a worker in the store first
    /// (while this node can still write), then leaves Raft. Demoting the
    /// leader itself works the same way: Raft keeps it leading until the
    /// removal commits, then hands leadership to an up-to-date voter.
    func demote(_ nodeID: String) async throws {
        let status = host.currentStatus
        guard status.isLeader else { throw ManagerError.notLeader(leaderAddress()) }
        let nodes = store.snapshot.nodes
        guard var node = nodes.first(where: { $0.meta.id == nodeID }), let raftID = node.raftID else {
            throw ManagerError("node \(nodeID) is not a manager", status: 404)
        }
        let voters = nodes.compactMap(\.raftID)
        let reachableAfter = voters.filter { $0 != raftID && ($0 == status.leader || status.peers[$0]?.recentlyActive == true) }
        guard reachableAfter.count >= (voters.count - 1) / 2 + 1 else {
            throw ManagerError("can't remove member from the raft: this would result in a loss of quorum")
        }
        node.role = .worker
        node.raftID = nil
        node.managerReachable = nil
        _ = try await propose([.update(.node(node))])
        try await changeMembership(ConfChange(kind: .removeNode, node: raftID, context: Array(nodeID.utf8)))
    }

    private func changeMembership(_ change: ConfChange) async throws {
        do {
            try await host.proposeConfChange(change)
        } catch {
            throw ManagerError("cannot change the raft membership: \(error)", status: 503)
        }
    }

    func leaderAddress() -> String? {
        let leader = host.currentStatus.leader
        return store.snapshot.nodes.first { $0.raftID == leader && leader != 0 }?.advertiseAddress
    }

    /// Runs a local-API call a follower forwarded (set by the daemon).
    let callHandler = LateBound<@Sendable (ClusterProtocol.Call) async -> ClusterProtocol.CallAnswer>()

    /// Hands `call` to the leader and returns its answer; nil when this node
    /// leads (or no leader is known) and should run the call itself.
    func forwardToLeader(_ call: ClusterProtocol.Call, group: EventLoopGroup) async throws -> ClusterProtocol.CallAnswer? {
        let status = host.currentStatus
        guard !status.isLeader, status.leader != 0, let address = leaderAddress() else { return nil }
        let (host, port) = try Self.split(address)
        let frame: Frame
        do {
            frame = try await Request.send(ClusterProtocol.frame(ClusterProtocol.forwardedCall, call), host: host, port: port,
                                           trustedRootDER: nil, credentials: identity.credentials, group: group,
                                           timeout: .seconds(60))
        } catch {
            throw ManagerError("cannot reach the leader at \(address) (\(error)): retry in a moment", status: 503)
        }
        guard let answer = ClusterProtocol.decode(ClusterProtocol.CallAnswer.self, from: frame) else {
            throw ManagerError("the leader sent an answer this node cannot read", status: 502)
        }
        return answer
    }

    /// Asks `node` for the output of its tasks; nil when it cannot be reached.
    func fetchLogs(_ request: ClusterProtocol.LogsRequest, from node: NodeObject,
                   group: EventLoopGroup) async -> ClusterProtocol.LogsAnswer? {
        if node.meta.id == identity.nodeID {
            var answer = ClusterProtocol.LogsAnswer(lines: [:], offsets: [:])
            for (taskID, offset) in request.offsets {
                answer.record(taskID, await agent.runner.logs(of: taskID, from: offset, tail: request.tail))
            }
            return answer
        }
        guard let (host, port) = try? Self.split(node.advertiseAddress),
              let frame = try? await Request.send(ClusterProtocol.frame(ClusterProtocol.logs, request), host: host, port: port,
                                                  trustedRootDER: nil, credentials: identity.credentials, group: group,
                                                  timeout: .seconds(10)) else { return nil }
        return ClusterProtocol.decode(ClusterProtocol.LogsAnswer.self, from: frame)
    }

    /// Who peers are as the store says now.
    private var membership: ClusterMembership { ClusterMembership(store.snapshot, identity) }

    /// Answers requests: the root CA and joining (anyone), renewals (nodes of
    /// the swarm), forwarded calls and logs (managers only).
    private func answer(_ frame: Frame, from peer: PeerIdentity?) async -> Frame? {
        switch frame.kind {
        case ClusterProtocol.forwardedCall:
            // Only a manager of this swarm may: a worker's certificate, or a demoted or removed manager's, cannot.
            guard membership.isManager(peer),
                  let call = ClusterProtocol.decode(ClusterProtocol.Call.self, from: frame) else {
                return ClusterProtocol.frame(ClusterProtocol.forwardedCall, ClusterProtocol.CallAnswer(
                    status: 403, body: Array(#"{"message":"only a manager of this swarm may forward calls"}"#.utf8)))
            }
            guard let handler = callHandler.value else { return nil }
            return ClusterProtocol.frame(ClusterProtocol.forwardedCall, await handler(call))
        case ClusterProtocol.rootCA:
            // DER: exactly the bytes the joiner pins and trusts (see `JoinToken.pinnedCA`).
            guard let der = try? CertificateAuthority.certificateDER(ownPEM: identity.caCertificatePEM) else { return nil }
            return Frame(kind: ClusterProtocol.rootCA, payload: der)
        case ClusterProtocol.join:
            guard let request = ClusterProtocol.decode(ClusterProtocol.JoinRequest.self, from: frame) else {
                return ClusterProtocol.frame(ClusterProtocol.join, ClusterProtocol.JoinAnswer.refused(
                    "invalid join request: check that this node runs shoal \(Defaults.version) as the manager does"))
            }
            return ClusterProtocol.frame(ClusterProtocol.join, await join(request))
        case ClusterProtocol.logs:
            guard membership.isManager(peer) else { return nil }
            return await agent.answerLogs(frame, from: peer)
        case ClusterProtocol.renewCertificate:
            let status = host.currentStatus
            return ClusterProtocol.frame(ClusterProtocol.renewCertificate, CertificateRenewal.answer(
                renewalFrom: peer, store: store.snapshot, isLeader: status.isLeader, leaderAddress: leaderAddress()))
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
        // A node joining with the manager token starts as a worker and is then promoted:
        // it catches up as a Raft learner before it votes.
        let asManager: Bool
        if JoinToken(caDigest: "", secret: cluster.workerJoinSecret).hasSecret(request.secret) {
            asManager = false
        } else if JoinToken(caDigest: "", secret: cluster.managerJoinSecret).hasSecret(request.secret) {
            asManager = true
        } else {
            return .refused("A valid join token is necessary to join this cluster")
        }
        // What goes into the store from a peer: a hostname, an address this manager can dial, a key of sane size.
        guard Limits.isPlainToken(request.hostname, maximumBytes: 253),
              Limits.isPlainToken(request.advertiseAddress, maximumBytes: 64), (try? Self.split(request.advertiseAddress)) != nil,
              request.publicKeyPEM.utf8.count <= 4096 else {
            return .refused("invalid join request: hostname, advertise address or key out of range")
        }
        let role = NodeRole.worker
        do {
            let nodeID = Base36.objectID()
            let certificate = try cluster.issueNodeCertificate(nodeID: nodeID, role: role, publicKeyPEM: request.publicKeyPEM)
            let node = NodeObject(meta: ObjectMeta(id: nodeID), hostname: request.hostname,
                                  advertiseAddress: request.advertiseAddress, role: role, state: .ready,
                                  publicKeyPEM: request.publicKeyPEM, engineVersion: Defaults.version)
            dispatcher.heard(from: nodeID)
            _ = try await propose([.create(.node(node))])
            logger.info("node joined", metadata: ["node_id": "\(nodeID)", "hostname": "\(request.hostname)",
                                                  "as_manager": "\(asManager)"])
            if asManager {
                Task {
                    do { try await self.promote(nodeID) } catch { self.logger.error("promoting \(request.hostname) failed: \(error)") }
                }
            }
            return .joined(nodeID: nodeID, role: (asManager ? NodeRole.manager : role).rawValue, certificatePEM: certificate,
                           managers: managers())
        } catch let error as ManagerError {
            return .refused(error.description)
        } catch {
            // A peer learns no library detail; the log here keeps it.
            logger.warning("refused a join from \(request.hostname): \(error)")
            return .refused("certificate request refused: the manager's log says why")
        }
    }

    /// Replicates `batch`, stamped `time` (the createdAt/updatedAt every
    /// manager gives what it writes); returns the version it was applied at.
    func propose(_ batch: [Write], at time: Date = Date()) async throws -> UInt64 {
        let answer: [UInt8]
        do {
            answer = try await host.propose(ReplicatedStore.command(batch, at: time))
        } catch let failure as RaftHost.Failure {
            switch failure.reason {
            case .notLeader(let leader) where leader != 0: throw ManagerError.notLeader(leaderAddress())
            case .tooLarge: throw ManagerError("\(failure)", status: 413)
            default: throw ManagerError.noLeader
            }
        }
        switch try ReplicatedStore.outcome(from: answer) {
        case .applied(let version): return version
        case .refused(let error): throw ManagerError("\(error)", status: 409)
        }
    }

    /// The store, read linearizably: after a ReadIndex round confirms this
    /// node has applied everything committed. Without a leader (no quorum)
    /// within `seconds`, docker's no-leader error: never a copy that may no
    /// longer be the cluster's.
    func linearizableSnapshot(seconds: Double = 2) async throws(ManagerError) -> Store {
        let host = self.host
        try await Self.confirm(within: seconds) { try await host.readBarrier() }
        return store.snapshot
    }

    /// Returns once `barrier` succeeded; throws `ManagerError.noLeader` when it
    /// fails or has not finished within `seconds` (a read the leader never
    /// confirms must not hold the caller, nor be answered anyway).
    static func confirm(within seconds: Double, _ barrier: @escaping @Sendable () async throws -> Void) async throws(ManagerError) {
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
        await renewal.stop()
        statusLoop.value?.cancel()
        tasksLoop.value?.cancel()
        taskLoop.poke()
        host.stop()
        await transport.shutdown()
    }

    /// `init --force-new-cluster`: replaces this manager's Raft log with a
    /// snapshot of everything it has applied, whose only voter is itself, in
    /// a term above any the old cluster reached. The old log is kept beside it.
    static func rewriteAsSingleMember(identity: NodeIdentity, dataDirectory: String, storeSnapshot: [UInt8],
                                      appliedIndex: UInt64) throws {
        let directory = "\(dataDirectory)/swarm/raft"
        let (_, recovered) = try WAL.open(directory: directory, fileSystem: PosixFileSystem())
        let term = max(recovered.hardState.term, 1)
        let kept = "\(directory).before-force-new-cluster"
        FileSystem.removeTree(kept)
        guard rename(directory, kept) == 0 else {
            throw ManagerError("cannot set the old raft log aside at \(kept): errno \(errno)", status: 500)
        }
        let (wal, _) = try WAL.open(directory: directory, fileSystem: PosixFileSystem())
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: appliedIndex, term: term,
                                                           conf: ConfState(voters: [identity.raftID])),
                                data: storeSnapshot)
        try wal.saveSnapshot(snapshot)
        try wal.save(hardState: HardState(term: term + 1, vote: 0, commit: appliedIndex), entries: [])
    }

    /// The largest Raft message (in practice a snapshot of the whole store) a
    /// follower puts together from chunks.
    static let maximumRaftMessageBytes = 512 << 20

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
