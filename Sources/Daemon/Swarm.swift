import Addressing
import Agent
import ClusterStore
import ClusterWire
import FoundationEssentials
import Logging
import Manager
import Metrics
import NIOCore
import ShoalAPI

/// This node's place in a swarm, one state at a time: in none, taking one
/// (`init`, `join`, a restart's `resume`, a promotion or demotion under
/// way), a worker with its session to the managers, a manager with its Raft
/// member and store, or leaving. A change of place is claimed before its
/// first `await`, so two at once (an `init` racing a `join`) cannot both
/// pass the check: the second is refused.
public actor Swarm {
    private enum Role {
        case none
        case joining
        case worker(WorkerSession)
        case manager(ManagerRuntime)
        case leaving
    }

    private var role = Role.none
    private let dataDirectory: String
    private let hostname: String
    private let group: EventLoopGroup
    private let logger: Logger
    private let agent: AgentLink
    private let storageFailed: @Sendable (any Error) -> Void
    private let occupiedNetworks: @Sendable () -> [IPv4Network]
    private var callHandler: (@Sendable (_ method: String, _ path: String, _ query: [String: String],
                                         _ body: [UInt8]) async -> (status: Int, body: [UInt8]))?

    /// `runner` is this node's executor: it runs the tasks the leader assigns
    /// here. `occupiedNetworks` reads the networks the node uses itself
    /// (addresses, routes, resolvers), which no overlay may take.
    /// `storageFailed` is called when a manager's Raft log cannot be
    /// written: the daemon must stop.
    public init(dataDirectory: String, hostname: String, group: EventLoopGroup, runner: TaskRunner, logger: Logger,
                occupiedNetworks: @escaping @Sendable () -> [IPv4Network] = { [] },
                storageFailed: @escaping @Sendable (any Error) -> Void = { _ in }) {
        agent = AgentLink(runner: runner, occupied: occupiedNetworks)
        self.occupiedNetworks = occupiedNetworks
        self.dataDirectory = dataDirectory
        self.hostname = hostname
        self.group = group
        self.logger = logger
        self.storageFailed = storageFailed
    }

    private var identity: NodeIdentity? {
        switch role {
        case .worker(let worker): worker.identity
        case .manager(let manager): manager.identity
        case .none, .joining, .leaving: nil
        }
    }

    public var nodeID: String? { identity?.nodeID }

    /// This node's figures for a Prometheus scrape: its role, and on a
    /// manager its Raft member and the cluster its store holds.
    public func metricFamilies() -> [MetricFamily] {
        func isManager(_ value: Double) -> MetricFamily {
            .gauge("swarm_node_manager", help: "Whether this node is a manager (1) or not (0).", value)
        }
        guard case .manager(let manager) = role else { return [isManager(0)] }
        return [isManager(1)] + manager.metricFamilies()
    }

    /// `info`'s Swarm lines.
    public func membership() -> DaemonInfo.SwarmMembership {
        switch role {
        case .none: return .init(state: "inactive")
        case .joining, .leaving: return .init(state: "pending")
        case .worker: return .init(state: "active")
        case .manager(let manager):
            let counts = manager.memberCounts
            return .init(state: "active", isManager: true, managers: counts.managers, nodes: counts.nodes)
        }
    }

    /// The swarm calls of the local API, on a manager.
    public func control() throws(SwarmError) -> ControlAPI {
        switch role {
        case .manager(let manager): ControlAPI(manager)
        case .worker: throw .workerNotManager
        case .none, .joining, .leaving: throw .notInSwarm
        }
    }

    /// Claims the change to `init` or `join` a swarm: only a node in none, and only one change at a time.
    private func claimJoining() throws {
        guard case .none = role, try NodeIdentity.load(from: dataDirectory) == nil else { throw SwarmError.alreadyInSwarm }
        role = .joining
    }

    /// At daemon start: takes this node's place again if it was in a swarm.
    public func resume() async throws {
        guard case .none = role, let identity = try NodeIdentity.load(from: dataDirectory) else { return }
        role = .joining
        do {
            role = identity.role == NodeRole.worker.rawValue
                ? .worker(try await startWorker(identity))
                : .manager(try await startManager(identity, bootstrap: false))
        } catch {
            role = .none
            throw error
        }
        logger.info("rejoined the swarm", metadata: ["node_id": "\(identity.nodeID)", "role": "\(identity.role)"])
    }

    /// `shoal join`.
    public func join(token: String, remoteAddress: String, advertiseAddress: String,
                     listenAddress: String) async throws -> String {
        try claimJoining()
        do {
            let joined = try await Joiner.join(token: token, remoteAddress: remoteAddress, hostname: hostname,
                                               advertiseAddress: advertiseAddress, listenAddress: listenAddress, group: group)
            try joined.identity.save(to: dataDirectory)
            role = .worker(try await startWorker(joined.identity))
            logger.info("joined the swarm", metadata: ["node_id": "\(joined.identity.nodeID)", "role": "\(joined.role)"])
            return joined.role
        } catch {
            role = .none
            throw error
        }
    }

    /// `shoal init`: a new swarm with this node as its only manager.
    public func initialize(advertiseAddress: String, listenAddress: String,
                           heartbeatPeriodSeconds: Double = Defaults.heartbeatPeriodSeconds,
                           certExpirySeconds: Double = CertificateExpiry.defaultSeconds,
                           addressPools: [IPv4Network] = Defaults.addressPools,
                           subnetPrefixLength: Int = Defaults.addressPoolMaskLength) async throws -> SwarmInitResponse {
        try claimJoining()
        do {
            let (runtime, response) = try await ManagerRuntime.initializeSwarm(
                hostname: hostname, advertiseAddress: advertiseAddress, listenAddress: listenAddress,
                heartbeatPeriodSeconds: heartbeatPeriodSeconds, certExpirySeconds: certExpirySeconds,
                addressPools: addressPools, subnetPrefixLength: subnetPrefixLength, occupied: occupiedNetworks(),
                dataDirectory: dataDirectory, start: { try await self.startManager($0, bootstrap: true) })
            role = .manager(runtime)
            return response
        } catch {
            role = .none
            throw error
        }
    }

    /// `shoal init --force-new-cluster`: a manager that lost its quorum goes
    /// on alone, keeping every node, service and setting it had.
    public func forceNewCluster() async throws -> SwarmInitResponse {
        guard case .manager(let manager) = role else {
            if case .worker = role {
                throw SwarmError("--force-new-cluster needs a node that is a manager; this one is a worker")
            }
            throw SwarmError.notInSwarm
        }
        role = .joining
        let runtime: ManagerRuntime
        do {
            runtime = try await manager.forceNewCluster(dataDirectory: dataDirectory,
                                                        restart: { try await self.startManager($0, bootstrap: false) })
        } catch {
            role = .none
            throw error
        }
        role = .manager(runtime)
        try await runtime.waitForLeadership(seconds: 10)
        logger.warning("forced a new cluster with this manager as its only member", metadata: ["node_id": "\(runtime.identity.nodeID)"])
        let token = try await ControlAPI(runtime).joinToken(role: NodeRole.worker.rawValue, rotate: false)
        return SwarmInitResponse(nodeID: runtime.identity.nodeID, workerToken: token.token,
                                 managerAddress: runtime.identity.advertiseAddress)
    }

    /// `shoal leave`: a worker leaves; the last manager only with `force`.
    public func leave(force: Bool) async throws {
        switch role {
        case .worker(let worker):
            role = .leaving
            await worker.stop()
        case .manager(let manager):
            let managers = manager.managers().count
            guard force else {
                throw SwarmError("You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves \(managers - 1) managers out of \(managers). Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.")
            }
            role = .leaving
            await manager.stop()
        case .none, .joining, .leaving:
            throw SwarmError("This node is not part of a swarm")
        }
        FileSystem.removeTree("\(dataDirectory)/swarm")
        await agent.runner.apply(ClusterProtocol.Assignments(tasks: [], retained: []))  // a node out of the swarm runs no task
        role = .none
        logger.info("left the swarm")
    }

    public func shutdown() async {
        let current = role
        role = .leaving
        switch current {
        case .worker(let worker): await worker.stop()
        case .manager(let manager): await manager.stop()
        case .none, .joining, .leaving: break
        }
        role = .none
    }

    /// For `shoal info`: how long the swarm's node certificates are valid (as a
    /// manager knows it) and when this node's certificate expires.
    public func certificateStatus() -> (certExpirySeconds: Double?, expiresAt: Date?) {
        ((try? control())?.nodeCertificateValiditySeconds,
         identity.flatMap { CertificateRenewal.validity(of: $0.certificatePEM)?.until })
    }

    /// `network inspect`: a manager answers from the store; a worker, as docker's
    /// do, from what it knows of the networks its own tasks use.
    public func inspectNetwork(_ reference: String) async throws -> NetworkDetail {
        if case .worker = role { return try await agent.runner.networkDetail(reference) }
        return try await control().inspectNetwork(reference)
    }

    /// `shoal dig --network`: a task of this node on that network, to ask from.
    public func execTarget(onNetwork reference: String) async throws -> ExecTarget {
        try await agent.runner.execTarget(onNetwork: reference)
    }

    /// `shoal exec`: how to enter the task `reference` names, when this node
    /// runs it. Otherwise one line saying where it runs (a manager reads the
    /// store) or that it is not here (a worker cannot read the store).
    public func execTarget(_ reference: String) async throws -> ExecTarget {
        do {
            return try await agent.runner.execTarget(reference)
        } catch {
            if error.kind != .notFound { throw error }
        }
        guard case .manager = role else {
            throw SwarmError("no such task on this node: \(reference): run shoal exec on the node that runs it (shoal service ps shows it)",
                             kind: .notFound)
        }
        switch TaskLookup.resolve(reference, in: try await control().tasks(service: nil, node: nil)) {
        case .found(let task) where task.isRunning && task.nodeID != nodeID:
            let node = task.node ?? task.nodeID ?? "unknown"
            throw SwarmError("task \(task.slotName) is running on node \(node): run shoal exec on that node (shoal -H \(node) exec … in a lab)",
                             kind: .conflict)
        case .found(let task):
            throw SwarmError(TaskLookup.notRunning(task, now: Date()), kind: .conflict)
        case .ambiguous(let matches):
            throw SwarmError("task \(reference) is ambiguous (\(matches) matches found)")
        case .notFound:
            throw SwarmError("no such task: \(reference)", kind: .notFound)
        }
    }

    /// `shoal inspect TASK`: the task a reference names (as `shoal exec`
    /// finds one), from a manager's store.
    public func inspectTask(_ reference: String) async throws -> TaskDetail {
        let control = try control()
        switch TaskLookup.resolve(reference, in: try await control.tasks(service: nil, node: nil)) {
        case .found(let task): return try await control.inspectTask(task.id)
        case .ambiguous(let matches): throw SwarmError("task \(reference) is ambiguous (\(matches) matches found)")
        case .notFound: throw SwarmError("no such task: \(reference)", kind: .notFound)
        }
    }

    /// How this daemon runs a local-API call another manager forwarded to it
    /// (its own router). Set once, before `resume`.
    public func setCallHandler(_ handler: @escaping @Sendable (_ method: String, _ path: String, _ query: [String: String],
                                                               _ body: [UInt8]) async -> (status: Int, body: [UInt8])) {
        callHandler = handler
    }

    /// On a manager that does not lead: the leader's answer to this write.
    /// Nil when this node should run it itself (it leads, is a worker or in no swarm).
    public func forwardToLeader(method: String, path: String, query: [String: String],
                                body: [UInt8]) async throws -> (status: Int, body: [UInt8])? {
        guard case .manager(let manager) = role else { return nil }
        let call = ClusterProtocol.Call(method: method, path: path, query: query, body: body)
        return try await manager.forwardToLeader(call).map { ($0.status, $0.body) }
    }

    /// `shoal run`'s calls, made here for this node: a manager that does not
    /// lead hands them to the leader, a worker to a manager (which names the
    /// worker as the node). Nil when this node leads and runs the call itself.
    public func handOverOneOffCall(path: String, body: [UInt8]) async throws -> (status: Int, body: [UInt8])? {
        guard let nodeID else { throw SwarmError.notInSwarm }
        let call = ClusterProtocol.Call(method: "POST", path: path, query: [OneOff.nodeQuery: nodeID], body: body)
        switch role {
        case .manager(let manager): return try await manager.forwardToLeader(call).map { ($0.status, $0.body) }
        case .worker(let worker):
            let answer = try await worker.oneOffCall(call)
            return (answer.status, answer.body)
        case .none, .joining, .leaving: throw SwarmError.notInSwarm
        }
    }

    private func startManager(_ identity: NodeIdentity, bootstrap: Bool) async throws -> ManagerRuntime {
        let runtime = try await ManagerRuntime.start(
            identity: identity, dataDirectory: dataDirectory, bootstrap: bootstrap, group: group, agent: agent, logger: logger,
            demoted: { [weak self] in Task { await self?.becomeWorker() } }, storageFailed: storageFailed)
        await agent.runner.setReporter { [weak runtime] reports in runtime?.report(reports) }
        if let callHandler {
            runtime.answerForwardedCalls { call in
                let (status, body) = await callHandler(call.method, call.path, call.query, call.body)
                return ClusterProtocol.CallAnswer(status: status, body: body)
            }
        }
        return runtime
    }

    private func startWorker(_ identity: NodeIdentity) async throws -> WorkerSession {
        let session = try await WorkerSession.start(identity: identity, dataDirectory: dataDirectory, group: group, agent: agent,
                                                    logger: logger) { [weak self] promotion in
            Task { await self?.becomeManager(promotion) }
        }
        await agent.runner.setReporter { [weak session] reports in session?.report(reports) }
        return session
    }

    /// The store says this manager was demoted: its Raft member is gone, so
    /// it drops its Raft state and carries on as a worker of the same swarm.
    private func becomeWorker() async {
        guard case .manager(let manager) = role else { return }
        role = .joining
        await manager.stop()  // first: a certificate renewed meanwhile is in its identity
        var identity = manager.identity
        identity.role = NodeRole.worker.rawValue
        identity.raftID = 0
        identity.managers = manager.managers()
        do {
            try identity.save(to: dataDirectory)
            FileSystem.removeTree("\(dataDirectory)/swarm/raft")
            role = .worker(try await startWorker(identity))
            logger.info("demoted to worker")
        } catch {
            role = .none
            logger.error("cannot become a worker: \(error)")
        }
    }

    /// The leader promoted this worker: it restarts as a manager with a
    /// manager certificate and an empty Raft log the leader then fills.
    private func becomeManager(_ promotion: ClusterProtocol.Promotion) async {
        guard case .worker(let worker) = role else { return }  // a repeated promotion frame
        role = .joining
        await worker.stop()
        var identity = worker.identity
        identity.role = NodeRole.manager.rawValue
        identity.raftID = promotion.raftID
        identity.certificatePEM = promotion.certificatePEM
        identity.managers = promotion.managers
        do {
            try identity.save(to: dataDirectory)
            role = .manager(try await startManager(identity, bootstrap: false))
            logger.info("promoted to manager", metadata: ["raft_id": "\(promotion.raftID)"])
        } catch {
            role = .none
            logger.error("cannot become a manager: \(error)")
        }
    }
}
