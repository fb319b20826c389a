/// Identifies a Raft member. Zero means "no node" (no vote cast, no known leader).
public typealias NodeID = UInt64

/// What an `Entry` carries: application data or a membership change.
public enum EntryKind: UInt8, Sendable, Equatable {
    /// Opaque application data; an empty normal entry is the leader's no-op for its term.
    case normal = 0
    /// An encoded `ConfChange`; the node applies it itself when it is applied.
    case configChange = 1
}

/// One slot of the replicated log.
public struct Entry: Sendable, Equatable {
    /// Term of the leader that created the entry.
    public var term: UInt64
    /// Position in the log, starting at 1.
    public var index: UInt64
    /// Whether `data` is application data or a `ConfChange`.
    public var kind: EntryKind
    /// Payload; opaque to Raft for `.normal` entries.
    public var data: [UInt8]

    /// Creates an entry.
    public init(term: UInt64, index: UInt64, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// Approximate size used to cap message sizes.
    var byteSize: Int { data.count + 24 }
}
