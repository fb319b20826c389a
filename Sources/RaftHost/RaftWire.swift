import Raft

/// Raft messages over a transport whose frames are bounded (16 MiB).
///
/// Append messages stay small on their own: the Raft core caps the entries of
/// one append (`RaftConfig.maxMessageBytes`, etcd's MaxSizePerMsg) and the
/// host refuses a proposal larger than `RaftHost.maximumProposalBytes`. A
/// snapshot carries the whole store and may be larger than any frame, so a
/// message that does not fit in one payload is cut into chunks, each
///
///     messageID   UInt64, big endian: the same for every chunk of one message
///     totalBytes  UInt64, big endian: the encoded message's length
///     offset      UInt64, big endian: where this chunk's bytes start
///     bytes
///
/// sent in order on the one connection to the peer. The receiver
/// (`RaftMessageAssembler`) holds at most one message in assembly, takes
/// chunks only from the member Raft names as its leader, only in order and
/// only up to a size cap, and drops an assembly that has not moved within a
/// timeout. A lost chunk costs nothing but time: the leader sends a snapshot
/// again when the follower has not answered it within an election timeout.
public enum RaftWire {
    public enum Payload: Equatable, Sendable {
        /// The encoded message, in one frame.
        case whole([UInt8])
        /// One piece of a message too large for a frame.
        case chunk([UInt8])
    }

    static let chunkHeaderBytes = 24

    /// `message` as payloads of at most `maximumPayloadBytes` each; `messageID`
    /// tells one chunked message from the next (any value that does not repeat soon).
    public static func payloads(for message: Message, maximumPayloadBytes: Int, messageID: UInt64) -> [Payload] {
        let encoded = message.encode()
        guard encoded.count > maximumPayloadBytes else { return [.whole(encoded)] }
        let step = max(1, maximumPayloadBytes - chunkHeaderBytes)
        return stride(from: 0, to: encoded.count, by: step).map { offset in
            .chunk(bigEndian(messageID) + bigEndian(UInt64(encoded.count)) + bigEndian(UInt64(offset))
                   + encoded[offset..<min(offset + step, encoded.count)])
        }
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
}

/// Puts chunked Raft messages back together, with bounded memory (see `RaftWire`).
public struct RaftMessageAssembler: Sendable {
    private struct Assembly {
        var sender: NodeID
        var messageID: UInt64
        var totalBytes: Int
        var bytes: [UInt8]
        var lastProgress: ContinuousClock.Instant
    }

    public let maximumMessageBytes: Int
    public let timeout: Duration
    private var assembly: Assembly?

    /// True while part of a message is held.
    public var isAssembling: Bool { assembly != nil }

    public init(maximumMessageBytes: Int, timeout: Duration) {
        self.maximumMessageBytes = maximumMessageBytes
        self.timeout = timeout
    }

    /// Takes one chunk from `sender` (`leader` is whom Raft follows now); returns
    /// the encoded message once its last chunk is in. Anything out of place is
    /// dropped, and with it the message it belonged to.
    public mutating func add(_ chunk: [UInt8], from sender: NodeID, leader: NodeID,
                             now: ContinuousClock.Instant) -> [UInt8]? {
        discardIfStale(now: now)
        guard sender != 0, sender == leader, chunk.count > RaftWire.chunkHeaderBytes else {
            if assembly?.sender == sender { assembly = nil }
            return nil
        }
        func word(_ at: Int) -> UInt64 { chunk[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        let (messageID, total, offset) = (word(0), word(8), word(16))
        let piece = chunk[RaftWire.chunkHeaderBytes...]
        guard total <= UInt64(maximumMessageBytes), offset <= total, UInt64(piece.count) <= total - offset else {
            assembly = nil
            return nil
        }
        if offset == 0 {
            // A new message replaces whatever was in assembly: its sender moved on.
            assembly = Assembly(sender: sender, messageID: messageID, totalBytes: Int(total), bytes: [], lastProgress: now)
        }
        guard var current = assembly, current.sender == sender, current.messageID == messageID,
              current.totalBytes == Int(total), current.bytes.count == Int(offset) else {
            assembly = nil
            return nil
        }
        assembly = nil  // so the append below extends the one buffer instead of copying it
        current.bytes += piece
        current.lastProgress = now
        if current.bytes.count == current.totalBytes {
            assembly = nil
            return current.bytes
        }
        assembly = current
        return nil
    }

    /// Drops a message whose next chunk is overdue.
    public mutating func discardIfStale(now: ContinuousClock.Instant) {
        if let assembly, now - assembly.lastProgress > timeout { self.assembly = nil }
    }
}
