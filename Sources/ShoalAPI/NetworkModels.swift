import Addressing
import FoundationEssentials

/// `POST /networks/create`: `shoal network create`.
public struct NetworkCreateRequest: Codable, Equatable, Sendable {
    public var name: String
    public var driver: String
    public var subnet: IPv4Network?
    public var gateway: IPv4Address?
    public var attachable: Bool
    public var labels: [String: String]

    public init(name: String, driver: String = "overlay", subnet: IPv4Network? = nil, gateway: IPv4Address? = nil,
                attachable: Bool = false, labels: [String: String] = [:]) {
        self.name = name
        self.driver = driver
        self.subnet = subnet
        self.gateway = gateway
        self.attachable = attachable
        self.labels = labels
    }
}

/// `network inspect` and `network rm`: a network by name, id or unique id prefix.
public struct NetworkReferenceRequest: Codable, Equatable, Sendable {
    public var network: String
    public init(network: String) { self.network = network }
}

/// A network as `docker network inspect` prints it (its keys are docker's).
public struct NetworkDetail: Codable, Equatable, Sendable {
    public struct AddressConfig: Codable, Equatable, Sendable {
        public var subnet: IPv4Network
        public var gateway: IPv4Address
        enum CodingKeys: String, CodingKey { case subnet = "Subnet", gateway = "Gateway" }
        public init(subnet: IPv4Network, gateway: IPv4Address) { (self.subnet, self.gateway) = (subnet, gateway) }
    }

    public struct IPAM: Codable, Equatable, Sendable {
        public var driver = "default"
        /// Always null, as docker prints it.
        public var options: [String: String]?
        public var config: [AddressConfig]
        enum CodingKeys: String, CodingKey { case driver = "Driver", options = "Options", config = "Config" }
        public init(config: [AddressConfig]) { self.config = config }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(driver, forKey: .driver)
            try container.encode(options, forKey: .options)
            try container.encode(config, forKey: .config)
        }
    }

    /// A task of this node on the network.
    public struct Endpoint: Codable, Equatable, Sendable {
        public var name: String
        public var endpointID: String
        public var macAddress: String
        public var ipv4Address: IPv4Network
        public var ipv6Address = ""
        enum CodingKeys: String, CodingKey {
            case name = "Name", endpointID = "EndpointID", macAddress = "MacAddress", ipv4Address = "IPv4Address"
            case ipv6Address = "IPv6Address"
        }
        public init(name: String, endpointID: String, macAddress: String, ipv4Address: IPv4Network) {
            (self.name, self.endpointID, self.macAddress, self.ipv4Address) = (name, endpointID, macAddress, ipv4Address)
        }
    }

    /// A node with a task on the network, and the address its VXLAN traffic comes from.
    public struct Peer: Codable, Equatable, Sendable {
        public var name: String
        public var ip: String
        enum CodingKeys: String, CodingKey { case name = "Name", ip = "IP" }
        public init(name: String, ip: String) { (self.name, self.ip) = (name, ip) }
    }

    public var name: String
    public var id: String
    public var created: Date
    public var scope = "swarm"
    public var driver: String
    public var enableIPv6 = false
    public var ipam: IPAM
    public var `internal` = false
    public var attachable: Bool
    public var ingress: Bool
    /// Null when no task of this node is on the network, as docker prints it.
    public var containers: [String: Endpoint]?
    public var options: [String: String]
    public var labels: [String: String]
    /// Printed only beside containers, as docker does.
    public var peers: [Peer]?

    enum CodingKeys: String, CodingKey {
        case name = "Name", id = "Id", created = "Created", scope = "Scope", driver = "Driver", enableIPv6 = "EnableIPv6"
        case ipam = "IPAM", `internal` = "Internal", attachable = "Attachable", ingress = "Ingress"
        case containers = "Containers", options = "Options", labels = "Labels", peers = "Peers"
    }

    public init(name: String, id: String, created: Date, driver: String, ipam: IPAM, attachable: Bool, ingress: Bool,
                containers: [String: Endpoint]?, options: [String: String], labels: [String: String], peers: [Peer]?) {
        self.name = name
        self.id = id
        self.created = created
        self.driver = driver
        self.ipam = ipam
        self.attachable = attachable
        self.ingress = ingress
        self.containers = containers
        self.options = options
        self.labels = labels
        self.peers = peers
    }

    /// A task of this node attached to the network, at `address`.
    public struct LocalTask: Sendable {
        public var id: String
        public var name: String
        public var address: IPv4Network
        public init(id: String, name: String, address: IPv4Network) { (self.id, self.name, self.address) = (id, name, address) }
    }

    /// The detail of an overlay network as `network inspect` shows it on this node:
    /// `local` are its tasks here (with the MAC each interface derives from its address).
    public init(name: String, id: String, created: Date, driver: String, subnet: IPv4Network, gateway: IPv4Address,
                vni: UInt32, attachable: Bool, ingress: Bool, labels: [String: String], local: [LocalTask], peers: [Peer]) {
        let containers = Dictionary(local.map { task in
            (task.id, Endpoint(name: task.name, endpointID: task.id,
                               macAddress: MACAddress(derivedFrom: task.address.address).description, ipv4Address: task.address))
        }, uniquingKeysWith: { first, _ in first })
        self.init(name: name, id: id, created: created, driver: driver,
                  ipam: IPAM(config: [AddressConfig(subnet: subnet, gateway: gateway)]), attachable: attachable, ingress: ingress,
                  containers: containers.isEmpty ? nil : containers, options: [Self.vxlanOption: String(vni)], labels: labels,
                  peers: peers)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(id, forKey: .id)
        try container.encode(created, forKey: .created)
        try container.encode(scope, forKey: .scope)
        try container.encode(driver, forKey: .driver)
        try container.encode(enableIPv6, forKey: .enableIPv6)
        try container.encode(ipam, forKey: .ipam)
        try container.encode(`internal`, forKey: .internal)
        try container.encode(attachable, forKey: .attachable)
        try container.encode(ingress, forKey: .ingress)
        try container.encode(containers, forKey: .containers)
        try container.encode(options, forKey: .options)
        try container.encode(labels, forKey: .labels)
        if containers != nil { try container.encodeIfPresent(peers, forKey: .peers) }
    }

    /// docker's option naming the network's VXLAN id.
    public static let vxlanOption = "com.docker.network.driver.overlay.vxlanid_list"
}
