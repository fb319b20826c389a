/// What an address allocator needs of a network: its extent, and the
/// subnets a pool is cut into.
extension IPv4Network {
    /// How many addresses the network spans.
    public var size: UInt64 { 1 << UInt64(32 - prefixLength) }

    public var broadcastAddress: IPv4Address { IPv4Address(networkAddress.value | ~mask) }

    /// Whether this is written as a network (10.0.1.0/24), not as an
    /// address inside one (10.0.1.5/24).
    public var isNetwork: Bool { address == networkAddress }

    /// The network this address belongs to, written as one.
    public var network: IPv4Network { IPv4Network(address: networkAddress, prefixLength: prefixLength) ?? self }

    /// The subnets of `length` inside this network, in address order; none
    /// when `length` is shorter than this network's own prefix or past /32.
    public func subnets(ofLength length: Int) -> some Sequence<IPv4Network> {
        let count: UInt64 = (prefixLength...32).contains(length) ? 1 << UInt64(length - prefixLength) : 0
        let step = count == 0 ? 0 : size / count
        let base = UInt64(networkAddress.value)
        return (0..<count).lazy.compactMap { index in
            IPv4Network(address: IPv4Address(UInt32(truncatingIfNeeded: base + index * step)), prefixLength: length)
        }
    }
}

/// Written as its CIDR text ("10.0.1.0/24"), as docker's JSON has it.
extension IPv4Network: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let network = IPv4Network(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an IPv4 network: \(text)"))
        }
        self = network
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
