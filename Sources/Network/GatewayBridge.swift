#if canImport(Glibc)
import Glibc
#endif
import Addressing
import NIOConcurrencyHelpers
import Netlink

/// The node's bridge for task traffic (docker_gwbridge's role): every task's
/// `eth0` is one end of a veth pair whose other end is on this bridge, with
/// an address from the bridge's subnet and the bridge as default gateway.
/// What tasks send out of the node leaves with the node's address
/// (masqueraded by the nftables table `ip shoal_gwbridge`).
public final class GatewayBridge: Sendable {
    public static let name = "shoal_gwbridge"
    /// The interface index `eth0` gets in a task's namespace (lo is 1).
    static let taskInterfaceIndex: Int32 = 2
    /// The first of these that overlaps no route or address of the node and
    /// no overlay network: docker's local pools, outside the swarm's default 10.0.0.0/8.
    static let candidateSubnets = (18...31).compactMap { IPv4Network("172.\($0).0.0/16") }
        + (0...15).compactMap { IPv4Network("192.168.\($0 * 16).0/20") }

    let subnet: IPv4Network
    let gateway: IPv4Address
    private let bridgeIndex: Int32
    /// The node's network namespace, pinned at this path; nil: the daemon's own.
    private let namespace: String?
    private let leased = NIOLockedValueBox<Set<IPv4Address>>([])

    private init(subnet: IPv4Network, bridgeIndex: Int32, namespace: String?) {
        self.subnet = subnet
        self.bridgeIndex = bridgeIndex
        self.namespace = namespace
        gateway = subnet.host(1)
    }

    private static func socket(in namespace: String?) throws -> RouteSocket {
        try namespace.map { try RouteSocket.open(inNamespace: $0) } ?? RouteSocket()
    }

    /// The bridge, made when missing, in a subnet clear of `overlays` (the
    /// overlay networks this node's tasks use) and, where a candidate is, of
    /// `overlayAddressSpace` (where the cluster's overlays take their subnets).
    public static func prepare(inNamespace namespace: String? = nil, avoiding overlays: [IPv4Network] = [],
                               overlayAddressSpace: [IPv4Network] = []) throws -> GatewayBridge {
        let socket = try socket(in: namespace)
        let addresses = try socket.ipv4Addresses()
        if try socket.linkNames().contains(name) {
            if let existing = addresses.first(where: { $0.link == name }) {
                let subnet = IPv4Network(address: existing.address.networkAddress, prefixLength: existing.address.prefixLength)
                if let subnet {
                    let bridge = GatewayBridge(subnet: subnet, bridgeIndex: try socket.index(of: name), namespace: namespace)
                    try bridge.routeOutbound()
                    return bridge
                }
            }
            try socket.deleteLink(name)
        }
        let taken = try socket.ipv4RouteDestinations() + addresses.map(\.address) + overlays
        guard let subnet = chooseSubnet(avoiding: taken, preferablyClearOf: overlayAddressSpace) else {
            throw SystemError("create \(name)", reason: "every candidate subnet overlaps a route of this node")
        }
        try socket.addBridge(named: name)
        let bridge = GatewayBridge(subnet: subnet, bridgeIndex: try socket.index(of: name), namespace: namespace)
        try socket.addAddress(IPv4Network(address: bridge.gateway, prefixLength: subnet.prefixLength) ?? subnet, to: name)
        try socket.setUp(name)
        try bridge.routeOutbound()
        return bridge
    }

    /// Forwarding on, and traffic from the subnet leaving by another link masqueraded.
    private func routeOutbound() throws {
        let subnet = self.subnet
        try inNetworkNamespace(namespace) {
            try NetfilterSocket().replaceMasqueradeTable(Self.name, source: subnet, exceptOutputInterface: Self.name)
            try enableIPv4Forwarding()
        }
    }

    /// A pool that covers every candidate leaves the overlap to the allocator,
    /// which avoids the routes nodes report.
    static func chooseSubnet(avoiding taken: [IPv4Network], preferablyClearOf overlayAddressSpace: [IPv4Network] = []) -> IPv4Network? {
        candidateSubnets.first(overlappingNoneOf: taken + overlayAddressSpace) ?? candidateSubnets.first(overlappingNoneOf: taken)
    }

    /// Gives the process `pid` (in a network namespace of its own) its
    /// `eth<position>` (after its overlay interfaces) with the default route;
    /// returns the address. The bridge port is isolated, as docker's
    /// docker_gwbridge: tasks reach the outside through it, never each other
    /// (they meet on the overlays they share). The veth goes away with the namespace.
    public func attach(processID pid: pid_t, linkName: String, position: Int = 0) throws -> IPv4Network {
        try attach(namespace: "/proc/\(pid)/ns/net", linkName: linkName, position: position)
    }

    /// `attach(processID:…)` for the network namespace at `namespace` (a pin or `/proc/PID/ns/net`).
    public func attach(namespace: String, linkName: String, position: Int = 0) throws -> IPv4Network {
        let address = try lease()
        do {
            let name = "eth\(position)"
            let index = Self.taskInterfaceIndex + Int32(position)
            // Few round trips, as a burst of starts pays each once per task: the pair is made
            // enslaved and up, and in the task's fresh namespace lo is 1 and its interfaces ask for 2, 3, ….
            let socket = try Self.socket(in: self.namespace)
            try socket.addVethPair(named: linkName, peerName: name, peerNamespace: namespace, master: bridgeIndex, up: true,
                                   peerIndex: index)
            try socket.setBridgePortIsolated(index: try socket.index(of: linkName))
            let task = try RouteSocket.open(inNamespace: namespace)
            try task.setUp(index: 1, named: "lo")
            try task.setUp(index: index, named: name)
            try task.addAddress(address, toIndex: index, named: name)
            try task.addDefaultRoute(via: gateway, onIndex: index)
            return address
        } catch {
            release(address)
            throw error
        }
    }

    public func release(_ address: IPv4Network) {
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
