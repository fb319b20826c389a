/// A message between Raft peers. Which fields matter depends on `kind`.
public struct Message: Sendable, Equatable {
    /// The kinds of message peers exchange.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Leader → follower: entries after (`index`, `logTerm`), plus the leader's `commit`.
        case append = 1
        /// Follower → leader: `index` is the follower's new last index, or the rejected
        /// `index` with `rejectHint`/`logTerm` telling the leader where to retry.
        case appendResponse = 2
        /// Candidate → all: vote for me; `logTerm`/`index` describe my last entry.
        case vote = 3
        /// Answer to `vote`.
        case voteResponse = 4
        /// Like `vote` but for `term` + 1 without raising anyone's term.
        case preVote = 5
        /// Answer to `preVote`.
        case preVoteResponse = 6
        /// Leader → follower: I am alive; `commit` is safe for you; `context` is a read-index round.
        case heartbeat = 7
        /// Answer to `heartbeat`, echoing `context`.
        case heartbeatResponse = 8
        /// Leader → follower whose entries were compacted away: `snapshot`.
        case installSnapshot = 9
        /// Leader → transfer target: campaign now, ignoring leases.
        case timeoutNow = 10
        /// Follower → leader: confirm leadership and tell me the commit index for `context`.
        case readIndex = 11
        /// Leader → follower: `index` is safe to read at once applied, for `context`.
        case readIndexResponse = 12
    }

    /// The kind of message.
    public var kind: Kind
    /// Sender.
    public var from: NodeID
    /// Recipient.
    public var to: NodeID
    /// Sender's term.
    public var term: UInt64
    /// Term of the entry at `index` (or a reject hint's term).
    public var logTerm: UInt64 = 0
    /// A log index whose meaning depends on `kind`.
    public var index: UInt64 = 0
    /// Entries to append.
    public var entries: [Entry] = []
    /// The leader's commit index.
    public var commit: UInt64 = 0
    /// Whether the request was refused.
    public var reject: Bool = false
    /// For a rejected append: where the follower's log could match.
    public var rejectHint: UInt64 = 0
    /// For `installSnapshot`.
    public var snapshot: Snapshot?
    /// Opaque bytes: read-index request IDs, or the transfer marker on votes.
    public var context: [UInt8] = []

    /// Creates a message.
    public init(kind: Kind, from: NodeID, to: NodeID, term: UInt64) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
    }
}
