/// Where a snapshot sits in the log and which membership it carries.
public struct SnapshotMetadata: Sendable, Equatable {
    /// Index of the last entry the snapshot covers.
    public var index: UInt64
    /// Term of that entry.
    public var term: UInt64
    /// Membership as of `index`.
    public var conf: ConfState

    /// Creates metadata.
    public init(index: UInt64, term: UInt64, conf: ConfState) {
        self.index = index
        self.term = term
        self.conf = conf
    }
}

/// The application state up to `metadata.index`, replacing the log before it.
public struct Snapshot: Sendable, Equatable {
    /// Position and membership.
    public var metadata: SnapshotMetadata
    /// Opaque application state.
    public var data: [UInt8]

    /// Creates a snapshot.
    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}

/// What a node recovered from durable storage, handed to `RaftNode.init`.
public struct RecoveredState: Sendable, Equatable {
    /// The last persisted hard state.
    public var hardState: HardState
    /// The last persisted snapshot, if any.
    public var snapshot: Snapshot?
    /// Persisted entries after the snapshot, contiguous.
    public var entries: [Entry]

    /// Creates recovered state; the default is an empty, never-started node.
    public init(hardState: HardState = HardState(), snapshot: Snapshot? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}
