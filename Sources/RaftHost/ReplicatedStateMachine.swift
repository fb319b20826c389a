import Raft

/// The application a `RaftHost` replicates. Called only from the host's own
/// thread, in log order.
public protocol ReplicatedStateMachine: AnyObject {
    /// Applies one committed command; the answer goes back to the proposer.
    func apply(_ command: [UInt8], at index: UInt64) -> [UInt8]
    /// The whole state, for a snapshot taken at the last applied index.
    func snapshot() -> [UInt8]
    /// Replaces the whole state with a snapshot's.
    func restore(from snapshot: [UInt8]) throws
    /// A membership change committed (its context carries what the
    /// application put there, e.g. the new member's address).
    func membershipChanged(_ change: ConfChange)
}

extension ReplicatedStateMachine {
    public func membershipChanged(_ change: ConfChange) {}
}
