/// A snapshot of a node's view, for diagnostics and for deciding when a learner is caught up.
public struct RaftStatus: Sendable, Equatable {
    /// This node.
    public var id: NodeID
    /// Current term.
    public var term: UInt64
    /// Vote in the current term, or 0.
    public var vote: NodeID
    /// Role in the current term.
    public var role: RaftRole
    /// Known leader, or 0.
    public var leader: NodeID
    /// Commit index.
    public var commit: UInt64
    /// Index of the last entry the application applied.
    public var applied: UInt64
    /// Index of the last log entry.
    public var lastIndex: UInt64
    /// Current (applied) membership.
    public var conf: ConfState
    /// Per-member replication state; only filled on the leader.
    public var progress: [NodeID: PeerProgress]
    /// The member leadership is being transferred to, or 0.
    public var transferee: NodeID
}

/// How far the leader believes a member's log matches its own.
public struct PeerProgress: Sendable, Equatable {
    /// Highest index known to be replicated to the member.
    public var match: UInt64
    /// Next index to send.
    public var next: UInt64
    /// Whether the member is a learner.
    public var isLearner: Bool
    /// Whether the leader heard from it during the current check-quorum period.
    public var recentActive: Bool
}
