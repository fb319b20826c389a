import FoundationEssentials

/// Answer of `GET /info`: what a daemon is and where it keeps its state.
public struct DaemonInfo: Codable, Equatable, Sendable {
    public var version: String
    /// The node id, once this node is part of a swarm.
    public var nodeID: String?
    public var hostname: String
    public var dataDirectory: String
    public var socketPath: String
    public var listenAddress: String
    public var advertiseAddress: String?
    public var pid: Int32
    /// How long the swarm's node certificates are valid, as a manager knows it.
    public var certExpirySeconds: Double?
    /// When this node's certificate expires (it renews it at half its lifetime).
    public var certificateExpiresAt: Date?
    /// What balances VIPs and published ports: "ipvs" or "nftables".
    public var loadBalancer: String?
    /// docker info's Swarm lines: this node's place in a swarm.
    public var swarm: SwarmMembership?

    public struct SwarmMembership: Codable, Equatable, Sendable {
        /// docker's LocalNodeState: inactive, pending (joining or leaving) or active.
        public var state: String
        public var isManager: Bool
        /// On a manager: the managers and the nodes of the swarm, as its store holds them.
        public var managers, nodes: Int?

        public init(state: String, isManager: Bool = false, managers: Int? = nil, nodes: Int? = nil) {
            (self.state, self.isManager, self.managers, self.nodes) = (state, isManager, managers, nodes)
        }
    }

    public init(version: String, nodeID: String?, hostname: String, dataDirectory: String,
                socketPath: String, listenAddress: String, advertiseAddress: String?, pid: Int32,
                certExpirySeconds: Double? = nil, certificateExpiresAt: Date? = nil, loadBalancer: String? = nil,
                swarm: SwarmMembership? = nil) {
        self.version = version
        self.nodeID = nodeID
        self.hostname = hostname
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath
        self.listenAddress = listenAddress
        self.advertiseAddress = advertiseAddress
        self.pid = pid
        self.certExpirySeconds = certExpirySeconds
        self.certificateExpiresAt = certificateExpiresAt
        self.loadBalancer = loadBalancer
        self.swarm = swarm
    }
}

/// The body of every error answer of the local API.
public struct APIErrorBody: Codable, Equatable, Sendable {
    public var message: String

    public init(message: String) { self.message = message }
}
