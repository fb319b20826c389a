import ClusterWire
import DNS

extension DNSDirectory {
    /// The names a node's tasks resolve: per network the managers assigned,
    /// its services with their virtual IP there and the addresses there of
    /// the tasks taking traffic.
    init(networks: [ClusterProtocol.Network], services: [ClusterProtocol.Service]) {
        self.init(networks: networks.map { network in
            DNSDirectory.Network(id: network.id, name: network.name, services: services.compactMap { service in
                let virtualIP = service.virtualIPs.first { $0.networkID == network.id }?.address.address
                let tasks = service.tasks.compactMap { task in
                    task.addresses.first { $0.networkID == network.id }.map {
                        DNSDirectory.Task(id: task.id, slot: task.slot, address: $0.address.address)
                    }
                }
                guard virtualIP != nil || !tasks.isEmpty else { return nil }
                return DNSDirectory.Service(id: service.id, name: service.name,
                                            endpointMode: service.endpointMode == .dnsrr ? .dnsrr : .vip,
                                            virtualIP: virtualIP, tasks: tasks)
            })
        })
    }
}
