import ClusterStore
import ClusterWire
import ShoalAPI

/// The node commands: `node ls`, `inspect`, `update`, `promote`, `demote`, `rm`.
extension ControlAPI {
    /// `shoal node ls`: the swarm's nodes as a quorum of managers confirms them;
    /// with `local`, this manager's own copy (answers without a quorum, may be stale).
    public func nodes(local: Bool = false) async throws -> [NodeSummary] {
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
        guard let wanted = NodeAvailability(rawValue: availability) else {
            throw SwarmError("invalid availability \(availability): use active, pause or drain")
        }
        try await retryingOutOfSequence {
            var node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
            guard node.availability != wanted else { return }
            node.availability = wanted
            _ = try await manager.propose([.update(.node(node))])
        }
    }

    /// `node demote`: refused for the last manager and when quorum would be lost.
    public func demote(_ reference: String) async throws -> String {
        let nodes = manager.store.snapshot.nodes
        let node = try NodeReference.resolve(reference, in: nodes)
        guard node.role == .manager else { return "Node \(reference) is already a worker." }
        if nodes.filter({ $0.role == .manager }).count == 1 {
            throw SwarmError("attempting to demote the last manager of the swarm")
        }
        try await manager.demote(node.meta.id)
        return "Manager \(reference) demoted in the swarm."
    }

    /// `node promote`.
    public func promote(_ reference: String) async throws -> String {
        let node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        guard node.role == .worker else { return "Node \(reference) is already a manager." }
        try await manager.promote(node.meta.id)
        return "Node \(reference) promoted to a manager in the swarm."
    }

    /// `node rm`: a node must be down (or `force`d), and a manager demoted first.
    public func remove(_ reference: String, force: Bool) async throws {
        try await retryingOutOfSequence { try await removeOnce(reference, force: force) }
    }

    private func removeOnce(_ reference: String, force: Bool) async throws {
        let node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        if node.role == .manager {
            throw SwarmError("rpc error: node \(node.meta.id) is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal")
        }
        if node.state != .down, !force {
            throw SwarmError("node \(reference) is not down and can't be removed: use --force to remove it anyway")
        }
        _ = try await manager.propose([.delete(.node, id: node.meta.id, expectedVersion: node.meta.version)])
    }

    /// `node inspect`.
    public func inspect(_ reference: String) async throws -> NodeDetail {
        let node = try NodeReference.resolve(reference, in: manager.store.snapshot.nodes)
        let summary = try await nodes().first { $0.id == node.meta.id }
        return NodeDetail(id: node.meta.id, version: node.meta.version, createdAt: node.meta.createdAt,
                          updatedAt: node.meta.updatedAt, hostname: node.hostname, role: node.role.rawValue,
                          availability: node.availability.rawValue, labels: node.labels, state: node.state.rawValue,
                          stateMessage: node.stateMessage, address: node.advertiseAddress,
                          managerStatus: summary?.managerStatus ?? "", engineVersion: node.engineVersion,
                          resources: node.resources)
    }
}
