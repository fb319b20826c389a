extension RaftNode {
    /// Whether `ready()` has anything for the caller.
    public var hasReady: Bool {
        softState != lastSoftState || hardState != lastHardState || log.pendingSnapshot != nil
            || log.unstableFrom <= log.lastIndex || !messages.isEmpty || log.hasEntriesToApply
            || !readStates.isEmpty
    }

    /// Collects the pending work. Handle it in the documented order, then call `advance`.
    public func ready() -> Ready {
        Ready(
            softState: softState != lastSoftState ? softState : nil,
            hardState: hardState != lastHardState ? hardState : nil,
            snapshot: log.pendingSnapshot,
            entries: log.unstableEntries,
            messages: messages,
            committedEntries: log.entriesToApply,
            readStates: readStates)
    }

    /// Acknowledges that `ready` was persisted, sent and applied, in that order.
    public mutating func advance(_ ready: Ready) {
        if let soft = ready.softState { lastSoftState = soft }
        if let hard = ready.hardState { lastHardState = hard }
        if let snap = ready.snapshot { log.snapshotApplied(snap.metadata) }
        if let last = ready.entries.last { log.stable(to: last.index, term: last.term) }
        messages.removeFirst(min(ready.messages.count, messages.count))
        readStates.removeFirst(min(ready.readStates.count, readStates.count))
        if let last = ready.committedEntries.last, last.index > log.applied {
            log.applied = last.index
        }
    }
}
