/// The state a node must persist before sending any message that depends on it.
public struct HardState: Sendable, Equatable {
    /// The latest term this node has seen.
    public var term: UInt64
    /// Candidate voted for in `term`, or 0.
    public var vote: NodeID
    /// Highest index known to be committed.
    public var commit: UInt64

    /// Creates a hard state; the default is the state of a node that has never run.
    public init(term: UInt64 = 0, vote: NodeID = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}
