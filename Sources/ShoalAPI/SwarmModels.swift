import FoundationEssentials

/// `POST /swarm/init`.
public struct SwarmInitRequest: Codable, Equatable, Sendable {
    public var advertiseAddress: String?
    public var listenAddress: String?
    public var forceNewCluster: Bool
    /// Seconds between heartbeats; a node silent for three is Down.
    public var heartbeatPeriod: Double

    public init(advertiseAddress: String?, listenAddress: String?, forceNewCluster: Bool = false, heartbeatPeriod: Double = 1) {
        self.advertiseAddress = advertiseAddress
        self.listenAddress = listenAddress
        self.forceNewCluster = forceNewCluster
        self.heartbeatPeriod = heartbeatPeriod
    }
}

public struct SwarmInitResponse: Codable, Equatable, Sendable {
    public var nodeID: String
    public var workerToken: String
    /// HOST:PORT joiners dial.
    public var managerAddress: String

    public init(nodeID: String, workerToken: String, managerAddress: String) {
        self.nodeID = nodeID
        self.workerToken = workerToken
        self.managerAddress = managerAddress
    }
}

/// `POST /swarm/join`.
public struct SwarmJoinRequest: Codable, Equatable, Sendable {
    public var token: String
    public var remoteAddress: String
    public var advertiseAddress: String?
    public var listenAddress: String?

    public init(token: String, remoteAddress: String, advertiseAddress: String?, listenAddress: String?) {
        self.token = token
        self.remoteAddress = remoteAddress
        self.advertiseAddress = advertiseAddress
        self.listenAddress = listenAddress
    }
}

public struct SwarmJoinResponse: Codable, Equatable, Sendable {
    /// worker or manager
    public var role: String

    public init(role: String) { self.role = role }
}

/// `GET /swarm/join-token?role=worker|manager[&rotate=1]`.
public struct JoinTokenResponse: Codable, Equatable, Sendable {
    public var role: String
    public var token: String
    public var managerAddress: String
    public var rotated: Bool

    public init(role: String, token: String, managerAddress: String, rotated: Bool) {
        self.role = role
        self.token = token
        self.managerAddress = managerAddress
        self.rotated = rotated
    }
}

/// One row of `GET /nodes`.
public struct NodeSummary: Codable, Equatable, Sendable {
    public var id: String
    public var hostname: String
    public var isSelf: Bool
    /// ready, down, unknown, disconnected
    public var status: String
    /// active, pause, drain
    public var availability: String
    public var role: String
    /// leader, reachable, unreachable — empty for workers.
    public var managerStatus: String
    public var engineVersion: String
    public var address: String

    public init(id: String, hostname: String, isSelf: Bool, status: String, availability: String, role: String,
                managerStatus: String, engineVersion: String, address: String) {
        self.id = id
        self.hostname = hostname
        self.isSelf = isSelf
        self.status = status
        self.availability = availability
        self.role = role
        self.managerStatus = managerStatus
        self.engineVersion = engineVersion
        self.address = address
    }
}

/// `GET /nodes/inspect?node=REF`.
public struct NodeDetail: Codable, Equatable, Sendable {
    public var id: String
    public var version: UInt64
    public var createdAt: Date
    public var updatedAt: Date
    public var hostname: String
    public var role: String
    public var availability: String
    public var labels: [String: String]
    public var state: String
    public var stateMessage: String
    public var address: String
    public var managerStatus: String
    public var engineVersion: String

    public init(id: String, version: UInt64, createdAt: Date, updatedAt: Date, hostname: String, role: String,
                availability: String, labels: [String: String], state: String, stateMessage: String, address: String,
                managerStatus: String, engineVersion: String) {
        self.id = id
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.hostname = hostname
        self.role = role
        self.availability = availability
        self.labels = labels
        self.state = state
        self.stateMessage = stateMessage
        self.address = address
        self.managerStatus = managerStatus
        self.engineVersion = engineVersion
    }
}

/// The body of the node-changing calls: which node, and for updates what.
public struct NodeChangeRequest: Codable, Equatable, Sendable {
    public var node: String
    public var availability: String?
    public var force: Bool

    public init(node: String, availability: String? = nil, force: Bool = false) {
        self.node = node
        self.availability = availability
        self.force = force
    }
}

/// What a node-changing call says back (docker echoes per node).
public struct MessageResponse: Codable, Equatable, Sendable {
    public var message: String

    public init(message: String) { self.message = message }
}
