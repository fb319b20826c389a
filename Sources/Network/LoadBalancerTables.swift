import Addressing
import Netlink

// The nftables backend of load balancing: three tables, each replaced whole
// in one atomic batch, so a table always equals the last input it was given
// (a restarted daemon rebuilds it with the same call) and connections
// already translated keep their translation across a change.
//
// Why anonymous maps (`dnat to numgen inc mod N map { 0 : A, 1 : B }`, one
// rule per entry) rather than kube-proxy's verdict map with a chain per
// service and per endpoint: every change replaces the whole table anyway,
// so the live element updates that shape allows buy nothing here, and only
// the first packet of a connection walks the nat chain (conntrack takes the
// rest), so a linear chain bounded by `LoadBalancerLimits` costs little.

/// A service's virtual IP on one network and the addresses of its tasks there.
public struct VirtualIPService: Sendable, Hashable {
    public let vip: IPv4Address
    public let backends: [IPv4Address]

    public init(vip: IPv4Address, backends: [IPv4Address]) {
        self.vip = vip
        self.backends = backends
    }
}

/// Service VIPs inside a task's network namespace (table `ip shoal-vip`,
/// nat on output at dstnat): TCP and UDP to a VIP go round robin to its
/// backends, destination port kept (docker's VIP covers every port). ICMP
/// and other protocols get nothing. A VIP without backends refuses at once:
/// a TCP connect gets a reset, a UDP send fails (EPERM) and an ICMP port
/// unreachable follows (docker's IPVS drops, which leaves a connect hanging
/// until it times out).
public enum VirtualIPTable {
    public static let name = "shoal-vip"

    /// The table's chains for `services`: the same for the same services in any order.
    public static func chains(for services: [VirtualIPService]) throws -> [NftablesChain] {
        let services = try validated(services)
        var balancing = [NftablesRule([.notTransportProtocol(.tcp), .notTransportProtocol(.udp)], .leaveChain)]
        for service in services where !service.backends.isEmpty {
            balancing.append(NftablesRule([.destinationAddress(service.vip)], .balanceAddresses(service.backends)))
        }
        // Refusals sit in a filter chain: a nat chain sees packets only where conntrack
        // runs, which a table without a translation does not turn on. After the nat
        // chain, translated packets no longer carry a VIP, so only refusals match there.
        // A chain with nothing to do is left out: every hooked chain costs each packet
        // of the task, and a nat chain turns on conntrack for all of them.
        var chains: [NftablesChain] = []
        if balancing.count > 1 {
            chains.append(NftablesChain(name: "output", kind: .nat, hook: .output, priority: -100, rules: balancing))
        }
        let refusals = refusals(for: services)
        if !refusals.rules.isEmpty { chains.append(refusals) }
        return chains
    }

    /// `services` sorted by VIP, each backend once, within the limits.
    static func validated(_ services: [VirtualIPService]) throws -> [VirtualIPService] {
        var seen = Set<IPv4Address>()
        var backendCount = 0
        let sorted = try services.sorted(by: { $0.vip < $1.vip }).map { service in
            guard seen.insert(service.vip).inserted else {
                throw LoadBalancerError("VIP \(service.vip) is given twice: give each VIP once with all its backends")
            }
            let backends = try LoadBalancerInput.backends(service.backends, of: "VIP \(service.vip)")
            backendCount += backends.count
            return VirtualIPService(vip: service.vip, backends: backends)
        }
        try LoadBalancerInput.tableSize(entries: seen.count, backends: backendCount, of: "table ip \(name)")
        return sorted
    }

    /// The chain refusing TCP and UDP to the VIPs without backends (of validated `services`).
    static func refusals(for services: [VirtualIPService]) -> NftablesChain {
        let rules = services.filter(\.backends.isEmpty).flatMap { service in
            TransportProtocol.allCases.map { LoadBalancerInput.refusal([.destinationAddress(service.vip), .transportProtocol($0)], $0) }
        }
        return NftablesChain(name: "refuse", kind: .filter, hook: .output, priority: 0, rules: rules)
    }

    /// Makes the VIP table of the network namespace pinned at `path` (nil: the
    /// calling thread's) balance exactly `services`.
    public static func replace(inNamespace path: String?, services: [VirtualIPService]) throws {
        let chains = try chains(for: services)
        try NetfilterSocket.opened(inNamespace: path).replaceTable(name, chains: chains)
    }

    /// Removes the VIP table; a missing one is fine.
    public static func remove(inNamespace path: String?) throws {
        try NetfilterSocket.opened(inNamespace: path).deleteTable(name)
    }
}

/// One published port of the node: new connections to any local address on
/// `port` go to `destination:destinationPort` (for ingress mode the ingress
/// sandbox, port kept; for mode=host a local task and its target port).
public struct PublishRule: Sendable, Hashable {
    public let transport: TransportProtocol
    public let port: Int
    public let destination: IPv4Address
    public let destinationPort: Int

    public init(transport: TransportProtocol, port: Int, destination: IPv4Address, destinationPort: Int) {
        self.transport = transport
        self.port = port
        self.destination = destination
        self.destinationPort = destinationPort
    }
}

/// The node's published ports (table `ip shoal-publish` in the node's own
/// namespace, nat on prerouting and output at dstnat, so the node's own
/// processes reach them too): `fib daddr type local <proto> dport P dnat to X:Q`.
/// Only packets for the node's own addresses match: bridged task traffic
/// that crosses prerouting (bridge-nf-call-iptables) is left alone.
/// What the node itself sends, to 127.0.0.1:P too as docker's mesh answers
/// it, leaves by the gateway bridge with the bridge's address as its source
/// (docker's `--src-type LOCAL -o docker_gwbridge -j MASQUERADE`).
public enum PublishTable {
    public static let name = "shoal-publish"

    public static func chains(for rules: [PublishRule], leavingBy bridge: String = GatewayBridge.name) throws -> [NftablesChain] {
        var seen = Set<String>()
        var natRules: [NftablesRule] = []
        for rule in rules.sorted(by: { ($0.transport.rawValue, $0.port) < ($1.transport.rawValue, $1.port) }) {
            let port = try LoadBalancerInput.port(rule.port, "published port")
            let destinationPort = try LoadBalancerInput.port(rule.destinationPort, "destination port")
            guard seen.insert("\(port)/\(rule.transport)").inserted else {
                throw LoadBalancerError("port \(port)/\(rule.transport) is published twice: publish each port once")
            }
            natRules.append(NftablesRule([.localDestination, .transportProtocol(rule.transport), .destinationPort(port)],
                                    .translateDestination(rule.destination, port: destinationPort)))
        }
        try LoadBalancerInput.tableSize(entries: natRules.count, backends: 0, of: "table ip \(name)")
        return [
            NftablesChain(name: "prerouting", kind: .nat, hook: .prerouting, priority: -100, rules: natRules),
            NftablesChain(name: "output", kind: .nat, hook: .output, priority: -100, rules: natRules),
            NftablesChain(name: "postrouting", kind: .nat, hook: .postrouting, priority: 100, rules: [
                NftablesRule([.outputInterface(bridge), .localSource, .destinationTranslated], .masquerade),
            ]),
        ]
    }

    /// Makes the publish table of the namespace pinned at `path` (nil: the
    /// calling thread's) hold exactly `rules`, and turns forwarding on there
    /// (published connections leave towards the ingress sandbox or a task),
    /// and the routing of loopback sources out of the gateway bridge.
    public static func replace(inNamespace path: String?, rules: [PublishRule], leavingBy bridge: String = GatewayBridge.name) throws {
        let chains = try chains(for: rules, leavingBy: bridge)
        try inNetworkNamespace(path) {
            try NetfilterSocket().replaceTable(name, chains: chains)
            try enableIPv4Forwarding()
            // Otherwise the kernel drops a packet from 127.0.0.1 rerouted to the bridge before it can be masqueraded.
            try setSysctl("net/ipv4/conf/\(bridge)/route_localnet", "1")
        }
    }

    public static func remove(inNamespace path: String?) throws {
        try NetfilterSocket.opened(inNamespace: path).deleteTable(name)
    }
}

/// A published port as the ingress sandbox balances it: new connections
/// arriving on `published` go round robin to the tasks' addresses and target ports.
public struct IngressPort: Sendable, Hashable {
    public let transport: TransportProtocol
    public let published: Int
    public let backends: [IngressBackend]

    public init(transport: TransportProtocol, published: Int, backends: [IngressBackend]) {
        self.transport = transport
        self.published = published
        self.backends = backends
    }
}

/// A task behind a published port: its address on the ingress network and its target port.
public struct IngressBackend: Sendable, Hashable {
    public let address: IPv4Address
    public let port: Int

    public init(address: IPv4Address, port: Int) {
        self.address = address
        self.port = port
    }
}

/// The ingress sandbox's balancing (table `ip shoal-ingress`): what comes in
/// on the inbound interface (from the node) for a published port is
/// translated round robin to a task on the ingress overlay and leaves on
/// the overlay bridge masqueraded, so the task's reply comes back the same
/// way. Only the inbound interface is matched: packets bridged between tasks
/// also cross prerouting (bridge-nf-call-iptables).
public enum IngressTable {
    public static let name = "shoal-ingress"

    public static func chains(inbound: String, overlayBridge: String, ports: [IngressPort]) throws -> [NftablesChain] {
        let inbound = try LoadBalancerInput.interfaceName(inbound, "inbound")
        let overlayBridge = try LoadBalancerInput.interfaceName(overlayBridge, "overlay bridge")
        let rules = try validated(ports).map { entry in
            let matches: [PacketMatch] = [.inputInterface(inbound), .transportProtocol(entry.transport), .destinationPort(entry.port)]
            // A refusal stays in the nat chain (a filter chain would see translated packets
            // for another port too): the masquerade below keeps conntrack on.
            return entry.backends.isEmpty ? LoadBalancerInput.refusal(matches, entry.transport)
                                          : NftablesRule(matches, .balanceDestinations(entry.backends))
        }
        return [
            NftablesChain(name: "prerouting", kind: .nat, hook: .prerouting, priority: -100, rules: rules),
            NftablesChain(name: "postrouting", kind: .nat, hook: .postrouting, priority: 100,
                     rules: [NftablesRule([.outputInterface(overlayBridge), .destinationTranslated], .masquerade)]),
        ]
    }

    /// A published port checked: its number, and its backends sorted, each once.
    struct ValidatedPort {
        let transport: TransportProtocol
        let port: UInt16
        let backends: [NatDestination]
    }

    /// `ports` sorted by protocol and port, each once, within the limits.
    static func validated(_ ports: [IngressPort]) throws -> [ValidatedPort] {
        var seen = Set<String>()
        var backendCount = 0
        let sorted = try ports.sorted(by: { ($0.transport.rawValue, $0.published) < ($1.transport.rawValue, $1.published) }).map { entry in
            let port = try LoadBalancerInput.port(entry.published, "published port")
            let label = "port \(port)/\(entry.transport)"
            guard seen.insert(label).inserted else {
                throw LoadBalancerError("\(label) is given twice: give each published port once with all its backends")
            }
            let destinations = try entry.backends.map {
                NatDestination(address: $0.address, port: try LoadBalancerInput.port($0.port, "target port", of: label))
            }
            let backends = try LoadBalancerInput.backends(destinations, of: label)
            backendCount += backends.count
            return ValidatedPort(transport: entry.transport, port: port, backends: backends)
        }
        try LoadBalancerInput.tableSize(entries: sorted.count, backends: backendCount, of: "table ip \(name)")
        return sorted
    }

    /// Makes the ingress table of the sandbox pinned at `path` hold exactly
    /// `ports`, and turns forwarding on in the sandbox.
    public static func replace(inNamespace path: String, inbound: String, overlayBridge: String, ports: [IngressPort]) throws {
        let chains = try chains(inbound: inbound, overlayBridge: overlayBridge, ports: ports)
        try Namespace.run(inNetworkNamespace: path) {
            try NetfilterSocket().replaceTable(name, chains: chains)
            try enableIPv4Forwarding()
        }
    }

    public static func remove(inNamespace path: String) throws {
        try NetfilterSocket.open(inNamespace: path).deleteTable(name)
    }
}

extension NetfilterSocket {
    /// A socket in the namespace pinned at `path`, or in the calling thread's for nil.
    static func opened(inNamespace path: String?) throws -> NetfilterSocket {
        try path.map { try NetfilterSocket.open(inNamespace: $0) } ?? NetfilterSocket()
    }
}
