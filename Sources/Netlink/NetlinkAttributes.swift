// Netlink messages built by hand, for the families libnl-route does not
// cover (nftables over nfnetlink; later IPVS over generic netlink).

/// Netlink attributes: length and type in host order, the value padded to 4
/// bytes. Integer values are written big-endian, as nftables wants them.
struct AttributeWriter {
    private(set) var bytes: [UInt8] = []

    mutating func bytes(_ type: UInt16, _ value: [UInt8]) {
        withUnsafeBytes(of: UInt16(4 + value.count)) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: type) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value)
        bytes.append(contentsOf: repeatElement(0, count: (4 - value.count % 4) % 4))
    }

    mutating func string(_ type: UInt16, _ value: String) { bytes(type, Array(value.utf8) + [0]) }
    mutating func bigEndianU32(_ type: UInt16, _ value: UInt32) { bytes(type, value.bigEndianBytes) }
    /// Host order, as generic netlink families other than nftables (IPVS) mostly want.
    mutating func nativeU32(_ type: UInt16, _ value: UInt32) { bytes(type, value.nativeBytes) }
    mutating func nativeU16(_ type: UInt16, _ value: UInt16) { bytes(type, value.nativeBytes) }

    /// An attribute holding the attributes `body` writes, built in place (no copy per level).
    mutating func nested(_ type: UInt16, _ body: (inout AttributeWriter) -> Void) {
        let start = bytes.count
        bytes += [0, 0, 0, 0]
        body(&self)  // children are padded to 4 bytes, so the nest needs no padding of its own
        let header = UInt16(bytes.count - start).nativeBytes + (type | 0x8000).nativeBytes  // NLA_F_NESTED
        bytes.replaceSubrange(start..<(start + 4), with: header)
    }
}

/// One netlink message: the 16-byte `nlmsghdr` (length, type, flags,
/// sequence, port 0, in host order) followed by `payload`.
func netlinkMessage(type: UInt16, flags: UInt16, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
    UInt32(16 + payload.count).nativeBytes + type.nativeBytes + flags.nativeBytes + sequence.nativeBytes
        + UInt32(0).nativeBytes + payload
}

extension FixedWidthInteger {
    var nativeBytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }
}

extension [UInt8] {
    func nativeU32(at offset: Int) -> UInt32 { withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) } }
    func nativeU16(at offset: Int) -> UInt16 { withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) } }
}
