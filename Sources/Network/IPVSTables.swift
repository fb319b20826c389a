import Addressing
import Netlink

// The IPVS backend of load balancing, docker's way: nftables marks the
// packets of each VIP or published port with a fwmark, the namespace's IPVS
// holds one fwmark service per mark (round robin, masquerading destinations),
// and for published ports an nftables masquerade sends the forwarded packets
// out from the ingress sandbox's own address. The same tables as the
// nftables backend (`VirtualIPTable`, `IngressTable`), the same input and
// checks: which one programs a namespace is `LoadBalancerBackend`'s choice.
//
// What to hold is computed here without a kernel (`IPVSPlan`), and so is
// the way from what the kernel holds to it (`IPVSChanges`): a restarted
// daemon reads the services back and changes only what differs.

/// What a namespace must hold: the nftables chains that mark (and refuse,
/// and masquerade), and each fwmark service with its destinations.
public struct IPVSPlan: Sendable, Equatable {
    public let chains: [NftablesChain]
    public let services: [UInt32: Set<IPVSDestination>]

    /// The VIPs of a task's namespace: each VIP's TCP and UDP marked with the
    /// VIP itself as fwmark (unique in the namespace, the same after a
    /// restart), balanced over its backends with the port kept. A VIP
    /// without backends is refused as the nftables table refuses it.
    public static func virtualIPs(_ services: [VirtualIPService]) throws -> IPVSPlan {
        let services = try VirtualIPTable.validated(services)
        let balanced = services.filter { !$0.backends.isEmpty }
        let marks = balanced.flatMap { service in
            TransportProtocol.allCases.map {
                NftablesRule([.destinationAddress(service.vip), .transportProtocol($0)], .setMark(fwmark(of: service.vip)))
            }
        }
        return IPVSPlan(
            chains: [NftablesChain(name: "mark", kind: .filter, hook: .output, priority: -150, rules: marks),
                     VirtualIPTable.refusals(for: services)],
            services: Dictionary(uniqueKeysWithValues: balanced.map { service in
                (fwmark(of: service.vip), Set(service.backends.map { IPVSDestination(address: $0) }))
            }))
    }

    /// The ingress sandbox's published ports: what comes in on `inbound` for
    /// a port is marked, IPVS sends it to a task's address and target port,
    /// and it leaves on `overlayBridge` masqueraded. A port without backends
    /// is refused.
    public static func ingress(inbound: String, overlayBridge: String, ports: [IngressPort]) throws -> IPVSPlan {
        let inbound = try LoadBalancerInput.interfaceName(inbound, "inbound")
        let overlayBridge = try LoadBalancerInput.interfaceName(overlayBridge, "overlay bridge")
        let ports = try IngressTable.validated(ports)
        var marks: [NftablesRule] = [], refusals: [NftablesRule] = [], masquerades: [NftablesRule] = []
        var services: [UInt32: Set<IPVSDestination>] = [:]
        for entry in ports {
            let matches: [PacketMatch] = [.inputInterface(inbound), .transportProtocol(entry.transport), .destinationPort(entry.port)]
            guard !entry.backends.isEmpty else {
                refusals.append(LoadBalancerInput.refusal(matches, entry.transport))
                continue
            }
            let mark = fwmark(of: entry.port, entry.transport)
            marks.append(NftablesRule(matches, .setMark(mark)))
            masquerades.append(NftablesRule([.outputInterface(overlayBridge), .mark(mark)], .masquerade))
            services[mark] = Set(entry.backends.map { IPVSDestination(address: $0.address, port: $0.port) })
        }
        return IPVSPlan(chains: [
            NftablesChain(name: "mark", kind: .filter, hook: .prerouting, priority: -150, rules: marks),
            NftablesChain(name: "refuse", kind: .filter, hook: .prerouting, priority: 0, rules: refusals),
            NftablesChain(name: "postrouting", kind: .nat, hook: .postrouting, priority: 100, rules: masquerades),
        ], services: services)
    }

    static func fwmark(of vip: IPv4Address) -> UInt32 { vip.value }

    /// The port, with bit 16 set for UDP: TCP and UDP on one port are two services.
    static func fwmark(of port: UInt16, _ transport: TransportProtocol) -> UInt32 {
        UInt32(port) | (transport == .udp ? 1 << 16 : 0)
    }
}

/// One step of bringing a namespace's IPVS to a plan.
public enum IPVSChange: Sendable, Equatable {
    case addService(fwmark: UInt32)
    case addDestination(IPVSDestination, fwmark: UInt32)
    case setWeight(UInt32, IPVSDestination, fwmark: UInt32)
    case deleteDestination(IPVSDestination, fwmark: UInt32)
    case deleteService(fwmark: UInt32)
}

/// The way from what a namespace's IPVS holds to what a plan wants, in two
/// halves around the change of the marking table: `additions` before it (a
/// newly marked packet finds its service and destinations), `removals` after
/// (no packet is marked for a service that is gone). A departing destination
/// first gets weight 0 (no new connection goes to it), then is deleted, as
/// docker does; a destination left at weight 0 by an earlier run is weighed 1 again.
public struct IPVSChanges: Sendable, Equatable {
    public private(set) var additions: [IPVSChange] = []
    public private(set) var removals: [IPVSChange] = []

    public init(from current: [UInt32: [IPVSDestination: UInt32]], to wanted: [UInt32: Set<IPVSDestination>]) {
        for fwmark in wanted.keys.sorted() {
            let held = current[fwmark]
            if held == nil { additions.append(.addService(fwmark: fwmark)) }
            for destination in wanted[fwmark, default: []].sorted() {
                switch held?[destination] {
                case nil: additions.append(.addDestination(destination, fwmark: fwmark))
                case 0?: additions.append(.setWeight(1, destination, fwmark: fwmark))
                default: break
                }
            }
            for destination in (held ?? [:]).keys.sorted() where !wanted[fwmark, default: []].contains(destination) {
                removals += [.setWeight(0, destination, fwmark: fwmark), .deleteDestination(destination, fwmark: fwmark)]
            }
        }
        for fwmark in current.keys.sorted() where wanted[fwmark] == nil {
            removals.append(.deleteService(fwmark: fwmark))
        }
    }
}

/// Programs a namespace after an `IPVSPlan`, over netlink.
enum IPVSTables {
    /// Makes the namespace pinned at `path` (nil: the calling thread's) hold
    /// exactly `plan`: table `table` with its chains, IPVS with its services.
    /// `forwards`: the namespace forwards what IPVS balances and masquerades
    /// it (the ingress sandbox): forwarding on, conntrack following IPVS.
    static func apply(_ plan: IPVSPlan, table: String, inNamespace path: String?, forwards: Bool) throws {
        try inNetworkNamespace(path) {
            try setIPVSSysctls(conntrack: forwards)
            if forwards { try enableIPv4Forwarding() }
            let ipvs = try IPVSSocket()
            let changes = IPVSChanges(from: try ipvs.services(), to: plan.services)
            try changes.additions.forEach(ipvs.apply)
            try NetfilterSocket().replaceTable(table, chains: plan.chains)
            try changes.removals.forEach(ipvs.apply)
        }
    }

    /// docker's settings: a reused source port after a backend left opens a new
    /// connection, connections to a deleted destination end at once, and
    /// (with a masquerade after IPVS) conntrack follows IPVS's connections.
    private static func setIPVSSysctls(conntrack: Bool) throws {
        try setSysctl("net/ipv4/vs/conn_reuse_mode", "0")
        try setSysctl("net/ipv4/vs/expire_nodest_conn", "1")
        try setSysctl("net/ipv4/vs/expire_quiescent_template", "1")
        if conntrack { try setSysctl("net/ipv4/vs/conntrack", "1") }
    }
}

extension IPVSSocket {
    func apply(_ change: IPVSChange) throws {
        switch change {
        case .addService(let fwmark): try addService(fwmark: fwmark)
        case .addDestination(let destination, let fwmark): try addDestination(destination, fwmark: fwmark)
        case .setWeight(let weight, let destination, let fwmark): try setWeight(weight, of: destination, fwmark: fwmark)
        case .deleteDestination(let destination, let fwmark): try deleteDestination(destination, fwmark: fwmark)
        case .deleteService(let fwmark): try deleteService(fwmark: fwmark)
        }
    }
}
