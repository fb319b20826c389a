import Addressing
import ClusterStore

/// The addresses of one network: the gateway, then the lowest address
/// nobody holds. An address is held by a service's virtual IP, or by a task
/// that has not ended (a task on a node that is down keeps its address: it
/// may still run behind a partition); released when that ends.
struct AddressPool {
    let network: NetworkObject
    private var held: Set<UInt32>

    init(network: NetworkObject, held addresses: some Sequence<IPv4Address>) {
        self.network = network
        held = Set(addresses.map(\.value))
        held.insert(network.gateway.value)
    }

    /// The next free host address, with the network's prefix length; nil when none is left.
    mutating func allocate() -> IPv4Network? {
        let subnet = network.subnet
        guard subnet.size > 2 else { return nil }
        for offset in 1..<(subnet.size - 1) {
            let candidate = subnet.host(UInt32(offset))
            guard !held.contains(candidate.value) else { continue }
            held.insert(candidate.value)
            return IPv4Network(address: candidate, prefixLength: subnet.prefixLength)
        }
        return nil
    }

    /// docker's words when a network has no address left.
    var exhausted: String {
        "no available IPv4 addresses on this network's address pools: \(network.name) (\(network.meta.id.prefix(12)))"
    }
}
