extension RaftNode {
    /// Refuses changes that are no-ops or would leave no voter.
    func validate(_ change: ConfChange) throws(RaftError) {
        guard change.node != 0 else { throw .invalidConfChange("node 0 is reserved") }
        switch change.kind {
        case .addVoter:
            if voters.contains(change.node) { throw .invalidConfChange("\(change.node) is already a voter") }
        case .addLearner:
            if learners.contains(change.node) { throw .invalidConfChange("\(change.node) is already a learner") }
            if voters == [change.node] { throw .invalidConfChange("cannot demote the last voter") }
        case .removeNode:
            if !voters.contains(change.node) && !learners.contains(change.node) {
                throw .invalidConfChange("\(change.node) is not a member")
            }
            if voters == [change.node] { throw .invalidConfChange("cannot remove the last voter") }
        }
    }
}
