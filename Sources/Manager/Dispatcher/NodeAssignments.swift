import Addressing
import ClusterStore
import ClusterWire

/// What one node is sent after each pass, from the store alone: its tasks,
/// the networks they are attached to, and the endpoint table of those
/// networks (which task of which other node has which address). A task
/// leaves the table in the pass that stops it or writes its node down.
enum NodeAssignments {
    static func make(for nodeID: String, in store: Store) -> ClusterProtocol.Assignments {
        let tasks = self.tasks(for: nodeID, in: store)
        let retained = Set(store.tasks.filter { $0.nodeID == nodeID }.map(\.meta.id))
        var used = Set(tasks.filter { !$0.status.state.isTerminal }.flatMap(\.networks).map(\.networkID))
        let ingress = ingress(for: nodeID, in: store)
        if let ingress { used.insert(ingress.networkID) }
        let networks = store.networks.filter { used.contains($0.meta.id) }.sorted { $0.meta.id < $1.meta.id }.map {
            ClusterProtocol.Network(id: $0.meta.id, name: $0.name, vni: $0.vni, subnet: $0.subnet, gateway: $0.gateway,
                                    created: $0.meta.createdAt, attachable: $0.attachable, labels: $0.labels)
        }
        let node = store.nodes.first { $0.meta.id == nodeID }
        let endpoints = endpoints(on: used, except: nodeID, in: store)
        return ClusterProtocol.Assignments(tasks: tasks, retained: retained, networks: networks,
                                           endpoints: endpoints,
                                           vtep: node.flatMap { vtep(of: $0) },
                                           services: services(on: used, publishingOn: Set(tasks.map(\.serviceID)), in: store),
                                           ingress: ingress,
                                           overlayAddressSpace: (store.cluster?.addressPools ?? []) + store.networks.map(\.subnet),
                                           peers: peers(nodeID, endpoints, in: store))
    }

    /// `nodeID` and the nodes behind `endpoints`, by hostname.
    private static func peers(_ nodeID: String, _ endpoints: [ClusterProtocol.Endpoint], in store: Store) -> [ClusterProtocol.Peer] {
        let remote = Set(endpoints.map(\.vtep))
        return store.nodes.compactMap { node in
            guard let vtep = vtep(of: node), node.meta.id == nodeID || remote.contains(vtep) else { return nil }
            return ClusterProtocol.Peer(name: node.hostname, vtep: vtep)
        }.sorted { ($0.name, $0.vtep) < ($1.name, $1.vtep) }
    }

    /// The node's place in the routing mesh, once some service publishes a port through it.
    private static func ingress(for nodeID: String, in store: Store) -> ClusterProtocol.Ingress? {
        guard store.services.contains(where: { $0.ports.contains { $0.mode == .ingress } }),
              let network = store.networks.first(where: \.ingress),
              let own = network.nodeAddresses.first(where: { $0.nodeID == nodeID }) else { return nil }
        return ClusterProtocol.Ingress(networkID: network.meta.id, address: own.address)
    }

    /// The services with a virtual IP or a task on `networks`, or among
    /// `local` (the node's own, whose host-mode ports it publishes), each with
    /// the tasks that take traffic: running, meant to, healthy when they have
    /// a health check, on a node not down.
    ///
    /// Health gates traffic here, from the store, rather than in each agent:
    /// a backend sits in the tables of every node (VIPs in other nodes'
    /// tasks, the mesh of every node), and only the store tells them all the
    /// same thing. The agent reports a change of health at once (its status
    /// travels like a stop), so every node drops an unhealthy task within a
    /// second of its last failed probe, well within interval × retries.
    private static func services(on networks: Set<String>, publishingOn local: Set<String>, in store: Store) -> [ClusterProtocol.Service] {
        let down = Set(store.nodes.filter { $0.state == .down }.map(\.meta.id))
        let serving = Dictionary(grouping: store.tasks.filter { task in
            task.takesTraffic && !down.contains(task.nodeID ?? "")
        }, by: \.serviceID)
        return store.services.sorted { $0.name < $1.name }.compactMap { service in
            let virtualIPs = service.virtualIPs.filter { networks.contains($0.networkID) }
            let tasks = (serving[service.meta.id] ?? []).sorted { ($0.slot, $0.meta.id) < ($1.slot, $1.meta.id) }.compactMap { task in
                let addresses = task.networks.filter { networks.contains($0.networkID) }
                return addresses.isEmpty ? nil : ClusterProtocol.ServiceTask(
                    id: task.meta.id, slot: String(task.slotName.dropFirst(task.serviceName.count + 1)), addresses: addresses)
            }
            let publishesHere = local.contains(service.meta.id) && service.ports.contains { $0.mode == .host }
            guard !virtualIPs.isEmpty || !tasks.isEmpty || publishesHere else { return nil }
            return ClusterProtocol.Service(id: service.meta.id, name: service.name, endpointMode: service.endpointMode,
                                           virtualIPs: virtualIPs, tasks: tasks, ports: service.ports)
        }
    }

    /// The IPv4 address a node advertises: the source and destination of its VXLAN frames.
    private static func vtep(of node: NodeObject) -> IPv4Address? {
        HostPort(node.advertiseAddress).flatMap { IPv4Address($0.host) }
    }

    /// What `nodeID`'s agent must act on: tasks placed there that should run
    /// or have not yet stopped.
    static func tasks(for nodeID: String, in store: Store) -> [TaskObject] {
        store.tasks.filter { task in
            task.nodeID == nodeID && task.status.state >= .assigned
                && (task.desiredState <= .running || !task.status.state.isTerminal)
        }.sorted { $0.meta.id < $1.meta.id }
    }

    /// The tasks of other nodes on `networks` that are placed, meant to run
    /// and not ended, on nodes that are not down.
    private static func endpoints(on networks: Set<String>, except nodeID: String, in store: Store) -> [ClusterProtocol.Endpoint] {
        guard !networks.isEmpty else { return [] }
        let vteps: [String: IPv4Address] = Dictionary(uniqueKeysWithValues: store.nodes.compactMap { node in
            guard node.meta.id != nodeID, node.state != .down, let vtep = vtep(of: node) else { return nil }
            return (node.meta.id, vtep)
        })
        let tasks = store.tasks.flatMap { task -> [ClusterProtocol.Endpoint] in
            guard let node = task.nodeID, let vtep = vteps[node], task.desiredState <= .running,
                  task.status.state >= .assigned, !task.status.state.isTerminal else { return [] }
            return task.networks.filter { networks.contains($0.networkID) }.map {
                ClusterProtocol.Endpoint(networkID: $0.networkID, address: $0.address.address, vtep: vtep)
            }
        }
        // The other nodes' own addresses on the ingress network: where the mesh's replies go back to.
        let nodes = store.networks.filter { networks.contains($0.meta.id) }.flatMap { network in
            network.nodeAddresses.compactMap { own in
                vteps[own.nodeID].map { ClusterProtocol.Endpoint(networkID: network.meta.id, address: own.address.address, vtep: $0) }
            }
        }
        return (tasks + nodes).sorted { ($0.networkID, $0.address) < ($1.networkID, $1.address) }
    }
}
