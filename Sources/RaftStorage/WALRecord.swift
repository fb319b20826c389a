import Raft

/// One framed WAL record: `[length u32 LE][crc32c u32 LE][type u8][body]`, where length
/// counts type and body, and the CRC-32C covers type and body.
enum WALRecord: Equatable {
    /// An entry; it replaces every stored entry from its index on.
    case entry(Entry)
    case hardState(HardState)
    /// A snapshot at (`index`, `term`) is durable. `retainsSuffix` says whether log entries
    /// after it stay valid (local compaction) or are discarded (snapshot installed from a leader).
    case snapshotMarker(index: UInt64, term: UInt64, retainsSuffix: Bool)

    static let headerSize = 8
    /// Larger lengths are damage, not data (a snapshot travels in its own file).
    static let maxBodySize = 1 << 30

    private enum RecordType: UInt8 {
        case entry = 1
        case hardState = 2
        case snapshotMarker = 3
    }

    func encode(into writer: inout ByteWriter) {
        var body = ByteWriter()
        switch self {
        case let .entry(entry):
            body.write(RecordType.entry.rawValue)
            entry.write(to: &body)
        case let .hardState(state):
            body.write(RecordType.hardState.rawValue)
            state.write(to: &body)
        case let .snapshotMarker(index, term, retainsSuffix):
            body.write(RecordType.snapshotMarker.rawValue)
            body.writeVarint(index)
            body.writeVarint(term)
            body.write(retainsSuffix)
        }
        writer.write(UInt32(body.bytes.count))
        writer.write(CRC32C.checksum(body.bytes))
        writer.writeRaw(body.bytes)
    }

    /// Decodes a record body whose CRC has already been checked.
    init(body: ArraySlice<UInt8>) throws(DecodingError) {
        var reader = ByteReader(body)
        let typeByte = try reader.readUInt8()
        switch RecordType(rawValue: typeByte) {
        case .entry:
            self = .entry(try Entry(from: &reader))
        case .hardState:
            self = .hardState(try HardState(from: &reader))
        case .snapshotMarker:
            self = .snapshotMarker(index: try reader.readVarint(), term: try reader.readVarint(),
                                   retainsSuffix: try reader.readBool())
        case nil:
            throw .invalid("record type \(typeByte)", offset: body.startIndex)
        }
        try reader.expectEnd()
    }
}
