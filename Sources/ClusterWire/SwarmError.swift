/// What a swarm operation refuses, in one line for the user, with the kind
/// of refusal; the daemon turns the kind into its API's status code.
public struct SwarmError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The request itself is wrong (a name, a value out of range).
        case invalid
        case notFound
        /// It contradicts what the swarm holds (a name taken).
        case conflict
        /// Another write moved the object on between its read and this write: read it again and retry.
        case outOfSequence
        /// Larger than the swarm replicates.
        case tooLarge
        /// This node cannot answer now (no leader, not a manager, a peer out of reach): retry or go elsewhere.
        case unavailable
        /// A peer answered with something this node cannot read.
        case badPeerAnswer
        /// Waited for the swarm longer than the operation allows.
        case timedOut
        /// This node's own machinery failed (a file, the raft log).
        case failed
    }

    public var description: String
    public var kind: Kind

    public init(_ description: String, kind: Kind = .invalid) {
        self.description = description
        self.kind = kind
    }

    public static let notInSwarm = SwarmError(
        "This node is not a swarm manager. Use \"shoal init\" or \"shoal join\" to connect this node to swarm and try again.",
        kind: .unavailable)
    public static let workerNotManager = SwarmError(
        "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.",
        kind: .unavailable)
    public static let noLeader = SwarmError(
        "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.",
        kind: .unavailable)
    public static func notLeader(_ leaderAddress: String?) -> SwarmError {
        SwarmError("this manager is not the leader: run the command on the leader\(leaderAddress.map { " (\($0))" } ?? "")",
                   kind: .unavailable)
    }
    public static let alreadyInSwarm = SwarmError(
        "This node is already part of a swarm. Use \"shoal leave\" to leave this swarm and join another one.",
        kind: .conflict)
}
