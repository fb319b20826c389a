/// A single-server membership change, proposed with `RaftNode.proposeConfChange`.
///
/// It takes effect on every node as soon as its entry is appended to that node's log (not
/// when it commits), as in the Raft dissertation §4.1; see `RaftNode` for the rules.
public struct ConfChange: Sendable, Equatable {
    /// What the change does.
    public enum Kind: UInt8, Sendable, Equatable {
        /// Adds a voter, or promotes a learner to voter.
        case addVoter = 0
        /// Adds a learner (a non-voter that receives the log), or demotes a voter.
        case addLearner = 1
        /// Removes a voter or learner.
        case removeNode = 2
    }

    /// What the change does.
    public var kind: Kind
    /// The member it concerns.
    public var node: NodeID
    /// Opaque application data (for example the new member's address).
    public var context: [UInt8]

    /// Creates a change.
    public init(kind: Kind, node: NodeID, context: [UInt8] = []) {
        self.kind = kind
        self.node = node
        self.context = context
    }
}
