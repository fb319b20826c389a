import Addressing
import ShoalAPI
import FoundationEssentials

/// Every object carries its id and the version the store gave it: the Raft
/// index of the write that last changed it. A write names the version it
/// read; if the object moved on since, the write is refused.
public struct ObjectMeta: Codable, Equatable, Sendable {
    public var id: String
    public var version: UInt64
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, version: UInt64 = 0, createdAt: Date = Date(timeIntervalSince1970: 0),
                updatedAt: Date = Date(timeIntervalSince1970: 0)) {
        self.id = id
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The swarm itself: its CA and join secrets, and its settings.
public struct ClusterObject: Codable, Equatable, Sendable {
    public var meta: ObjectMeta
    public var rootCACertificatePEM: String
    public var rootCAKeyPEM: String
    public var workerJoinSecret: String
    public var managerJoinSecret: String
    public var heartbeatPeriodSeconds: Double
    public var taskHistoryLimit: Int
    /// How long the node certificates the CA issues are valid (`--cert-expiry`); nil: 90 days.
    public var nodeCertificateValiditySeconds: Double?
    /// Where networks created without `--subnet` take theirs (`init --default-addr-pool`), cut into
    /// subnets of `subnetPrefixLength` (`--default-addr-pool-mask-length`).
    public var addressPools: [IPv4Network]
    public var subnetPrefixLength: Int

    public init(meta: ObjectMeta, rootCACertificatePEM: String, rootCAKeyPEM: String, workerJoinSecret: String,
                managerJoinSecret: String, heartbeatPeriodSeconds: Double, taskHistoryLimit: Int,
                nodeCertificateValiditySeconds: Double? = nil, addressPools: [IPv4Network], subnetPrefixLength: Int) {
        self.meta = meta
        self.rootCACertificatePEM = rootCACertificatePEM
        self.rootCAKeyPEM = rootCAKeyPEM
        self.workerJoinSecret = workerJoinSecret
        self.managerJoinSecret = managerJoinSecret
        self.heartbeatPeriodSeconds = heartbeatPeriodSeconds
        self.taskHistoryLimit = taskHistoryLimit
        self.nodeCertificateValiditySeconds = nodeCertificateValiditySeconds
        self.addressPools = addressPools
        self.subnetPrefixLength = subnetPrefixLength
    }
}

public enum NodeRole: String, Codable, Sendable { case manager, worker }
public enum NodeAvailability: String, Codable, Sendable, CaseIterable { case active, pause, drain }
public enum NodeState: String, Codable, Sendable, CaseIterable { case unknown, ready, down, disconnected }

public struct NodeObject: Codable, Equatable, Sendable {
    public var meta: ObjectMeta
    public var hostname: String
    /// Where peers reach this node's transport, HOST:PORT.
    public var advertiseAddress: String
    public var role: NodeRole
    public var availability: NodeAvailability
    public var state: NodeState
    public var stateMessage: String
    public var labels: [String: String]
    /// The node's Raft member id while it is a manager.
    public var raftID: UInt64?
    /// For a manager, whether the leader hears its Raft member (written by the leader).
    public var managerReachable: Bool?
    /// The node's public key, PEM: a new certificate (after a promotion) is issued for it.
    public var publicKeyPEM: String?
    public var engineVersion: String
    /// The networks the node uses itself (addresses, routes, resolvers), as it
    /// last reported them: no overlay subnet may overlap them.
    public var occupiedNetworks: [IPv4Network]
    /// The CPUs and memory the node last reported (nil: none yet): what the scheduler places reservations against.
    public var resources: NodeResources?

    public init(meta: ObjectMeta, hostname: String, advertiseAddress: String, role: NodeRole,
                availability: NodeAvailability = .active, state: NodeState = .unknown, stateMessage: String = "",
                labels: [String: String] = [:], raftID: UInt64? = nil, publicKeyPEM: String? = nil, engineVersion: String,
                occupiedNetworks: [IPv4Network] = [], resources: NodeResources? = nil) {
        self.meta = meta
        self.hostname = hostname
        self.advertiseAddress = advertiseAddress
        self.role = role
        self.availability = availability
        self.state = state
        self.stateMessage = stateMessage
        self.labels = labels
        self.raftID = raftID
        self.publicKeyPEM = publicKeyPEM
        self.engineVersion = engineVersion
        self.occupiedNetworks = occupiedNetworks
        self.resources = resources
    }
}

/// One object of any kind, as writes and events carry them.
public enum StoredObject: Codable, Equatable, Sendable {
    case cluster(ClusterObject)
    case node(NodeObject)
    case service(ServiceObject)
    case task(TaskObject)
    case network(NetworkObject)

    public var kind: ObjectKind {
        switch self {
        case .cluster: .cluster
        case .node: .node
        case .service: .service
        case .task: .task
        case .network: .network
        }
    }

    public var meta: ObjectMeta {
        get {
            switch self {
            case .cluster(let object): object.meta
            case .node(let object): object.meta
            case .service(let object): object.meta
            case .task(let object): object.meta
            case .network(let object): object.meta
            }
        }
        set {
            switch self {
            case .cluster(var object): object.meta = newValue; self = .cluster(object)
            case .node(var object): object.meta = newValue; self = .node(object)
            case .service(var object): object.meta = newValue; self = .service(object)
            case .task(var object): object.meta = newValue; self = .task(object)
            case .network(var object): object.meta = newValue; self = .network(object)
            }
        }
    }
}

public enum ObjectKind: String, Codable, Sendable, CaseIterable { case cluster, node, service, task, network }
