import Addressing
import ClusterCA
import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI

/// The network commands: `network create`, `ls`, `inspect`, `rm`. A
/// network's subnet and VXLAN id are chosen here, so a refused create
/// leaves nothing behind; the store refuses a second network with the same
/// name, id or addresses even when two creates raced.
extension ControlAPI {
    /// The most networks a swarm holds.
    static let maximumNetworks = 1_000

    /// `network create`: the new network's id.
    public func createNetwork(_ request: NetworkCreateRequest) async throws -> ServiceCreated {
        let snapshot = manager.store.snapshot
        guard ObjectName.isValid(request.name) else { throw SwarmError(ObjectName.problem(request.name, kind: "network")) }
        guard request.driver == "overlay" else {
            throw SwarmError("driver \(request.driver) is not supported: swarm networks are overlay networks (-d overlay)")
        }
        guard !snapshot.networks.contains(where: { $0.name == request.name }) else {
            throw SwarmError("network with name \(request.name) already exists: choose another name, or remove it first",
                             kind: .conflict)
        }
        guard snapshot.networks.count < Self.maximumNetworks else {
            throw SwarmError("the swarm has \(Self.maximumNetworks) networks, its limit: remove one first", kind: .conflict)
        }
        let subnet = try Self.subnet(for: request, in: snapshot)
        let gateway = try Self.gateway(request.gateway, in: subnet)
        guard let vni = NetworkChoice.nextVNI(used: snapshot.networks.map(\.vni)) else {
            throw SwarmError("every VXLAN id is in use: remove a network first", kind: .conflict)
        }
        let network = NetworkObject(meta: ObjectMeta(id: Base36.objectID()), name: request.name, subnet: subnet,
                                    gateway: gateway, vni: vni, attachable: request.attachable, labels: request.labels)
        _ = try await manager.propose([.create(.network(network))])
        return ServiceCreated(id: network.meta.id)
    }

    /// `network ls`: every network, by name.
    public func networks() async throws -> [NetworkDetail] {
        let snapshot = try await manager.linearizableSnapshot()
        return snapshot.networks.sorted { $0.name < $1.name }.map { detail($0, in: snapshot) }
    }

    /// `network inspect`: the tasks listed are this node's, as docker lists a node's containers.
    public func inspectNetwork(_ reference: String) async throws -> NetworkDetail {
        let snapshot = try await manager.linearizableSnapshot()
        return detail(try Self.resolveNetwork(reference, in: snapshot.networks), in: snapshot)
    }

    /// `network rm`: refused while a service names the network or a task is still on it.
    public func removeNetwork(_ reference: String) async throws {
        try await retryingOutOfSequence { try await removeNetworkOnce(reference) }
    }

    private func removeNetworkOnce(_ reference: String) async throws {
        let snapshot = manager.store.snapshot
        let network = try Self.resolveNetwork(reference, in: snapshot.networks)
        guard !network.ingress else {
            throw SwarmError("network \(network.name) is the routing mesh's network: it cannot be removed", kind: .conflict)
        }
        if let service = snapshot.services.first(where: { $0.spec.networks.contains(network.meta.id) }) {
            throw SwarmError("network \(network.name) is in use by service \(service.name): remove the service first",
                             kind: .conflict)
        }
        if snapshot.tasks.contains(where: { task in
            !task.status.state.isTerminal && task.networks.contains { $0.networkID == network.meta.id }
        }) {
            throw SwarmError("network \(network.name) has active endpoints: wait for its tasks to stop, then retry",
                             kind: .conflict)
        }
        _ = try await manager.propose([.delete(.network, id: network.meta.id, expectedVersion: network.meta.version)])
    }

    static func resolveNetwork(_ reference: String, in networks: [NetworkObject]) throws(SwarmError) -> NetworkObject {
        try NamedReference.resolve(reference, in: networks, kind: "network", id: \.meta.id, name: \.name)
    }

    /// The subnet asked for, checked, or the first free one of the swarm's pools.
    private static func subnet(for request: NetworkCreateRequest, in snapshot: Store) throws(SwarmError) -> IPv4Network {
        let taken = snapshot.networks
        guard let subnet = request.subnet else {
            guard request.gateway == nil else { throw SwarmError("--gateway needs --subnet: give the network's subnet too") }
            let cluster = snapshot.cluster
            guard let free = NetworkChoice.subnet(pools: cluster?.addressPools ?? Defaults.addressPools,
                                                  prefixLength: cluster?.subnetPrefixLength ?? Defaults.addressPoolMaskLength,
                                                  avoiding: taken.map(\.subnet) + snapshot.nodes.flatMap(\.occupiedNetworks)) else {
                throw SwarmError("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network: remove a network or give a --subnet",
                                 kind: .conflict)
            }
            return free
        }
        guard subnet.isNetwork else { throw SwarmError("invalid subnet \(subnet): use \(subnet.network)") }
        guard Limits.networkPrefixLengths.contains(subnet.prefixLength) else {
            throw SwarmError("invalid subnet \(subnet): use a prefix length of \(Limits.networkPrefixLengths.lowerBound) to \(Limits.networkPrefixLengths.upperBound)")
        }
        if let other = taken.first(where: { $0.subnet.overlaps(subnet) }) {
            throw SwarmError("invalid pool request: subnet \(subnet) overlaps network \(other.name) (\(other.subnet)): choose another --subnet",
                             kind: .conflict)
        }
        for node in snapshot.nodes {
            if let used = node.occupiedNetworks.first(where: { $0.overlaps(subnet) }) {
                throw SwarmError("invalid pool request: subnet \(subnet) overlaps \(used) used by node \(node.hostname) (an address, route or resolver): choose another --subnet",
                                 kind: .conflict)
            }
        }
        return subnet
    }

    /// The gateway asked for, or the subnet's first address.
    private static func gateway(_ asked: IPv4Address?, in subnet: IPv4Network) throws(SwarmError) -> IPv4Address {
        guard let asked else { return subnet.host(1) }
        guard subnet.contains(asked), asked != subnet.networkAddress, asked != subnet.broadcastAddress else {
            throw SwarmError("invalid gateway \(asked): not a host address of \(subnet)")
        }
        return asked
    }

    private func detail(_ network: NetworkObject, in snapshot: Store) -> NetworkDetail {
        let selfID = manager.identity.nodeID
        let attached = snapshot.tasks.filter { $0.isActive }.compactMap { task in
            task.networks.first { $0.networkID == network.meta.id }.map { (task, $0.address) }
        }
        let local = attached.filter { $0.0.nodeID == selfID }.map { NetworkDetail.LocalTask(id: $0.0.meta.id, name: $0.0.name, address: $0.1) }
        let peerIDs = Set(attached.compactMap(\.0.nodeID))
        let peers = snapshot.nodes.filter { peerIDs.contains($0.meta.id) }.sorted { $0.hostname < $1.hostname }.map { node in
            NetworkDetail.Peer(name: node.hostname, ip: HostPort(node.advertiseAddress)?.host ?? node.advertiseAddress)
        }
        return NetworkDetail(name: network.name, id: network.meta.id, created: network.meta.createdAt, driver: network.driver,
                             subnet: network.subnet, gateway: network.gateway, vni: network.vni, attachable: network.attachable,
                             ingress: network.ingress, labels: network.labels, local: local, peers: peers)
    }
}
