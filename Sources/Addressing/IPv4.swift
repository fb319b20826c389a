/// An IPv4 address, kept in host byte order.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Parses dotted-quad notation ("10.0.0.1"); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII),
                  let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    public var octets: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    public var description: String { octets.map(String.init).joined(separator: ".") }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 network in CIDR form, e.g. 10.0.0.0/24, or an interface address
/// with its prefix (10.0.0.5/24) when `address` is not the network address.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    public let address: IPv4Address
    public let prefixLength: Int

    public init?(address: IPv4Address, prefixLength: Int) {
        guard (0...32).contains(prefixLength) else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "a.b.c.d/len"; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]),
              parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]) else { return nil }
        self.init(address: address, prefixLength: length)
    }

    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << (32 - UInt32(prefixLength)) }
    public var networkAddress: IPv4Address { IPv4Address(address.value & mask) }

    /// The `n`th address of this network (0 is the network address itself).
    public func host(_ n: UInt32) -> IPv4Address { IPv4Address(networkAddress.value | (n & ~mask)) }

    public func contains(_ other: IPv4Address) -> Bool { other.value & mask == networkAddress.value }

    /// Whether the two networks share at least one address.
    public func overlaps(_ other: IPv4Network) -> Bool {
        let shorter = prefixLength < other.prefixLength ? self : other
        let longer = prefixLength < other.prefixLength ? other : self
        return shorter.contains(longer.networkAddress)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

extension Sequence<IPv4Network> {
    /// The first of these networks that overlaps none of `taken`: how a
    /// subnet is picked that shadows no route or address of the host.
    public func first(overlappingNoneOf taken: [IPv4Network]) -> IPv4Network? {
        first { candidate in !taken.contains { $0.overlaps(candidate) } }
    }
}
