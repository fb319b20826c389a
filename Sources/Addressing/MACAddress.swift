/// An Ethernet address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// docker's: 02:42 followed by the IPv4 address, so every node derives
    /// the same MAC for a task from its address alone.
    public init(derivedFrom address: IPv4Address) {
        bytes = [0x02, 0x42] + address.octets
    }

    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
