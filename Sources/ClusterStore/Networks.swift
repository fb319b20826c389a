import Addressing

/// An overlay network: its subnet and gateway, and the VXLAN id its frames carry between nodes.
public struct NetworkObject: Codable, Equatable, Sendable {
    public var meta: ObjectMeta
    public var name: String
    /// "overlay": the only driver a swarm network has here.
    public var driver: String
    public var subnet: IPv4Network
    public var gateway: IPv4Address
    public var vni: UInt32
    /// Shown as docker shows it; nothing here attaches standalone tasks.
    public var attachable: Bool
    /// The routing mesh's network (`ingress`), made by `init`.
    public var ingress: Bool
    public var labels: [String: String]
    /// On the ingress network, each node's own address: where the routing
    /// mesh's traffic enters the overlay from that node (docker's ingress-sbox).
    public var nodeAddresses: [NodeAddress]

    public init(meta: ObjectMeta, name: String, driver: String = "overlay", subnet: IPv4Network, gateway: IPv4Address,
                vni: UInt32, attachable: Bool = false, ingress: Bool = false, labels: [String: String] = [:],
                nodeAddresses: [NodeAddress] = []) {
        self.meta = meta
        self.name = name
        self.driver = driver
        self.subnet = subnet
        self.gateway = gateway
        self.vni = vni
        self.attachable = attachable
        self.ingress = ingress
        self.labels = labels
        self.nodeAddresses = nodeAddresses
    }
}

/// A node's address on a network.
public struct NodeAddress: Codable, Equatable, Hashable, Sendable {
    public var nodeID: String
    /// With the network's prefix length.
    public var address: IPv4Network

    public init(nodeID: String, address: IPv4Network) {
        (self.nodeID, self.address) = (nodeID, address)
    }
}

/// An address on a network: a task's interface, or a service's virtual IP.
public struct NetworkAddress: Codable, Equatable, Hashable, Sendable {
    public var networkID: String
    /// The address with the network's prefix length, e.g. 10.0.1.5/24.
    public var address: IPv4Network

    public init(networkID: String, address: IPv4Network) {
        self.networkID = networkID
        self.address = address
    }
}

extension Store {
    public var networks: [NetworkObject] {
        all(.network).compactMap { if case .network(let network) = $0 { network } else { nil } }
    }

    /// Why `network` cannot join the networks already stored: a name, a VNI
    /// or addresses another network has. Checked as each replica applies the
    /// write, so two creates that raced both see the first.
    func conflict(creating network: NetworkObject) -> String? {
        for other in networks where other.meta.id != network.meta.id {
            if other.name == network.name { return "network with name \(network.name) already exists" }
            if other.vni == network.vni { return "VXLAN id \(network.vni) is already used by network \(other.name)" }
            if other.subnet.overlaps(network.subnet) {
                return "subnet \(network.subnet) overlaps network \(other.name) (\(other.subnet))"
            }
        }
        return nil
    }
}
