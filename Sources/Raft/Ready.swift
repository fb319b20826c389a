/// The role a node plays in its current term.
public enum RaftRole: Sendable, Equatable {
    /// Follows a leader (or waits for one).
    case follower
    /// Asking for pre-votes, without raising its term.
    case preCandidate
    /// Asking for votes in a new term.
    case candidate
    /// Leads the cluster.
    case leader
}

/// State that need not be persisted but the application wants to observe.
public struct SoftState: Sendable, Equatable {
    /// The known leader, or 0.
    public var leader: NodeID
    /// This node's role.
    public var role: RaftRole
}

/// The answer to a `readIndex` request: once the applied index reaches `index`, a read of the
/// local state machine reflects every write acknowledged before the request was made.
public struct ReadState: Sendable, Equatable {
    /// Commit index at the time leadership was confirmed.
    public var index: UInt64
    /// The request's context, as passed to `readIndex`.
    public var context: [UInt8]
}

/// Work the caller must do, in this order: persist `snapshot`, `entries` and `hardState`
/// (fsync'd); then send `messages`; then apply `snapshot` and `committedEntries` and serve
/// `readStates`; then call `advance`. See the contract at the top of `RaftNode`.
public struct Ready: Sendable {
    /// Leader and role, when they changed since the last `advance`.
    public var softState: SoftState?
    /// Hard state to persist, when it changed.
    public var hardState: HardState?
    /// Snapshot received from the leader: persist it and restore the state machine from it.
    public var snapshot: Snapshot?
    /// Entries to persist; an entry at index i replaces any stored entries from i on.
    public var entries: [Entry]
    /// Messages to send after persisting.
    public var messages: [Message]
    /// Committed entries to apply, in order, after persisting.
    public var committedEntries: [Entry]
    /// Answers to `readIndex` requests.
    public var readStates: [ReadState]

    /// Whether there is nothing to do.
    public var isEmpty: Bool {
        softState == nil && hardState == nil && snapshot == nil && entries.isEmpty
            && messages.isEmpty && committedEntries.isEmpty && readStates.isEmpty
    }
}
