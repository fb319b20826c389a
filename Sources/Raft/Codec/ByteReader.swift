/// Why bytes could not be decoded. Decoding never traps on malformed input; it throws this.
public enum DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input ended before `needed` more bytes at `offset`.
    case truncated(offset: Int, needed: Int)
    /// The encoding version is not one this build understands.
    case unsupportedVersion(UInt8)
    /// A field holds an impossible value.
    case invalid(String, offset: Int)
    /// Bytes remain after a complete value.
    case trailingBytes(offset: Int)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case let .truncated(offset, needed): return "truncated input: need \(needed) bytes at offset \(offset)"
        case let .unsupportedVersion(version): return "unsupported encoding version \(version)"
        case let .invalid(what, offset): return "invalid \(what) at offset \(offset)"
        case let .trailingBytes(offset): return "unexpected trailing bytes at offset \(offset)"
        }
    }
}

/// Reads what `ByteWriter` wrote, checking bounds on every read.
package struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    package private(set) var offset: Int

    package init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes[...]
        self.offset = offset
    }

    /// Reads `slice` with offsets relative to its own start.
    package init(_ slice: ArraySlice<UInt8>) {
        self.bytes = slice
        self.offset = slice.startIndex
    }

    package var remaining: Int { bytes.endIndex - offset }

    private mutating func take(_ count: Int) throws(DecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(offset: offset, needed: count) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    package mutating func readUInt8() throws(DecodingError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(offset: offset, needed: 1) }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readUInt32() throws(DecodingError) -> UInt32 {
        var value: UInt32 = 0
        for (shift, byte) in try take(4).enumerated() { value |= UInt32(byte) << (8 * shift) }
        return value
    }

    /// An unsigned LEB128 varint; overlong or overflowing encodings are refused.
    package mutating func readVarint() throws(DecodingError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readUInt8()
            if shift == 63 && byte > 1 { throw .invalid("varint", offset: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw .invalid("varint", offset: start) }
        }
    }

    package mutating func readBool() throws(DecodingError) -> Bool {
        let start = offset
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        default: throw .invalid("boolean", offset: start)
        }
    }

    package mutating func readBlob() throws(DecodingError) -> [UInt8] {
        let start = offset
        let count = try readVarint()
        guard count <= UInt64(remaining) else { throw .truncated(offset: start, needed: Int(clamping: count)) }
        return Array(try take(Int(count)))
    }

    /// Reads a count of items that each take at least `minimumItemSize` bytes, refusing counts
    /// the remaining input cannot hold (so garbage cannot trigger huge allocations).
    package mutating func readCount(minimumItemSize: Int) throws(DecodingError) -> Int {
        let start = offset
        let count = try readVarint()
        guard count <= UInt64(remaining / max(1, minimumItemSize)) else {
            throw .invalid("count \(count)", offset: start)
        }
        return Int(count)
    }

    package mutating func readVersion(_ supported: UInt8) throws(DecodingError) {
        let version = try readUInt8()
        guard version == supported else { throw .unsupportedVersion(version) }
    }

    package func expectEnd() throws(DecodingError) {
        guard remaining == 0 else { throw .trailingBytes(offset: offset) }
    }
}
