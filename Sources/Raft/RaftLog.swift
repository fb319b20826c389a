/// The in-memory log: entries after the latest compaction point, plus bookkeeping for what
/// the caller has persisted (`unstableFrom`) and applied (`applied`), and the membership each
/// configuration entry in the log establishes (membership takes effect when appended).
struct RaftLog {
    /// A configuration entry in the log and the membership in force from it on.
    struct ConfPoint {
        var index: UInt64
        var conf: ConfState
    }

    /// Index and term of the last compacted entry (the snapshot point), 0 for none.
    private(set) var baseIndex: UInt64
    private(set) var baseTerm: UInt64
    /// Membership as of `baseIndex`.
    private(set) var baseConf: ConfState
    /// Entries `baseIndex + 1 ... lastIndex`.
    private(set) var entries: [Entry]
    /// Configuration entries among `entries`, in index order.
    private(set) var confPoints: [ConfPoint] = []
    private(set) var committed: UInt64
    var applied: UInt64
    /// First index not yet handed out in a `Ready` and acknowledged by `advance`.
    private(set) var unstableFrom: UInt64
    /// A snapshot received from the leader that the caller has not yet persisted and applied.
    private(set) var pendingSnapshot: Snapshot?
    /// The newest snapshot known, sent to followers that fell behind the compaction point.
    var snapshot: Snapshot?

    init(recovered: RecoveredState) {
        let base = recovered.snapshot?.metadata
        baseIndex = base?.index ?? 0
        baseTerm = base?.term ?? 0
        baseConf = base?.conf ?? ConfState()
        snapshot = recovered.snapshot
        entries = []
        committed = baseIndex
        applied = baseIndex
        unstableFrom = baseIndex + 1
        var contiguous: [Entry] = []
        for entry in recovered.entries where entry.index > baseIndex {
            guard entry.index == baseIndex + UInt64(contiguous.count) + 1 else { break }
            contiguous.append(entry)
        }
        append(contiguous)
        committed = min(max(recovered.hardState.commit, baseIndex), lastIndex)
        unstableFrom = lastIndex + 1
    }

    var firstIndex: UInt64 { baseIndex + 1 }
    var lastIndex: UInt64 { baseIndex + UInt64(entries.count) }
    var lastTerm: UInt64 { entries.last?.term ?? baseTerm }

    /// The membership in force: the latest configuration entry in the log, committed or not.
    var conf: ConfState { confPoints.last?.conf ?? baseConf }
    /// Index of the latest configuration entry in the log (or the base index if none).
    var lastConfIndex: UInt64 { confPoints.last?.index ?? baseIndex }

    /// The membership as of `index` (for snapshots taken at the applied index).
    func conf(at index: UInt64) -> ConfState {
        confPoints.last(where: { $0.index <= index })?.conf ?? baseConf
    }

    /// The term of the entry at `index`, or nil when it is compacted or beyond the end.
    func term(at index: UInt64) -> UInt64? {
        if index == baseIndex { return baseTerm }
        if index < baseIndex || index > lastIndex { return nil }
        return entries[Int(index - baseIndex - 1)].term
    }

    func matchTerm(_ index: UInt64, _ term: UInt64) -> Bool {
        self.term(at: index) == term
    }

    /// §5.4.1: a candidate's log is at least as up-to-date as ours.
    func isUpToDate(lastIndex candidateIndex: UInt64, lastTerm candidateTerm: UInt64) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries from `low` on, at most `maxBytes` (but at least one); nil if `low` is compacted.
    func entries(from low: UInt64, maxBytes: Int) -> [Entry]? {
        if low <= baseIndex { return nil }
        if low > lastIndex { return [] }
        var result: [Entry] = []
        var size = 0
        for entry in entries[Int(low - baseIndex - 1)...] {
            size += entry.byteSize
            if !result.isEmpty && size > maxBytes { break }
            result.append(entry)
        }
        return result
    }

    /// Entries in `low ... high`, clamped to what is present.
    func slice(_ low: UInt64, _ high: UInt64) -> ArraySlice<Entry> {
        let lo = max(low, firstIndex)
        let hi = min(high, lastIndex)
        if lo > hi { return [] }
        return entries[Int(lo - baseIndex - 1)...Int(hi - baseIndex - 1)]
    }

    var unstableEntries: [Entry] { Array(slice(unstableFrom, lastIndex)) }

    /// Committed entries the caller has not applied yet (none while a snapshot is pending).
    var entriesToApply: [Entry] {
        let start = max(applied, pendingSnapshot?.metadata.index ?? 0) + 1
        if start > committed { return [] }
        return Array(slice(start, committed))
    }

    var hasEntriesToApply: Bool {
        max(applied, pendingSnapshot?.metadata.index ?? 0) < committed
    }

    /// The first entry whose term differs from ours (or that we lack), or nil.
    func findConflict(_ newEntries: [Entry]) -> UInt64? {
        newEntries.first { !matchTerm($0.index, $0.term) }?.index
    }

    /// Walks back from `index` to the last entry whose term is at most `term`: the follower's
    /// rejection hint that lets a leader skip a whole conflicting term per round trip.
    func findConflictByTerm(index: UInt64, term: UInt64) -> (index: UInt64, term: UInt64) {
        var candidate = min(index, lastIndex)
        while true {
            guard let found = self.term(at: candidate) else { return (candidate, 0) }
            if found <= term || candidate == 0 { return (candidate, found) }
            candidate -= 1
        }
    }

    enum AppendResult {
        /// Our log does not hold (`index`, `logTerm`): reject.
        case mismatch
        /// The entries would overwrite a committed entry: a broken or malicious peer; drop.
        case conflictsWithCommitted
        /// Appended; the last index the message vouches for.
        case appended(lastNew: UInt64)
    }

    /// Appends entries from the leader after checking (`index`, `logTerm`) (§5.3).
    mutating func maybeAppend(index: UInt64, logTerm: UInt64, commit: UInt64, newEntries: [Entry]) -> AppendResult {
        guard matchTerm(index, logTerm) else { return .mismatch }
        let lastNew = index + UInt64(newEntries.count)
        if let conflict = findConflict(newEntries) {
            guard conflict > committed, conflict > index else { return .conflictsWithCommitted }
            append(Array(newEntries[Int(conflict - index - 1)...]))
        }
        advanceCommit(to: min(commit, lastNew))
        return .appended(lastNew: lastNew)
    }

    /// Appends entries, replacing any existing suffix starting at the first new index, and
    /// records the membership their configuration entries establish.
    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first?.index, first > baseIndex, first <= lastIndex + 1 else { return }
        entries.removeSubrange(Int(first - baseIndex - 1)...)
        entries.append(contentsOf: newEntries)
        unstableFrom = min(unstableFrom, first)
        if let keep = confPoints.firstIndex(where: { $0.index >= first }) {
            confPoints.removeSubrange(keep...)
        }
        for entry in newEntries where entry.kind == .configChange {
            // An undecodable change is kept in the log but changes nothing, on every node alike.
            guard let change = try? ConfChange(decoding: entry.data) else { continue }
            confPoints.append(ConfPoint(index: entry.index, conf: conf.applying(change)))
        }
    }

    /// Raises the commit index; ignores values beyond the log (a peer bug, not ours to trap on).
    mutating func advanceCommit(to index: UInt64) {
        if index > committed && index <= lastIndex {
            committed = index
        }
    }

    /// Marks entries through (`index`, `term`) as persisted by the caller.
    mutating func stable(to index: UInt64, term: UInt64) {
        if matchTerm(index, term) && index >= unstableFrom {
            unstableFrom = index + 1
        }
    }

    /// Marks a pending snapshot as persisted and applied.
    mutating func snapshotApplied(_ metadata: SnapshotMetadata) {
        if pendingSnapshot?.metadata == metadata {
            pendingSnapshot = nil
        }
        applied = max(applied, metadata.index)
    }

    /// Replaces the whole log by a snapshot received from the leader.
    mutating func restore(_ snap: Snapshot) {
        baseIndex = snap.metadata.index
        baseTerm = snap.metadata.term
        baseConf = snap.metadata.conf
        entries = []
        confPoints = []
        committed = snap.metadata.index
        unstableFrom = snap.metadata.index + 1
        pendingSnapshot = snap
        snapshot = snap
    }

    /// Drops entries through `index`, which must be applied and present.
    @discardableResult
    mutating func compact(through index: UInt64) -> Bool {
        guard index > baseIndex, index <= applied, let newBaseTerm = term(at: index) else { return false }
        baseConf = conf(at: index)
        confPoints.removeAll { $0.index <= index }
        entries.removeSubrange(0..<Int(index - baseIndex))
        baseIndex = index
        baseTerm = newBaseTerm
        return true
    }
}
