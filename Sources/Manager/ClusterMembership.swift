import ClusterStore
import Transport

/// Who a peer is as the store says now, not as its certificate says: a
/// certificate's role is what was true when it was issued, and a demoted or
/// removed node keeps its certificate until it expires.
struct ClusterMembership {
    private let nodes: [NodeObject]
    /// The managers a promoted or restarted manager was told about, trusted
    /// only until its store shows this node as the manager it is (then the
    /// store holds every node the seeds could name).
    private let seeds: [ClusterProtocol.ManagerInfo]

    init(nodes: [NodeObject], seeds: [ClusterProtocol.ManagerInfo], selfRaftID: UInt64) {
        self.nodes = nodes
        let caughtUp = nodes.contains { $0.role == .manager && $0.raftID == selfRaftID }
        self.seeds = caughtUp ? [] : seeds
    }

    /// As `store` says, for the manager `identity` (its seeds: the managers it was told about).
    init(_ store: Store, _ identity: NodeIdentity) {
        self.init(nodes: store.nodes, seeds: identity.managers, selfRaftID: identity.raftID)
    }

    /// A node of the swarm (or a seed): its frames are taken in.
    func admits(_ nodeID: String) -> Bool {
        nodes.contains { $0.meta.id == nodeID } || seeds.contains { $0.nodeID == nodeID }
    }

    /// The Raft id of a manager; nil for a worker, a removed node or a stranger.
    func raftID(of nodeID: String) -> UInt64? {
        if let node = nodes.first(where: { $0.meta.id == nodeID }) { return node.role == .manager ? node.raftID : nil }
        return seeds.first { $0.nodeID == nodeID }?.raftID
    }

    /// A peer that may make manager calls: its certificate says manager and
    /// the store (or, before it caught up, a seed) says so too.
    func isManager(_ peer: PeerIdentity?) -> Bool {
        guard let peer, peer.role == NodeRole.manager.rawValue else { return false }
        return raftID(of: peer.nodeID) != nil
    }
}
