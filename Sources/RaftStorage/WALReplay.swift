import Raft

/// Rebuilds the logical log from WAL records in order, with the same replacement rules the
/// writer used: an entry at index i drops every entry from i on; a snapshot marker drops the
/// entries it covers (and, if it does not retain the suffix, all of them).
struct WALReplay {
    var hardState = HardState()
    var marker: (index: UInt64, term: UInt64)?
    var entries: [Entry] = []

    var baseIndex: UInt64 { marker?.index ?? 0 }

    /// Applies one record; `file` and `offset` locate it for error messages.
    mutating func apply(_ record: WALRecord, file: String, offset: Int) throws(StorageError) {
        // Values no node can reach are damage (and would overflow index arithmetic).
        let limit: UInt64 = 1 << 62
        let impossible: Bool
        switch record {
        case let .entry(entry): impossible = entry.index >= limit || entry.term >= limit || entry.index == 0
        case let .snapshotMarker(index, term, _): impossible = index >= limit || term >= limit
        case let .hardState(state): impossible = state.term >= limit || state.commit >= limit
        }
        if impossible { throw .corrupt(file: file, offset: offset, reason: "impossible index, term or commit") }
        switch record {
        case let .hardState(state):
            hardState = state
        case let .snapshotMarker(index, term, retainsSuffix):
            if index < baseIndex { return }
            if retainsSuffix {
                entries.removeAll { $0.index <= index }
            } else {
                entries = []
            }
            marker = (index, term)
        case let .entry(entry):
            if entry.index <= baseIndex { return }
            guard let first = entries.first?.index else {
                entries = [entry]
                return
            }
            let last = first + UInt64(entries.count) - 1
            guard entry.index <= last + 1 else {
                throw .corrupt(file: file, offset: offset, reason: "entry \(entry.index) does not follow \(last)")
            }
            if entry.index < first {
                // It replaces everything from its index on; what came before it was in a
                // segment deleted after a snapshot covered it (checked by `checkContiguous`).
                entries = [entry]
                return
            }
            entries.removeSubrange(Int(entry.index - first)...)
            entries.append(entry)
        }
    }

    /// Checks that the entries continue the snapshot without a gap.
    func checkContiguous(file: String) throws(StorageError) {
        if let first = entries.first?.index, first != baseIndex + 1 {
            throw .corrupt(file: file, offset: 0,
                           reason: "entries start at \(first) but the snapshot ends at \(baseIndex)")
        }
    }
}
