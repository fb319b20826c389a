import ClusterCA
import ClusterStore
import FoundationEssentials
import Logging
import NIOCore
import ShoalAPI
import Transport

/// This node's place in a swarm, as the daemon's API sees it: not in one,
/// or a manager running its Raft member and store.
public actor Swarm {
    private let dataDirectory: String
    private let hostname: String
    let group: EventLoopGroup
    private let logger: Logger
    private let agent: AgentLink
    private var manager: ManagerRuntime?
    private var worker: WorkerSession?
    private var callHandler: (@Sendable (_ method: String, _ path: String, _ query: [String: String],
                                         _ body: [UInt8]) async -> (status: Int, body: [UInt8]))?

    /// `runner` is this node's executor: it runs the tasks the leader assigns here.
    public init(dataDirectory: String, hostname: String, group: EventLoopGroup, runner: TaskRunner, logger: Logger) {
        agent = AgentLink(runner: runner)
        self.dataDirectory = dataDirectory
        self.hostname = hostname
        self.group = group
        self.logger = logger
    }

    public var nodeID: String? { manager?.identity.nodeID ?? worker?.identity.nodeID }

    /// At daemon start: takes this node's place again if it was in a swarm.
    public func resume() async throws {
        guard let identity = try NodeIdentity.load(from: dataDirectory) else { return }
        if identity.role == NodeRole.worker.rawValue {
            worker = try await startWorker(identity)
        } else {
            manager = try await startManager(identity, bootstrap: false)
        }
        logger.info("rejoined the swarm", metadata: ["node_id": "\(identity.nodeID)", "role": "\(identity.role)"])
    }

    /// `shoal join`: checks the manager's CA against the token before the
    /// secret leaves this node, then joins with a certificate for its own key.
    public func join(token text: String, remoteAddress: String, advertiseAddress: String,
                     listenAddress: String) async throws -> String {
        guard manager == nil, worker == nil, try NodeIdentity.load(from: dataDirectory) == nil else {
            throw ManagerError.alreadyInSwarm
        }
        let token: JoinToken
        do {
            token = try JoinToken(parsing: text)
        } catch {
            throw ManagerError(error.description)
        }
        var (host, port) = try Self.managerAddress(remoteAddress)
        let caFrame = try await requesting(host, port) {
            try await Request.send(Frame(kind: ClusterProtocol.rootCA, payload: []), host: host, port: port,
                                   trustedRootDER: nil, group: group)
        }
        let ca: PinnedCertificate
        do {
            ca = try token.pinnedCA(der: caFrame.payload)
        } catch {
            throw ManagerError(error.description)
        }
        let key = NodeKey()
        let request = ClusterProtocol.JoinRequest(secret: token.secret, hostname: hostname,
                                                  advertiseAddress: advertiseAddress, publicKeyPEM: key.publicKeyPEM)
        for _ in 0..<3 {
            let answerFrame = try await requesting(host, port) {
                try await Request.send(ClusterProtocol.frame(ClusterProtocol.join, request), host: host, port: port,
                                       trustedRootDER: ca.derBytes, group: group)
            }
            guard let answer = ClusterProtocol.decode(ClusterProtocol.JoinAnswer.self, from: answerFrame) else {
                throw ManagerError("the manager at \(host):\(port) sent an answer this node cannot read: check that both run shoal \(Defaults.version)")
            }
            switch answer {
            case .refused(let why):
                throw ManagerError(why)
            case .redirect(let leader):
                (host, port) = try Self.managerAddress(leader)
            case .joined(let nodeID, let role, let certificatePEM, let managers):
                // Every node starts as a worker; one joining as a manager is promoted by the leader next.
                let identity = NodeIdentity(
                    nodeID: nodeID, role: NodeRole.worker.rawValue, raftID: 0, hostname: hostname, advertiseAddress: advertiseAddress,
                    listenAddress: listenAddress, caCertificatePEM: ca.pem, certificatePEM: certificatePEM,
                    privateKeyPEM: key.privateKeyPEM, managers: managers)
                try identity.save(to: dataDirectory)
                worker = try await startWorker(identity)
                logger.info("joined the swarm", metadata: ["node_id": "\(nodeID)", "role": "\(role)"])
                return role
            }
        }
        throw ManagerError("the managers kept sending this node elsewhere: retry in a moment", status: 503)
    }

    private func startManager(_ identity: NodeIdentity, bootstrap: Bool) async throws -> ManagerRuntime {
        let runtime = try await ManagerRuntime.start(identity: identity, dataDirectory: dataDirectory, bootstrap: bootstrap,
                                                     group: group, agent: agent, logger: logger) { [weak self] in
            Task { await self?.becomeWorker() }
        }
        await agent.runner.setReporter { [weak runtime] reports in runtime?.report(reports) }
        if let callHandler {
            runtime.callHandler.value = { call in
                let (status, body) = await callHandler(call.method, call.path, call.query, call.body)
                return ClusterProtocol.CallAnswer(status: status, body: body)
            }
        }
        return runtime
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
        guard let manager else { return nil }
        let call = ClusterProtocol.Call(method: method, path: path, query: query, body: body)
        return try await manager.forwardToLeader(call, group: group).map { ($0.status, $0.body) }
    }

    /// The store says this manager was demoted: its Raft member is gone, so
    /// it drops its Raft state and carries on as a worker of the same swarm.
    private func becomeWorker() async {
        guard let manager else { return }
        self.manager = nil
        await manager.stop()  // first: a certificate renewed meanwhile is in its identity
        var identity = manager.identity
        identity.role = NodeRole.worker.rawValue
        identity.raftID = 0
        identity.managers = manager.managers()
        do {
            try identity.save(to: dataDirectory)
            FileSystem.removeTree("\(dataDirectory)/swarm/raft")
            worker = try await startWorker(identity)
            logger.info("demoted to worker")
        } catch {
            logger.error("cannot become a worker: \(error)")
        }
    }

    private func startWorker(_ identity: NodeIdentity) async throws -> WorkerSession {
        let session = try await WorkerSession.start(identity: identity, dataDirectory: dataDirectory, group: group, agent: agent,
                                                    logger: logger) { [weak self] promotion in
            Task { await self?.becomeManager(promotion) }
        }
        await agent.runner.setReporter { [weak session] reports in session?.report(reports) }
        return session
    }

    /// The leader promoted this worker: it restarts as a manager with a
    /// manager certificate and an empty Raft log the leader then fills.
    private func becomeManager(_ promotion: ClusterProtocol.Promotion) async {
        guard let worker else { return }  // a repeated promotion frame
        self.worker = nil
        await worker.stop()
        var identity = worker.identity
        identity.role = NodeRole.manager.rawValue
        identity.raftID = promotion.raftID
        identity.certificatePEM = promotion.certificatePEM
        identity.managers = promotion.managers
        do {
            try identity.save(to: dataDirectory)
            manager = try await startManager(identity, bootstrap: false)
            logger.info("promoted to manager", metadata: ["raft_id": "\(promotion.raftID)"])
        } catch {
            logger.error("cannot become a manager: \(error)")
        }
    }

    private func requesting(_ host: String, _ port: Int, _ body: () async throws -> Frame) async throws -> Frame {
        do {
            return try await body()
        } catch {
            throw ManagerError("cannot reach a manager at \(host):\(port) (\(error)): check the address and that the manager runs", status: 503)
        }
    }

    private static func managerAddress(_ text: String) throws -> (String, Int) {
        text.contains(":") ? try ManagerRuntime.split(text) : (text, Defaults.clusterPort)
    }

    /// `shoal init --force-new-cluster`: a manager that lost its quorum goes
    /// on alone, keeping every node, service and setting it had.
    public func forceNewCluster() async throws -> SwarmInitResponse {
        guard let manager else {
            throw worker == nil ? ManagerError.notInSwarm
                : ManagerError("--force-new-cluster needs a node that is a manager; this one is a worker")
        }
        let identity = manager.identity
        let snapshot = manager.store.encodedSnapshot()
        let applied = manager.host.currentStatus.appliedIndex
        await manager.stop()
        self.manager = nil
        try ManagerRuntime.rewriteAsSingleMember(identity: identity, dataDirectory: dataDirectory,
                                                 storeSnapshot: snapshot, appliedIndex: applied)
        let runtime = try await startManager(identity, bootstrap: false)
        self.manager = runtime
        try await runtime.waitForLeadership(seconds: 10)
        logger.warning("forced a new cluster with this manager as its only member", metadata: ["node_id": "\(identity.nodeID)"])
        let token = try await joinToken(role: NodeRole.worker.rawValue, rotate: false)
        return SwarmInitResponse(nodeID: identity.nodeID, workerToken: token.token, managerAddress: identity.advertiseAddress)
    }

    /// `shoal init`: a new swarm with this node as its only manager.
    public func initialize(advertiseAddress: String, listenAddress: String, heartbeatPeriodSeconds: Double = 1,
                           certExpirySeconds: Double = CertificateExpiry.defaultSeconds) async throws -> SwarmInitResponse {
        guard manager == nil, worker == nil, try NodeIdentity.load(from: dataDirectory) == nil else {
            throw ManagerError.alreadyInSwarm
        }
        // It goes into the Raft log: a value no manager can run with would come back on every start.
        guard Limits.heartbeatPeriodSeconds.contains(heartbeatPeriodSeconds) else {
            throw ManagerError("invalid heartbeat period \(heartbeatPeriodSeconds): use \(Limits.heartbeatPeriodSeconds.lowerBound) to \(Limits.heartbeatPeriodSeconds.upperBound) seconds")
        }
        if let problem = CertificateExpiry.problem(certExpirySeconds) { throw ManagerError(problem) }
        let authority = try CertificateAuthority(commonName: "swarm-ca")
        let nodeID = Base36.objectID()
        let key = NodeKey()
        let identity = NodeIdentity(
            nodeID: nodeID, role: NodeRole.manager.rawValue, raftID: UInt64.random(in: 1...UInt64.max >> 2),
            hostname: hostname, advertiseAddress: advertiseAddress, listenAddress: listenAddress,
            caCertificatePEM: try authority.certificatePEM,
            certificatePEM: try authority.issue(nodeID: nodeID, role: NodeRole.manager.rawValue, publicKeyPEM: key.publicKeyPEM,
                                                validitySeconds: certExpirySeconds),
            privateKeyPEM: key.privateKeyPEM, managers: [])
        let caDER = try authority.certificateDER
        let workerToken = JoinToken.generate(caCertificateDER: caDER)
        let managerToken = JoinToken.generate(caCertificateDER: caDER)
        let cluster = ClusterObject(
            meta: ObjectMeta(id: Base36.objectID()), rootCACertificatePEM: try authority.certificatePEM,
            rootCAKeyPEM: try authority.privateKeyPEM, workerJoinSecret: workerToken.secret,
            managerJoinSecret: managerToken.secret, heartbeatPeriodSeconds: heartbeatPeriodSeconds,
            nodeCertificateValiditySeconds: certExpirySeconds)
        let node = NodeObject(meta: ObjectMeta(id: nodeID), hostname: hostname, advertiseAddress: advertiseAddress,
                              role: .manager, state: .ready, raftID: identity.raftID, publicKeyPEM: key.publicKeyPEM,
                              engineVersion: Defaults.version)

        let runtime = try await startManager(identity, bootstrap: true)
        do {
            try await runtime.waitForLeadership(seconds: 10)
            _ = try await runtime.propose([.create(.cluster(cluster)), .create(.node(node))])
            try identity.save(to: dataDirectory)
        } catch {
            await runtime.stop()
            FileSystem.removeTree("\(dataDirectory)/swarm")
            throw error
        }
        manager = runtime
        logger.info("swarm initialized", metadata: ["node_id": "\(nodeID)", "advertise": "\(advertiseAddress)"])
        return SwarmInitResponse(nodeID: nodeID, workerToken: workerToken.description, managerAddress: advertiseAddress)
    }

    /// The join token for `role`; with `rotate`, a new secret first (old tokens stop working for new joins).
    public func joinToken(role: String, rotate: Bool) async throws -> JoinTokenResponse {
        let manager = try requireManager()
        guard let nodeRole = NodeRole(rawValue: role) else { throw ManagerError("unknown role \(role)") }
        guard var cluster = manager.store.snapshot.cluster else { throw ManagerError.notInSwarm }
        let caDER = try CertificateAuthority(certificatePEM: cluster.rootCACertificatePEM,
                                             privateKeyPEM: cluster.rootCAKeyPEM).certificateDER
        if rotate {
            let fresh = JoinToken.generate(caCertificateDER: caDER).secret
            switch nodeRole {
            case .worker: cluster.workerJoinSecret = fresh
            case .manager: cluster.managerJoinSecret = fresh
            }
            _ = try await manager.propose([.update(.cluster(cluster))])
        }
        let secret = nodeRole == .worker ? cluster.workerJoinSecret : cluster.managerJoinSecret
        let token = JoinToken(caDigest: JoinToken.generate(caCertificateDER: caDER).caDigest, secret: secret)
        return JoinTokenResponse(role: role, token: token.description, managerAddress: manager.identity.advertiseAddress,
                                 rotated: rotate)
    }

    /// `shoal swarm update`: the swarm's settings. A new certificate expiry
    /// applies to the certificates issued from now on (nodes renew theirs at half their lifetime).
    public func update(_ request: SwarmUpdateRequest) async throws {
        let manager = try requireManager()
        guard var cluster = manager.store.snapshot.cluster else { throw ManagerError.notInSwarm }
        if let seconds = request.certExpirySeconds {
            if let problem = CertificateExpiry.problem(seconds) { throw ManagerError(problem) }
            cluster.nodeCertificateValiditySeconds = seconds
        }
        _ = try await manager.propose([.update(.cluster(cluster))])
    }

    /// For `shoal info`: how long the swarm's node certificates are valid (as a
    /// manager knows it) and when this node's certificate expires.
    public func certificateStatus() -> (certExpirySeconds: Double?, expiresAt: Date?) {
        let identity = manager?.identity ?? worker?.identity
        return (manager?.store.snapshot.cluster?.nodeCertificateValidity,
                identity.flatMap { CertificateRenewal.validity(of: $0.certificatePEM)?.until })
    }

    /// `shoal node ls`: the swarm's nodes as a quorum of managers confirms them;
    /// with `local`, this manager's own copy (answers without a quorum, may be stale).
    public func nodes(local: Bool = false) async throws -> [NodeSummary] {
        let manager = try requireManager()
        let snapshot = local ? manager.store.snapshot : try await manager.linearizableSnapshot()
        let status = manager.host.currentStatus
        return snapshot.nodes.sorted { $0.hostname < $1.hostname }.map { node in
            var managerStatus = ""
            if node.role == .manager, let raftID = node.raftID {
                let reachable = status.isLeader ? status.peers[raftID]?.recentlyActive ?? false : node.managerReachable ?? true
                managerStatus = raftID == status.leader && status.leader != 0 ? "leader" : reachable ? "reachable" : "unreachable"
            }
            return NodeSummary(id: node.meta.id, hostname: node.hostname, isSelf: node.meta.id == manager.identity.nodeID,
                               status: node.state.rawValue, availability: node.availability.rawValue,
                               role: node.role.rawValue, managerStatus: managerStatus,
                               engineVersion: node.engineVersion, address: node.advertiseAddress)
        }
    }

    /// `node update --availability`, and `drain`/`pause`/`activate`.
    public func setAvailability(_ availability: String, of reference: String) async throws {
        let manager = try requireManager()
        guard let wanted = NodeAvailability(rawValue: availability) else {
            throw ManagerError("invalid availability \(availability): use active, pause or drain")
        }
        var node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        guard node.availability != wanted else { return }
        node.availability = wanted
        _ = try await manager.propose([.update(.node(node))])
    }

    /// `node demote`: refused for the last manager and when quorum would be lost.
    public func demote(_ reference: String) async throws -> String {
        let manager = try requireManager()
        let nodes = manager.store.snapshot.nodes
        let node = try NodeReference.resolve(reference, in: nodes)
        guard node.role == .manager else { return "Node \(reference) is already a worker." }
        if nodes.filter({ $0.role == .manager }).count == 1 {
            throw ManagerError("attempting to demote the last manager of the swarm")
        }
        try await manager.demote(node.meta.id)
        return "Manager \(reference) demoted in the swarm."
    }

    /// `node promote`.
    public func promote(_ reference: String) async throws -> String {
        let manager = try requireManager()
        let node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        guard node.role == .worker else { return "Node \(reference) is already a manager." }
        try await manager.promote(node.meta.id)
        return "Node \(reference) promoted to a manager in the swarm."
    }

    /// `node rm`: a node must be down (or `force`d), and a manager demoted first.
    public func remove(_ reference: String, force: Bool) async throws {
        let manager = try requireManager()
        let node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        if node.role == .manager {
            throw ManagerError("rpc error: node \(node.meta.id) is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal")
        }
        if node.state != .down, !force {
            throw ManagerError("node \(reference) is not down and can't be removed: use --force to remove it anyway")
        }
        _ = try await manager.propose([.delete(.node, id: node.meta.id, expectedVersion: node.meta.version)])
    }

    /// `node inspect`.
    public func inspect(_ reference: String) async throws -> NodeDetail {
        let manager = try requireManager()
        let node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        let summary = try await nodes().first { $0.id == node.meta.id }
        return NodeDetail(id: node.meta.id, version: node.meta.version, createdAt: node.meta.createdAt,
                          updatedAt: node.meta.updatedAt, hostname: node.hostname, role: node.role.rawValue,
                          availability: node.availability.rawValue, labels: node.labels, state: node.state.rawValue,
                          stateMessage: node.stateMessage, address: node.advertiseAddress,
                          managerStatus: summary?.managerStatus ?? "", engineVersion: node.engineVersion)
    }

    /// `shoal leave`: a worker leaves; the last manager only with `force`.
    public func leave(force: Bool) async throws {
        if let worker {
            await worker.stop()
            self.worker = nil
        } else if let manager {
            let managers = manager.store.snapshot.nodes.filter { $0.role == .manager }.count
            guard force else {
                throw ManagerError("You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves \(managers - 1) managers out of \(managers). Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.")
            }
            await manager.stop()
            self.manager = nil
        } else {
            throw ManagerError("This node is not part of a swarm")
        }
        FileSystem.removeTree("\(dataDirectory)/swarm")
        await agent.runner.apply([], retained: [])  // a node out of the swarm runs no task
        logger.info("left the swarm")
    }

    public func shutdown() async {
        await manager?.stop()
        await worker?.stop()
        manager = nil
        worker = nil
    }

    func requireManager() throws -> ManagerRuntime {
        if let manager { return manager }
        throw worker == nil ? ManagerError.notInSwarm : ManagerError.workerNotManager
    }
}
