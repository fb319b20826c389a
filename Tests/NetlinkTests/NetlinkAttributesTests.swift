import Testing
@testable import Netlink

/// The hand-built netlink messages, byte by byte (no socket, no root).
@Suite struct NetlinkAttributesTests {
    private func native(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    private func native(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    @Test func aStringIsNulTerminatedAndPaddedToFourBytes() {
        var writer = AttributeWriter()
        writer.string(3, "nat")
        #expect(writer.bytes == native(UInt16(8)) + native(UInt16(3)) + Array("nat".utf8) + [0])
        writer = AttributeWriter()
        writer.string(1, "masq")  // 5 bytes of value: length 9, three bytes of padding
        #expect(writer.bytes == native(UInt16(9)) + native(UInt16(1)) + Array("masq".utf8) + [0, 0, 0, 0])
    }

    @Test func integersAreBigEndian() {
        var writer = AttributeWriter()
        writer.bigEndianU32(2, 0x0102_0304)
        #expect(writer.bytes == native(UInt16(8)) + native(UInt16(2)) + [1, 2, 3, 4])
    }

    @Test func aNestedAttributeCountsItsPaddedChildrenAndIsFlagged() {
        var writer = AttributeWriter()
        writer.nested(4) { inner in
            inner.bytes(1, [0xaa])  // 5 bytes, padded to 8
            inner.bigEndianU32(2, 7)  // 8 bytes
        }
        writer.bytes(5, [0xbb, 0xcc])  // follows on a 4-byte boundary
        let expected = native(UInt16(4 + 8 + 8)) + native(UInt16(0x8004))
            + native(UInt16(5)) + native(UInt16(1)) + [0xaa, 0, 0, 0]
            + native(UInt16(8)) + native(UInt16(2)) + [0, 0, 0, 7]
            + native(UInt16(6)) + native(UInt16(5)) + [0xbb, 0xcc, 0, 0]
        #expect(writer.bytes == expected)
        #expect(writer.bytes.count % 4 == 0)
    }

    @Test func aMessageHeaderCountsItselfAndReadsBack() {
        let message = netlinkMessage(type: 0x0a06, flags: 0x405, sequence: 9, payload: [2, 0, 0, 10])
        #expect(message == native(UInt32(20)) + native(UInt16(0x0a06)) + native(UInt16(0x405)) + native(UInt32(9))
            + native(UInt32(0)) + [2, 0, 0, 10])
        #expect(message.nativeU32(at: 0) == 20)
        #expect(message.nativeU16(at: 4) == 0x0a06)
        #expect(message.nativeU32(at: 8) == 9)
    }
}
