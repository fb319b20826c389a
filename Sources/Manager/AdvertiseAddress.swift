import Addressing
import ClusterWire

/// Chooses the address a node tells its peers, as `docker swarm init` does:
/// an IP, an interface name (its IPv4 address), either with an optional
/// `:PORT`; or, when none is given, the one address this host has outside
/// loopback — several addresses on different interfaces need a choice.
public enum AdvertiseAddress {
    public struct InterfaceAddress: Sendable {
        public var interface: String
        public var address: String

        public init(interface: String, address: String) {
            self.interface = interface
            self.address = address
        }
    }

    public static func resolve(_ flag: String?, defaultPort: Int, interfaces: [InterfaceAddress]) throws(SwarmError) -> String {
        let candidates = interfaces.filter { $0.interface != "lo" && !$0.address.hasPrefix("127.") }
        guard let flag, !flag.isEmpty else {
            // One entry per address, in the order the interfaces came (the message names the first two).
            var seen = Set<String>()
            let distinct = candidates.filter { seen.insert($0.address).inserted }
            if distinct.count == 1, let only = distinct.first { return "\(only.address):\(defaultPort)" }
            if distinct.isEmpty {
                throw SwarmError("could not find an IP address to advertise: this system has no address outside loopback - specify one with --advertise-addr")
            }
            let listed = distinct.prefix(2).map { "\($0.address) on \($0.interface)" }.joined(separator: " and ")
            throw SwarmError("could not choose an IP address to advertise since this system has multiple addresses on different interfaces (\(listed)) - specify one with --advertise-addr")
        }
        let notAnAddress = SwarmError("advertise address must be a non-zero IP address or network interface (with optional port number), not \(flag)")
        let address: HostPort
        do throws(HostPort.ParseError) {
            address = try HostPort(parsing: flag, defaultPort: defaultPort)
        } catch {
            switch error {
            case .invalidPort: throw SwarmError("invalid --advertise-addr \(flag): the port must be a number from 1 to 65535")
            case .emptyHost: throw notAnAddress
            }
        }
        if let ip = IPv4Address(address.host), ip.value != 0 { return address.description }
        guard let match = interfaces.first(where: { $0.interface == address.host }) else { throw notAnAddress }
        return "\(match.address):\(address.port)"
    }
}
