import ClusterWire
import ClusterStore
import Transport

/// Who a peer is as the store says now, not as its certificate says: a
/// certificate's role is what was true when it was issued, and a demoted or
/// removed node keeps its certificate until it expires.
struct ClusterMembership {
    private let nodes: [NodeObject]
    /// The managers a promoted or restarted manager was told about.
    private let seeds: [ClusterProtocol.ManagerInfo]
    /// The store shows this node as the manager it is: it holds every node the seeds could name.
    private let caughtUp: Bool

    init(nodes: [NodeObject], seeds: [ClusterProtocol.ManagerInfo], selfRaftID: UInt64) {
        self.nodes = nodes
        self.seeds = seeds
        caughtUp = nodes.contains { $0.role == .manager && $0.raftID == selfRaftID }
    }

    /// As `store` says, for the manager `identity` (its seeds: the managers it was told about).
    init(_ store: Store, _ identity: NodeIdentity) {
        self.init(nodes: store.nodes, seeds: identity.managers, selfRaftID: identity.raftID)
    }

    /// A node of the swarm (or a seed): its frames are taken in.
    func admits(_ nodeID: String) -> Bool {
        nodes.contains { $0.meta.id == nodeID } || seeds.contains { $0.nodeID == nodeID }
    }

    /// The Raft id `nodeID`'s Raft messages carry: the store's, else a seed's.
    /// Raft decides about its own members: a leader that demotes itself is a
    /// worker in the store while it still replicates its removal.
    func raftID(of nodeID: String) -> UInt64? {
        nodes.first { $0.meta.id == nodeID }?.raftID ?? seeds.first { $0.nodeID == nodeID }?.raftID
    }

    /// A peer that may make manager calls: its certificate says manager and
    /// the store says so now (until the store has caught up: a seed).
    func isManager(_ peer: PeerIdentity?) -> Bool {
        guard let peer, peer.role == NodeRole.manager.rawValue else { return false }
        if let node = nodes.first(where: { $0.meta.id == peer.nodeID }) { return node.role == .manager }
        return !caughtUp && seeds.contains { $0.nodeID == peer.nodeID }
    }
}
