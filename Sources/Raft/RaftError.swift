/// Why the node refused a local request. Peer input never produces these; it is ignored or answered.
public enum RaftError: Error, Sendable, Equatable {
    /// Only the leader accepts this request; `leader` is the known leader or 0.
    case notLeader(leader: NodeID)
    /// A leadership transfer is in progress; proposals are refused until it ends.
    case transferInProgress
    /// A membership change is still uncommitted, or this leader has not yet committed an entry
    /// of its term; only one change may be pending at a time.
    case confChangePending
    /// The membership change makes no sense for the current configuration.
    case invalidConfChange(String)
    /// This node is not (or no longer) a member that can lead.
    case notMember
    /// The request itself is malformed (for example an empty read context).
    case invalidRequest(String)
    /// Compaction asked for an index that is not applied or already compacted.
    case compactionOutOfRange
}
