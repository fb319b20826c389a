/// The leader's view of one follower, as in etcd: probing (one append at a time until the
/// match point is found), replicating (optimistic pipelining, capped by `Inflights`), or
/// waiting for a snapshot.
struct Progress {
    enum State: Equatable {
        case probe
        case replicate
        case snapshot(index: UInt64)
    }

    var match: UInt64 = 0
    var next: UInt64
    var state: State = .probe
    /// In probe state: an append is outstanding; wait for its answer or the next heartbeat.
    var probeSent = false
    var inflights: Inflights
    var recentActive = true
    /// Heartbeat answers seen while waiting for a snapshot; after a few, the snapshot is presumed lost.
    var heartbeatsWhileSnapshotting = 0

    init(next: UInt64, maxInflight: Int) {
        self.next = next
        inflights = Inflights(capacity: maxInflight)
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if case let .snapshot(pending) = state {
            next = max(match + 1, pending + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        inflights.reset()
    }

    mutating func becomeSnapshot(index: UInt64) {
        state = .snapshot(index: index)
        probeSent = false
        heartbeatsWhileSnapshotting = 0
        inflights.reset()
    }

    /// Records an acknowledgement of `index`; returns whether `match` moved.
    mutating func maybeUpdate(_ index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Handles a rejection of the append after `rejected`; returns false if it is stale.
    mutating func maybeDecrease(rejected: UInt64, matchHint: UInt64) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next == 0 || next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }
}

/// The last indexes of unacknowledged appends to one follower, oldest first.
struct Inflights {
    let capacity: Int
    private(set) var lastIndexes: [UInt64] = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    var isFull: Bool { lastIndexes.count >= capacity }

    mutating func add(_ index: UInt64) {
        lastIndexes.append(index)
    }

    /// Forgets every append whose last index is at most `index`.
    mutating func free(upTo index: UInt64) {
        if let firstKept = lastIndexes.firstIndex(where: { $0 > index }) {
            lastIndexes.removeFirst(firstKept)
        } else {
            lastIndexes.removeAll(keepingCapacity: true)
        }
    }

    mutating func freeFirst() {
        if !lastIndexes.isEmpty { lastIndexes.removeFirst() }
    }

    mutating func reset() {
        lastIndexes.removeAll(keepingCapacity: true)
    }
}
