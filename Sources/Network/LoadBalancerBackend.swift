import Netlink

/// What programs service VIPs and published ports on a node.
public enum LoadBalancerBackend: String, Sendable, CaseIterable {
    /// nftables DNAT with `numgen` maps (`VirtualIPTable`, `PublishTable`, `IngressTable`).
    case nftables
    /// The kernel's IPVS over generic netlink, where the kernel has ip_vs.
    case ipvs

    /// What `shoal daemon --lb` asks for.
    public enum Request: String, Sendable, CaseIterable {
        case auto, ipvs, nftables
    }

    /// The backend for `requested`, with a one-line reason to log. `probe` (whether
    /// the kernel has IPVS) runs only when it matters; a probe that fails counts
    /// as no IPVS for `auto` and is the error for `ipvs`.
    public static func choose(requested: Request, probe: () throws -> Bool = { try LoadBalancerBackend.ipvsAvailable() })
        throws -> (backend: LoadBalancerBackend, reason: String) {
        switch requested {
        case .nftables:
            return (.nftables, "nftables, as --lb nftables asks")
        case .ipvs:
            let available: Bool
            do { available = try probe() } catch {
                throw LoadBalancerError("--lb ipvs: cannot tell whether the kernel has IPVS (\(error)): use --lb nftables or auto")
            }
            guard available else {
                throw LoadBalancerError("--lb ipvs: this kernel has no IPVS (no generic netlink family IPVS; load ip_vs): use --lb nftables or auto")
            }
            return (.ipvs, "IPVS, as --lb ipvs asks")
        case .auto:
            do {
                return try probe()
                    ? (.ipvs, "IPVS: the kernel has it (--lb auto)")
                    : (.nftables, "nftables: the kernel has no IPVS (--lb auto)")
            } catch {
                return (.nftables, "nftables: probing for IPVS failed (\(error)) (--lb auto)")
            }
        }
    }

    /// Whether the kernel offers IPVS to the network namespace pinned at
    /// `path` (nil: the calling thread's): the generic netlink controller knows family "IPVS".
    public static func ipvsAvailable(inNamespace path: String? = nil) throws -> Bool {
        try inNetworkNamespace(path) { try GenericNetlink.familyID(named: "IPVS") } != nil
    }
}

extension LoadBalancerBackend {
    /// Makes the network namespace pinned at `path` (a task's) balance exactly `services`.
    public func balanceVirtualIPs(inNamespace path: String, _ services: [VirtualIPService]) throws {
        switch self {
        case .nftables:
            try VirtualIPTable.replace(inNamespace: path, services: services)
        case .ipvs:
            try IPVSTables.apply(try IPVSPlan.virtualIPs(services), table: VirtualIPTable.name, inNamespace: path, forwards: false)
        }
    }

    /// Makes the ingress sandbox pinned at `path` balance exactly `ports`
    /// (arriving on `inbound`, leaving masqueraded on `overlayBridge`).
    public func balanceIngress(inNamespace path: String, inbound: String, overlayBridge: String, _ ports: [IngressPort]) throws {
        switch self {
        case .nftables:
            try IngressTable.replace(inNamespace: path, inbound: inbound, overlayBridge: overlayBridge, ports: ports)
        case .ipvs:
            let plan = try IPVSPlan.ingress(inbound: inbound, overlayBridge: overlayBridge, ports: ports)
            try IPVSTables.apply(plan, table: IngressTable.name, inNamespace: path, forwards: true)
        }
    }
}
