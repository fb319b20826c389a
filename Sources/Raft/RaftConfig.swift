/// Tunables for one `RaftNode`. The defaults assume a 100 ms tick: a heartbeat every tick,
/// an election after a randomized 10–19 ticks of silence.
public struct RaftConfig: Sendable {
    /// Default ticks between heartbeats.
    public static let defaultHeartbeatTicks = 1
    /// Default base election timeout in ticks; each election waits a random value in
    /// `[electionTicks, 2 * electionTicks)`.
    public static let defaultElectionTicks = 10

    /// This node's ID; must not be 0.
    public var id: NodeID
    /// Base election timeout in ticks. A follower campaigns after a random number of silent
    /// ticks in `[electionTicks, 2 * electionTicks)`. It is also the leader-lease length and
    /// the check-quorum period.
    public var electionTicks: Int
    /// Ticks between leader heartbeats.
    public var heartbeatTicks: Int
    /// Maximum unacknowledged append messages per follower while pipelining.
    public var maxInflightMessages: Int
    /// Soft cap on the entry bytes of one append message (at least one entry is always sent).
    public var maxMessageBytes: Int
    /// Run a pre-vote round before raising the term, so a partitioned node cannot disrupt.
    public var preVote: Bool
    /// A leader that cannot hear a quorum for an election timeout steps down, and a node that
    /// heard a leader within the election timeout ignores vote requests (the leader lease).
    public var checkQuorum: Bool

    /// Creates a configuration with etcd-like defaults.
    public init(
        id: NodeID,
        electionTicks: Int = RaftConfig.defaultElectionTicks,
        heartbeatTicks: Int = RaftConfig.defaultHeartbeatTicks,
        maxInflightMessages: Int = 256,
        maxMessageBytes: Int = 1 << 20,
        preVote: Bool = true,
        checkQuorum: Bool = true
    ) {
        self.id = id
        self.electionTicks = max(2, electionTicks)
        self.heartbeatTicks = max(1, min(heartbeatTicks, self.electionTicks - 1))
        self.maxInflightMessages = max(1, maxInflightMessages)
        self.maxMessageBytes = max(1, maxMessageBytes)
        self.preVote = preVote
        self.checkQuorum = checkQuorum
    }
}
