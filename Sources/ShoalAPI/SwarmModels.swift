/// `POST /swarm/init`.
public struct SwarmInitRequest: Codable, Equatable, Sendable {
    public var advertiseAddress: String?
    public var listenAddress: String?

    public init(advertiseAddress: String?, listenAddress: String?) {
        self.advertiseAddress = advertiseAddress
        self.listenAddress = listenAddress
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
