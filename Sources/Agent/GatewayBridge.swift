#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import Netlink

/// The node's bridge for task traffic (docker_gwbridge's role): every task's
/// `eth0` is one end of a veth pair whose other end is on this bridge, with
/// an address from the bridge's subnet and the bridge as default gateway.
/// What tasks send out of the node leaves with the node's address
/// (masqueraded by the nftables table `ip shoal_gwbridge`).
final class GatewayBridge: Sendable {
    static let name = "shoal_gwbridge"
    /// The first of these that overlaps no route or address of the node.
    static let candidateSubnets = (18...31).compactMap { IPv4Network("172.\($0).0.0/16") }
        + (0...15).compactMap { IPv4Network("10.\($0 * 16 + 8).0.0/16") }

    let subnet: IPv4Network
    let gateway: IPv4Address
    /// The node's network namespace, pinned at this path; nil: the daemon's own.
    private let namespace: String?
    private let leased = NIOLockedValueBox<Set<IPv4Address>>([])

    private init(subnet: IPv4Network, namespace: String?) {
        self.subnet = subnet
        self.namespace = namespace
        gateway = subnet.host(1)
    }

    private static func socket(in namespace: String?) throws -> RouteSocket {
        try namespace.map { try RouteSocket.open(inNamespace: $0) } ?? RouteSocket()
    }

    /// The bridge, made when missing.
    static func prepare(inNamespace namespace: String? = nil) throws -> GatewayBridge {
        let socket = try socket(in: namespace)
        let addresses = try socket.ipv4Addresses()
        if try socket.linkNames().contains(name) {
            if let existing = addresses.first(where: { $0.link == name }) {
                let subnet = IPv4Network(address: existing.address.networkAddress, prefixLength: existing.address.prefixLength)
                if let subnet {
                    let bridge = GatewayBridge(subnet: subnet, namespace: namespace)
                    try bridge.routeOutbound()
                    return bridge
                }
            }
            try socket.deleteLink(name)
        }
        let taken = try socket.ipv4RouteDestinations() + addresses.map(\.address)
        guard let subnet = chooseSubnet(avoiding: taken) else {
            throw SystemError("create \(name)", reason: "every candidate subnet overlaps a route of this node")
        }
        let bridge = GatewayBridge(subnet: subnet, namespace: namespace)
        try socket.addBridge(named: name)
        try socket.addAddress(IPv4Network(address: bridge.gateway, prefixLength: subnet.prefixLength) ?? subnet, to: name)
        try socket.setUp(name)
        try bridge.routeOutbound()
        return bridge
    }

    /// Forwarding on, and traffic from the subnet leaving by another link masqueraded.
    private func routeOutbound() throws {
        let subnet = self.subnet
        let configure = {
            try NetfilterSocket().replaceMasqueradeTable(Self.name, source: subnet, exceptOutputInterface: Self.name)
            // The sysctl belongs to the network namespace of the thread that opens it.
            let fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC)
            guard fd >= 0, write(fd, "1", 1) == 1 else {
                if fd >= 0 { close(fd) }
                throw SystemError.errno("enable IPv4 forwarding")
            }
            close(fd)
        }
        if let namespace { try Namespace.run(inNetworkNamespace: namespace, configure) } else { try configure() }
    }

    static func chooseSubnet(avoiding taken: [IPv4Network]) -> IPv4Network? {
        candidateSubnets.first { candidate in !taken.contains { $0.overlaps(candidate) } }
    }

    /// Gives the process `pid` (in a network namespace of its own) its `eth0`;
    /// returns the address. The veth goes away with the namespace.
    func attach(processID pid: pid_t, linkName: String) throws -> IPv4Network {
        let address = try lease()
        do {
            let namespace = "/proc/\(pid)/ns/net"
            let node = try Self.socket(in: self.namespace)
            try node.addVethPair(named: linkName, peerName: "eth0", peerNamespace: namespace)
            try node.setMaster(of: linkName, to: Self.name)
            try node.setUp(linkName)
            let task = try RouteSocket.open(inNamespace: namespace)
            try task.setUp("lo")
            try task.addAddress(address, to: "eth0")
            try task.setUp("eth0")
            try task.addDefaultRoute(via: gateway, on: "eth0")
            return address
        } catch {
            release(address)
            throw error
        }
    }

    func release(_ address: IPv4Network) {
        _ = leased.withLockedValue { $0.remove(address.address) }
    }

    private func lease() throws -> IPv4Network {
        let size = UInt32(1) << UInt32(32 - subnet.prefixLength)
        return try leased.withLockedValue { leased in
            // .0 is the network, .1 the gateway, the last the broadcast address.
            for host in 2..<max(size - 1, 2) {
                let candidate = subnet.host(host)
                if !leased.contains(candidate), let network = IPv4Network(address: candidate, prefixLength: subnet.prefixLength) {
                    leased.insert(candidate)
                    return network
                }
            }
            throw SystemError("lease an address on \(Self.name)", reason: "all of \(subnet) is in use")
        }
    }
}
