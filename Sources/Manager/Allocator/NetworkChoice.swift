import Addressing
import ShoalAPI

/// The choices made when a network is created: its VXLAN id, and its
/// subnet when none is given. Pure, over what the store holds.
enum NetworkChoice {
    /// The routing mesh's network, as docker makes it at `init`.
    static let ingressVNI: UInt32 = 4096
    static let dockerIngressSubnet = IPv4Network(address: IPv4Address(0x0AFF_0000), prefixLength: 16)  // 10.255.0.0/16
    /// User networks take VXLAN ids from here up.
    static let firstVNI: UInt32 = 4097

    /// The lowest VXLAN id from `firstVNI` that no network uses; nil when all are taken.
    static func nextVNI(used: some Sequence<UInt32>) -> UInt32? {
        let used = Set(used)
        return (firstVNI...Limits.vxlanIDs.upperBound).first { !used.contains($0) }
    }

    /// The first subnet of `pools`, cut at `prefixLength`, that overlaps none of `occupied`.
    static func subnet(pools: [IPv4Network], prefixLength: Int, avoiding occupied: [IPv4Network]) -> IPv4Network? {
        for pool in pools {
            if let free = pool.subnets(ofLength: prefixLength).first(overlappingNoneOf: occupied) { return free }
        }
        return nil
    }

    /// The ingress network's subnet: docker's 10.255.0.0/16 unless the node
    /// uses part of it (an address, a route, its resolver), then the first free subnet of the pools.
    static func ingressSubnet(pools: [IPv4Network], prefixLength: Int, avoiding occupied: [IPv4Network]) -> IPv4Network? {
        if let ingress = dockerIngressSubnet, !occupied.contains(where: { $0.overlaps(ingress) }) { return ingress }
        return subnet(pools: pools, prefixLength: prefixLength, avoiding: occupied)
    }
}
