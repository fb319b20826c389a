/// Pending ReadIndex requests on the leader. Each waits until a quorum answers a heartbeat
/// carrying its context, proving the leader was still leader when the request arrived.
struct ReadOnly {
    struct Request {
        var index: UInt64
        var from: NodeID
        var context: [UInt8]
        var acks: Set<NodeID>
    }

    private(set) var queue: [Request] = []

    /// Queues a request; a duplicate context is ignored (the first one answers both).
    mutating func add(index: UInt64, from: NodeID, context: [UInt8], leader: NodeID) {
        if queue.contains(where: { $0.context == context }) { return }
        queue.append(Request(index: index, from: from, context: context, acks: [leader]))
    }

    /// Records `from`'s heartbeat answer; returns the acks gathered for `context`.
    mutating func ack(context: [UInt8], from: NodeID) -> Set<NodeID>? {
        guard let position = queue.firstIndex(where: { $0.context == context }) else { return nil }
        queue[position].acks.insert(from)
        return queue[position].acks
    }

    /// Removes and returns every request up to and including the one for `context`:
    /// confirming a later request confirms the earlier ones too.
    mutating func release(through context: [UInt8]) -> [Request] {
        guard let position = queue.firstIndex(where: { $0.context == context }) else { return [] }
        let released = Array(queue[...position])
        queue.removeFirst(position + 1)
        return released
    }

    mutating func reset() {
        queue.removeAll()
    }
}
