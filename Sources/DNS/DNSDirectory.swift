import Addressing

/// The names the embedded server answers for, per network: a plain value filled from the
/// cluster's store. Put in it only what should be answered: running (and, once health checks
/// land, healthy) tasks, and no ingress network (a routing-only network names nothing, as in
/// docker). `init` indexes every name once, so answering a query costs one lookup per network
/// of the asker, whatever the size of the cluster.
public struct DNSDirectory: Sendable {
    public struct Network: Sendable {
        public var id: String
        public var name: String
        public var services: [Service]

        public init(id: String, name: String, services: [Service]) {
            self.id = id
            self.name = name
            self.services = services
        }
    }

    public enum EndpointMode: Sendable {
        /// `<service>` is its virtual IP (docker's default).
        case vip
        /// `<service>` is every task's address, rotated per query.
        case dnsrr
    }

    public struct Service: Sendable {
        public var id: String
        public var name: String
        public var endpointMode: EndpointMode
        /// Its virtual IP on this network; without one `<service>` answers as in dnsrr mode.
        public var virtualIP: IPv4Address?
        public var tasks: [Task]

        public init(id: String, name: String, endpointMode: EndpointMode, virtualIP: IPv4Address?, tasks: [Task]) {
            self.id = id
            self.name = name
            self.endpointMode = endpointMode
            self.virtualIP = virtualIP
            self.tasks = tasks
        }
    }

    public struct Task: Sendable {
        public var id: String
        /// The middle of docker's task name: the slot number ("2"), or the node id of a global
        /// service's task.
        public var slot: String
        /// Its address on this network.
        public var address: IPv4Address

        public init(id: String, slot: String, address: IPv4Address) {
            self.id = id
            self.slot = slot
            self.address = address
        }
    }

    /// What a name stands for on one network.
    enum Entry: Sendable {
        /// A forward name: its addresses (several are rotated per query; none is a name without data).
        case addresses([IPv4Address])
        /// A reverse name (`d.c.b.a.in-addr.arpa`): the name docker gives that address.
        case pointer(DNSName)
    }

    /// Network id → lower-case wire name → entry.
    private let index: [String: [WireKey: Entry]]

    public init(networks: [Network]) {
        var index: [String: [WireKey: Entry]] = [:]
        for network in networks {
            index[network.id, default: [:]].merge(Self.entries(of: network)) { earlier, _ in earlier }
        }
        self.index = index
    }

    /// The entry for `name` on the first of `networkIDs` that knows it.
    func entry(for name: DNSName, onNetworks networkIDs: [String]) -> Entry? {
        let key = WireKey(name.lowercased())
        for id in networkIDs {
            if let entry = index[id]?[key] { return entry }
        }
        return nil
    }

    /// A task's hostname: its id's first 12 characters, as a container's is its short id.
    public static func hostname(ofTask id: String) -> String { String(id.prefix(12)) }

    /// Every name of one network. A service's names come first and win over a clashing task name:
    /// `<service>`, `tasks.<service>`, `<service>.<slot>`, `<service>.<slot>.<task id>`, `<task id>`, and the
    /// task's hostname, its id's first 12 characters (docker resolves a container's short id the same way);
    /// each also as `<name>.<network name>` (docker resolves both); reverse names of task
    /// addresses (`<service>.<slot>.<task id>.<network name>`, docker's) and of virtual IPs
    /// (`<service>.<network name>`; docker has none: it forwards those).
    private static func entries(of network: Network) -> [WireKey: Entry] {
        var entries: [WireKey: Entry] = [:]
        let networkName = try? DNSName(network.name.lowercased())
        func add(_ text: String, _ entry: Entry) {
            guard let name = try? DNSName(text.lowercased()) else { return }
            if entries[WireKey(name)] == nil { entries[WireKey(name)] = entry }
            if let qualified = networkName.flatMap(name.appending), entries[WireKey(qualified)] == nil {
                entries[WireKey(qualified)] = entry
            }
        }
        func addPointer(_ address: IPv4Address, _ text: String) {
            let octets = address.octets.reversed().map(String.init).joined(separator: ".")
            guard let reverse = try? DNSName("\(octets).in-addr.arpa"), entries[WireKey(reverse)] == nil,
                  let target = try? DNSName("\(text).\(network.name)") else { return }
            entries[WireKey(reverse)] = .pointer(target)
        }
        for service in network.services {
            let taskAddresses = service.tasks.map(\.address)
            if service.endpointMode == .vip, let virtualIP = service.virtualIP {
                add(service.name, .addresses([virtualIP]))
                addPointer(virtualIP, service.name)
            } else {
                add(service.name, .addresses(taskAddresses))
            }
            add("tasks.\(service.name)", .addresses(taskAddresses))
        }
        for service in network.services {
            var slots: [String: [IPv4Address]] = [:]
            for task in service.tasks { slots[task.slot, default: []].append(task.address) }
            for (slot, addresses) in slots { add("\(service.name).\(slot)", .addresses(addresses)) }
        }
        for service in network.services {
            for task in service.tasks {
                let taskName = "\(service.name).\(task.slot).\(task.id)"
                add(taskName, .addresses([task.address]))
                add(task.id, .addresses([task.address]))
                add(hostname(ofTask: task.id), .addresses([task.address]))
                addPointer(task.address, taskName)
            }
        }
        return entries
    }
}
