/// The membership of the cluster at some log index.
public struct ConfState: Sendable, Equatable {
    /// Members that vote and count towards quorums, sorted.
    public var voters: [NodeID]
    /// Members that receive the log but neither vote nor count, sorted.
    public var learners: [NodeID]

    /// Creates a membership; the lists are sorted and deduplicated, and a voter is never also
    /// a learner.
    public init(voters: [NodeID] = [], learners: [NodeID] = []) {
        self.voters = Array(Set(voters)).sorted()
        self.learners = Array(Set(learners).subtracting(voters)).sorted()
    }

    /// Whether `id` is a voter or learner.
    public func contains(_ id: NodeID) -> Bool {
        voters.contains(id) || learners.contains(id)
    }

    /// The membership after `change`. Changes that are no-ops (adding a voter twice) leave it
    /// as it is; validation of proposals happens on the leader before they enter the log.
    public func applying(_ change: ConfChange) -> ConfState {
        var voterSet = Set(voters)
        var learnerSet = Set(learners)
        switch change.kind {
        case .addVoter:
            learnerSet.remove(change.node)
            voterSet.insert(change.node)
        case .addLearner:
            voterSet.remove(change.node)
            learnerSet.insert(change.node)
        case .removeNode:
            voterSet.remove(change.node)
            learnerSet.remove(change.node)
        }
        return ConfState(voters: Array(voterSet), learners: Array(learnerSet))
    }
}
