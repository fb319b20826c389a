/// Appends LEB128 varints, fixed-width little-endian integers and length-prefixed byte
/// strings to a buffer. Shared with `RaftStorage` (hence `package`).
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    /// A fixed-width little-endian 32-bit value (used for WAL frame headers).
    package mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// An unsigned LEB128 varint: 1 byte below 128, at most 10 bytes.
    package mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    package mutating func write(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// A varint length followed by the bytes.
    package mutating func writeBlob(_ blob: [UInt8]) {
        writeVarint(UInt64(blob.count))
        bytes.append(contentsOf: blob)
    }

    package mutating func writeRaw(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }
}
