import Addressing
import ClusterStore

/// A stage of the leader's pass, between the orchestrator and the
/// scheduler: every service gets a virtual IP on each of its networks
/// (unless its endpoint mode is dnsrr), and
/// every new task an address on each, in the order its spec names them. A
/// task that cannot have all of them waits (pending) and is not scheduled.
/// What is allocated is written with the pass, so a new leader goes on
/// from the store without allocating again.
struct Allocator {
    func allocate(_ plan: inout TaskPlan) {
        let networks = Dictionary(uniqueKeysWithValues: plan.store.networks.map { ($0.meta.id, $0) })
        var pools = networks.mapValues { network in
            AddressPool(network: network, held: Self.held(on: network.meta.id, plan))
        }
        if var ingress = networks.values.first(where: \.ingress), var pool = pools[ingress.meta.id] {
            // Every node enters the routing mesh from an address of its own, kept while it is in the swarm.
            let members = Set(plan.nodes.map(\.meta.id))
            var addresses = ingress.nodeAddresses.filter { members.contains($0.nodeID) }
            for node in plan.nodes.sorted(by: { $0.meta.id < $1.meta.id }) where !addresses.contains(where: { $0.nodeID == node.meta.id }) {
                guard let address = pool.allocate() else { break }
                addresses.append(NodeAddress(nodeID: node.meta.id, address: address))
            }
            pools[ingress.meta.id] = pool
            if addresses != ingress.nodeAddresses {
                ingress.nodeAddresses = addresses
                plan.update(ingress)
            }
        }
        for var service in plan.services.sorted(by: { $0.name < $1.name }) {
            let wanted = service.endpointMode == .vip ? service.spec.networks : []
            var virtualIPs = service.virtualIPs.filter { vip in
                wanted.contains(vip.networkID) && networks[vip.networkID] != nil
            }
            for networkID in wanted where !virtualIPs.contains(where: { $0.networkID == networkID }) {
                guard let address = pools[networkID]?.allocate() else { continue }
                virtualIPs.append(NetworkAddress(networkID: networkID, address: address))
            }
            guard virtualIPs != service.virtualIPs else { continue }
            service.virtualIPs = virtualIPs
            plan.update(service)
        }
        let waiting = plan.tasks.values
            .filter { $0.desiredState <= .running && $0.status.state < .assigned && !Self.isAttached($0) }
            .sorted { ($0.serviceName, $0.slot, $0.meta.id) < ($1.serviceName, $1.slot, $1.meta.id) }
        for var task in waiting {
            var attempt = pools
            var addresses: [NetworkAddress] = []
            var problem: String?
            for networkID in task.spec.networks {
                guard var pool = attempt[networkID] else {
                    problem = "network \(networkID) not found"
                    break
                }
                guard let address = pool.allocate() else {
                    problem = pool.exhausted
                    break
                }
                attempt[networkID] = pool
                addresses.append(NetworkAddress(networkID: networkID, address: address))
            }
            if let problem {
                guard task.status.state != .pending || task.status.error != problem else { continue }
                task.status = TaskStatus(state: .pending, timestamp: plan.now, message: "pending task allocation",
                                         error: problem)
            } else {
                pools = attempt
                task.networks = addresses
            }
            plan.update(task)
        }
    }

    /// Whether the task has its address on every network of its spec.
    static func isAttached(_ task: TaskObject) -> Bool {
        task.networks.map(\.networkID) == task.spec.networks
    }

    /// The addresses held on `networkID`: services' virtual IPs, the tasks that have not ended, and nodes' own.
    private static func held(on networkID: String, _ plan: TaskPlan) -> [IPv4Address] {
        let virtualIPs = plan.services.flatMap(\.virtualIPs)
        let tasks = plan.tasks.values.filter { !$0.status.state.isTerminal }.flatMap(\.networks)
        let nodes = plan.networks.first { $0.meta.id == networkID }?.nodeAddresses.map(\.address.address) ?? []
        return (virtualIPs + tasks).filter { $0.networkID == networkID }.map(\.address.address) + nodes
    }
}
