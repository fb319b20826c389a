/// CRC-32C (Castagnoli), table-driven slicing-by-8, as used to frame WAL records.
public enum CRC32C {
    private static let polynomial: UInt32 = 0x82F6_3B78

    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[0][byte] = crc
        }
        for byte in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[slice - 1][byte]
                tables[slice][byte] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The checksum of `bytes`, continuing from `seed` (the checksum of preceding bytes).
    public static func checksum<Bytes: Collection>(_ bytes: Bytes, seed: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let t = tables
        var crc = ~seed
        var index = bytes.startIndex
        let end = bytes.endIndex
        while end - index >= 8 {
            let low = crc ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
            crc = t[7][Int(low & 0xFF)] ^ t[6][Int((low >> 8) & 0xFF)]
                ^ t[5][Int((low >> 16) & 0xFF)] ^ t[4][Int(low >> 24)]
                ^ t[3][Int(bytes[index + 4])] ^ t[2][Int(bytes[index + 5])]
                ^ t[1][Int(bytes[index + 6])] ^ t[0][Int(bytes[index + 7])]
            index += 8
        }
        while index < end {
            crc = (crc >> 8) ^ t[0][Int((crc ^ UInt32(bytes[index])) & 0xFF)]
            index += 1
        }
        return ~crc
    }
}
