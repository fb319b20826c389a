import Addressing
import ClusterStore
import FoundationEssentials
import ShoalAPI
import Transport

/// The frames nodes exchange besides Raft's, and their JSON bodies: what
/// managers and agents say to each other, so neither imports the other.
public enum ClusterProtocol {
    /// One-way, member to member.
    public static let raft: UInt8 = 1
    /// One-way, every node to the managers, once per heartbeat period and
    /// whenever a task's status changes (`Heartbeat`).
    public static let heartbeat: UInt8 = 2
    /// One-way, leader to a worker it promoted: its Raft id, manager certificate and the managers.
    public static let promotion: UInt8 = 3
    /// One-way, leader to workers: the current managers and how often to heartbeat to them.
    public static let managers: UInt8 = 4
    /// One-way, leader to a node: everything it must act on (`Assignments`).
    public static let assignments: UInt8 = 5
    /// One-way, member to member: a piece of a Raft message too large for one frame (see `RaftWire`).
    public static let raftChunk: UInt8 = 6
    /// Requests (answered on the same connection), served to anyone.
    /// The root CA's answer is its certificate, DER: the exact bytes a joiner pins.
    public static let rootCA: UInt8 = 128
    public static let join: UInt8 = 129
    /// A manager that is not the leader hands a write of the local API to the leader.
    public static let forwardedCall: UInt8 = 130
    /// A manager asks a node for task output (`LogsRequest` → `LogsAnswer`).
    public static let logs: UInt8 = 131
    /// A node asks for a new certificate before its current one expires, over
    /// mutual TLS with that certificate (empty body → `RenewAnswer`).
    public static let renewCertificate: UInt8 = 132
    /// A node asks a manager to make or remove a one-off of its own (`shoal run`
    /// on a worker): a `Call` to one of `oneOffPaths` → `CallAnswer`. The manager
    /// names the sender as the node, whatever the call says.
    public static let oneOffCall: UInt8 = 133
    public static let oneOffPaths: Set<String> = [OneOff.createPath, OneOff.removePath]

    /// Everything a node must act on, complete each time (the newest replaces the last).
    public struct Assignments: Codable, Equatable, Sendable {
        public var tasks: [TaskObject]
        /// Every task of this node the managers keep (their logs stay).
        public var retained: Set<String>
        /// The overlay networks this node's tasks are attached to.
        public var networks: [Network]
        /// The tasks of other nodes on those networks: where their frames go.
        public var endpoints: [Endpoint]
        /// This node's address as the other nodes reach it: where its VXLAN frames come from.
        public var vtep: IPv4Address?
        /// The services on those networks: what this node's DNS answers and its virtual IPs balance over.
        public var services: [Service]
        /// This node's place in the routing mesh; nil while no service publishes a port through it.
        public var ingress: Ingress?
        /// Where the cluster's overlays take their subnets: its address pools and every
        /// network's subnet. The node's gateway bridge keeps clear of them.
        public var overlayAddressSpace: [IPv4Network]
        /// This node and the nodes behind `endpoints`, by name.
        public var peers: [Peer]

        public init(tasks: [TaskObject], retained: Set<String>, networks: [Network] = [], endpoints: [Endpoint] = [],
                    vtep: IPv4Address? = nil, services: [Service] = [], ingress: Ingress? = nil,
                    overlayAddressSpace: [IPv4Network] = [], peers: [Peer] = []) {
            self.tasks = tasks
            self.retained = retained
            self.networks = networks
            self.endpoints = endpoints
            self.vtep = vtep
            self.services = services
            self.ingress = ingress
            self.overlayAddressSpace = overlayAddressSpace
            self.peers = peers
        }
    }

    /// The ingress network (among `networks`) and this node's own address on it.
    public struct Ingress: Codable, Equatable, Sendable {
        public var networkID: String
        public var address: IPv4Network

        public init(networkID: String, address: IPv4Network) { (self.networkID, self.address) = (networkID, address) }
    }

    /// An overlay network as a node builds it.
    public struct Network: Codable, Equatable, Sendable {
        public var id: String
        public var name: String
        public var vni: UInt32
        public var subnet: IPv4Network
        public var gateway: IPv4Address
        /// What `network inspect` shows of it on a node that is not a manager.
        public var created: Date
        public var attachable: Bool
        public var labels: [String: String]

        public init(id: String, name: String, vni: UInt32, subnet: IPv4Network, gateway: IPv4Address,
                    created: Date = Date(timeIntervalSince1970: 0), attachable: Bool = false, labels: [String: String] = [:]) {
            (self.id, self.name, self.vni, self.subnet, self.gateway) = (id, name, vni, subnet, gateway)
            (self.created, self.attachable, self.labels) = (created, attachable, labels)
        }
    }

    /// A node with tasks on this node's networks, and the address its VXLAN frames come from.
    public struct Peer: Codable, Equatable, Sendable {
        public var name: String
        public var vtep: IPv4Address

        public init(name: String, vtep: IPv4Address) { (self.name, self.vtep) = (name, vtep) }
    }

    /// A service as the nodes that share one of its networks reach it.
    public struct Service: Codable, Equatable, Sendable {
        public var id: String
        public var name: String
        public var endpointMode: EndpointMode
        /// One per network (none in dnsrr mode).
        public var virtualIPs: [NetworkAddress]
        /// The tasks that take traffic now: running, on a node that is not down.
        public var tasks: [ServiceTask]
        /// The ports it publishes.
        public var ports: [PublishedPort]

        public init(id: String, name: String, endpointMode: EndpointMode, virtualIPs: [NetworkAddress], tasks: [ServiceTask],
                    ports: [PublishedPort] = []) {
            (self.id, self.name, self.endpointMode, self.virtualIPs, self.tasks, self.ports) = (id, name, endpointMode, virtualIPs, tasks, ports)
        }
    }

    /// One task of a service, with its addresses on the service's networks.
    public struct ServiceTask: Codable, Equatable, Sendable {
        public var id: String
        /// What follows the service's name in the task's: its slot, or its node's id for a global service.
        public var slot: String
        public var addresses: [NetworkAddress]

        public init(id: String, slot: String, addresses: [NetworkAddress]) {
            (self.id, self.slot, self.addresses) = (id, slot, addresses)
        }
    }

    /// A task on another node: its address on a network, and the node's
    /// address its VXLAN frames go to (its MAC is derived from the address).
    public struct Endpoint: Codable, Equatable, Hashable, Sendable {
        public var networkID: String
        public var address: IPv4Address
        public var vtep: IPv4Address

        public init(networkID: String, address: IPv4Address, vtep: IPv4Address) {
            (self.networkID, self.address, self.vtep) = (networkID, address, vtep)
        }
    }

    public struct LogsRequest: Codable, Sendable {
        /// Task id → the byte offset to read from.
        public var offsets: [String: Int]
        public var tail: Int?

        public init(offsets: [String: Int], tail: Int?) {
            self.offsets = offsets
            self.tail = tail
        }
    }

    public struct LogsAnswer: Codable, Sendable {
        public var lines: [String: [String]]
        public var offsets: [String: Int]
        /// Tasks with more output than this answer holds.
        public var more: Set<String>?

        public init(lines: [String: [String]], offsets: [String: Int], more: Set<String>? = nil) {
            self.lines = lines
            self.offsets = offsets
            self.more = more
        }

        public mutating func record(_ taskID: String, _ output: TaskOutput) {
            lines[taskID] = output.lines
            offsets[taskID] = output.next
            if output.more { more = (more ?? []).union([taskID]) }
        }
    }

    public struct JoinRequest: Codable, Sendable {
        public var secret: String
        public var hostname: String
        public var advertiseAddress: String
        public var publicKeyPEM: String
        /// The joiner's CPUs and memory: the scheduler may place reservations on it from the start.
        public var resources: NodeResources?

        public init(secret: String, hostname: String, advertiseAddress: String, publicKeyPEM: String,
                    resources: NodeResources? = nil) {
            self.secret = secret
            self.hostname = hostname
            self.advertiseAddress = advertiseAddress
            self.publicKeyPEM = publicKeyPEM
            self.resources = resources
        }
    }

    public struct ManagerInfo: Codable, Equatable, Sendable {
        public var nodeID: String
        public var raftID: UInt64
        public var address: String

        public init(nodeID: String, raftID: UInt64, address: String) {
            self.nodeID = nodeID
            self.raftID = raftID
            self.address = address
        }
    }

    public struct Session: Codable, Sendable {
        public var managers: [ManagerInfo]
        public var heartbeatPeriodSeconds: Double

        public init(managers: [ManagerInfo], heartbeatPeriodSeconds: Double) {
            self.managers = managers
            self.heartbeatPeriodSeconds = heartbeatPeriodSeconds
        }
    }

    public struct Promotion: Codable, Sendable {
        public var raftID: UInt64
        public var certificatePEM: String
        public var managers: [ManagerInfo]

        public init(raftID: UInt64, certificatePEM: String, managers: [ManagerInfo]) {
            self.raftID = raftID
            self.certificatePEM = certificatePEM
            self.managers = managers
        }
    }

    public enum JoinAnswer: Codable, Sendable {
        case joined(nodeID: String, role: String, certificatePEM: String, managers: [ManagerInfo])
        /// Ask the leader instead.
        case redirect(address: String)
        case refused(String)
    }

    public enum RenewAnswer: Codable, Equatable, Sendable {
        /// For the key the store has on record, with the role the store says.
        case renewed(certificatePEM: String)
        /// Ask the leader instead.
        case redirect(address: String)
        case refused(String)
    }

    public struct Call: Codable, Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var body: [UInt8]

        public init(method: String, path: String, query: [String: String], body: [UInt8]) {
            self.method = method
            self.path = path
            self.query = query
            self.body = body
        }
    }

    public struct CallAnswer: Codable, Sendable {
        public var status: Int
        public var body: [UInt8]

        public init(status: Int, body: [UInt8]) {
            self.status = status
            self.body = body
        }
    }

    public static func frame(_ kind: UInt8, _ body: some Encodable) -> Frame {
        Frame(kind: kind, payload: (try? Array(JSONEncoder().encode(body))) ?? [])
    }

    public static func decode<Body: Decodable>(_ type: Body.Type, from frame: Frame) -> Body? {
        try? JSONDecoder().decode(type, from: Data(frame.payload))
    }

    /// What a node says in a heartbeat: the statuses of its tasks that
    /// changed (or all of them), and the networks it uses itself (its
    /// addresses, routes and resolvers; nil when only statuses are sent).
    public struct Heartbeat: Codable, Equatable, Sendable {
        public var reports: [TaskReport]
        public var occupied: [IPv4Network]?
        /// The node's CPUs and memory (nil in a report between heartbeats).
        public var resources: NodeResources?

        public init(reports: [TaskReport], occupied: [IPv4Network]? = nil, resources: NodeResources? = nil) {
            self.reports = reports
            self.occupied = occupied
            self.resources = resources
        }

        /// The most networks a node reports: what it has beyond that is not kept.
        public static let maximumOccupied = 256
    }

    public static func heartbeat(_ heartbeat: Heartbeat) -> Frame { frame(ClusterProtocol.heartbeat, heartbeat) }

    /// A heartbeat's content; an empty one when it carries nothing readable.
    public static func heartbeat(in frame: Frame) -> Heartbeat {
        decode(Heartbeat.self, from: frame) ?? Heartbeat(reports: [])
    }
}

extension ClusterProtocol.Network {
    /// Whether a node may build it: an id that can name its namespace's pin,
    /// a VXLAN id, a subnet of a size a network has, its gateway inside it.
    public var isValid: Bool {
        ObjectID.isValid(id) && ObjectName.isValid(name) && Limits.vxlanIDs.contains(vni) && Limits.networkPrefixLengths.contains(subnet.prefixLength)
            && subnet.contains(gateway) && gateway != subnet.networkAddress && gateway != subnet.broadcastAddress
            && Limits.labelsFit(labels)
    }
}

extension ClusterProtocol.Service {
    /// Whether its names can be answered: ids and names as a manager makes
    /// them (they become DNS labels), and no more tasks than a swarm holds.
    public var isValid: Bool {
        ObjectID.isValid(id) && ObjectName.isValid(name) && tasks.count <= StoreLimits.maximumDesiredTasks
            && virtualIPs.count <= Limits.networksPerService.upperBound && ports.count <= Limits.portsPerService.upperBound
            && tasks.allSatisfy { task in
                ObjectID.isValid(task.id) && (Int(task.slot).map { $0 > 0 } ?? ObjectID.isValid(task.slot))
                    && task.addresses.count <= Limits.networksPerService.upperBound
            }
    }
}
