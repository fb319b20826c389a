import NIOCore

/// Writes to one datagram channel that leave together: the flush waits until
/// the event loop has handled everything ready now, so a burst of queries or
/// replies goes out in one sendmmsg rather than a syscall each. Touched only
/// on the channel's event loop.
final class BatchedWrites: @unchecked Sendable {
    private var flushPending = false

    func write<Message: Sendable>(_ message: Message, to channel: any Channel) {
        channel.eventLoop.preconditionInEventLoop()
        channel.write(message, promise: nil)
        guard !flushPending else { return }
        flushPending = true
        channel.eventLoop.execute {
            self.flushPending = false
            channel.flush()
        }
    }
}
