import ClusterStore
import ClusterWire
import Raft

/// Changing a node's role, on the leader. A promoted worker catches up as a
/// Raft learner before it votes; a demoted manager is a worker in the store
/// before it leaves Raft. (Demotion seen from the demoted node: its
/// `Dispatcher` notices the store says worker, and the daemon restarts it as one.)
extension ManagerRuntime {
    /// `node promote`, on the leader: the node gets a Raft id and a manager
    /// certificate, joins Raft as a learner, catches up, then becomes a voter.
    func promote(_ nodeID: String) async throws {
        guard host.currentStatus.isLeader else { throw SwarmError.notLeader(leaderAddress()) }
        let raftID = UInt64.random(in: 1...UInt64.max >> 2)
        let (node, certificate) = try await retryingOutOfSequence { () async throws -> (NodeObject, String) in
            guard var node = store.snapshot.nodes.first(where: { $0.meta.id == nodeID }),
                  let cluster = store.snapshot.cluster else { throw SwarmError("node \(nodeID) not found", kind: .notFound) }
            guard let publicKey = node.publicKeyPEM else {
                throw SwarmError("node \(node.hostname) has no key on record: it must leave and join again before it can be promoted")
            }
            let certificate = try cluster.issueNodeCertificate(nodeID: nodeID, role: .manager, publicKeyPEM: publicKey)
            node.role = .manager
            node.raftID = raftID
            node.managerReachable = nil
            _ = try await propose([.update(.node(node))])
            return (node, certificate)
        }
        try await changeMembership(ConfChange(kind: .addLearner, node: raftID, context: Array(nodeID.utf8)))
        let promotion = ClusterProtocol.frame(
            ClusterProtocol.promotion,
            ClusterProtocol.Promotion(raftID: raftID, certificatePEM: certificate, managers: managers()))
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let status = host.currentStatus
            if let peer = status.peers[raftID], peer.match >= status.commitIndex, peer.match > 0 { break }
            guard ContinuousClock.now < deadline else {
                throw SwarmError("node \(node.hostname) did not catch up with the raft log within 30 s: check that its daemon runs, then promote it again", kind: .timedOut)
            }
            transport.send(promotion, to: nodeID, at: node.advertiseAddress)  // again until it answers: the first may have been lost
            try await Task.sleep(for: .milliseconds(500))
        }
        try await changeMembership(ConfChange(kind: .addVoter, node: raftID, context: Array(nodeID.utf8)))
    }

    /// `node demote`, on the leader: the node is a worker in the store first
    /// (while this node can still write), then leaves Raft. Demoting the
    /// leader itself works the same way: Raft keeps it leading until the
    /// removal commits, then hands leadership to an up-to-date voter.
    func demote(_ nodeID: String) async throws {
        let raftID = try await retryingOutOfSequence { () async throws -> UInt64 in
            let status = host.currentStatus
            guard status.isLeader else { throw SwarmError.notLeader(leaderAddress()) }
            let nodes = store.snapshot.nodes
            guard var node = nodes.first(where: { $0.meta.id == nodeID }), let raftID = node.raftID else {
                throw SwarmError("node \(nodeID) is not a manager", kind: .notFound)
            }
            let voters = nodes.compactMap(\.raftID)
            let reachableAfter = voters.filter { $0 != raftID && ($0 == status.leader || status.peers[$0]?.recentlyActive == true) }
            guard reachableAfter.count >= (voters.count - 1) / 2 + 1 else {
                throw SwarmError("can't remove member from the raft: this would result in a loss of quorum")
            }
            node.role = .worker
            node.raftID = nil
            node.managerReachable = nil
            _ = try await propose([.update(.node(node))])
            return raftID
        }
        try await changeMembership(ConfChange(kind: .removeNode, node: raftID, context: Array(nodeID.utf8)))
    }

    private func changeMembership(_ change: ConfChange) async throws {
        do {
            try await host.proposeConfChange(change)
        } catch {
            throw SwarmError("cannot change the raft membership: \(error)", kind: .unavailable)
        }
    }
}
