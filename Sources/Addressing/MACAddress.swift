/// An Ethernet (MAC) address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    /// The six bytes, in wire order.
    public let bytes: [UInt8]

    /// Six bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// The address a task's interface gets on an overlay network, as docker
    /// derives it: 02:42 (locally administered, unicast) then the four bytes
    /// of `address`. Any node can compute a remote task's MAC from its IP.
    public init(derivedFrom address: IPv4Address) {
        bytes = [0x02, 0x42] + address.octets
    }

    /// Parses "02:42:ac:1e:00:02" (hex, two digits per byte); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }
}
