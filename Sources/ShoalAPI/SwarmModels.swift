import Addressing
import FoundationEssentials

/// `POST /swarm/init`.
public struct SwarmInitRequest: Codable, Equatable, Sendable {
    public var advertiseAddress: String?
    public var listenAddress: String?
    public var forceNewCluster: Bool
    /// Seconds between heartbeats; a node silent for three is Down.
    public var heartbeatPeriod: Double
    /// Seconds node certificates are valid (`--cert-expiry`); nil: docker's 90 days.
    public var certExpirySeconds: Double?
    /// `--default-addr-pool` (nil: docker's 10.0.0.0/8) and `--default-addr-pool-mask-length` (nil: 24).
    public var defaultAddressPools: [IPv4Network]?
    public var defaultAddressPoolMaskLength: Int?

    public init(advertiseAddress: String?, listenAddress: String?, forceNewCluster: Bool = false,
                heartbeatPeriod: Double = Defaults.heartbeatPeriodSeconds,
                certExpirySeconds: Double? = nil, defaultAddressPools: [IPv4Network]? = nil,
                defaultAddressPoolMaskLength: Int? = nil) {
        self.advertiseAddress = advertiseAddress
        self.listenAddress = listenAddress
        self.forceNewCluster = forceNewCluster
        self.heartbeatPeriod = heartbeatPeriod
        self.certExpirySeconds = certExpirySeconds
        self.defaultAddressPools = defaultAddressPools
        self.defaultAddressPoolMaskLength = defaultAddressPoolMaskLength
    }

    /// The pools asked for, or the defaults.
    public var addressPools: [IPv4Network] { defaultAddressPools ?? Defaults.addressPools }
    public var addressPoolMaskLength: Int { defaultAddressPoolMaskLength ?? Defaults.addressPoolMaskLength }
}

/// `POST /swarm/update`: the swarm's settings to change (nil: keep).
public struct SwarmUpdateRequest: Codable, Equatable, Sendable {
    public var certExpirySeconds: Double?

    public init(certExpirySeconds: Double?) { self.certExpirySeconds = certExpirySeconds }
}

/// How long node certificates are valid: docker's default and bounds, except
/// that shoal accepts down to one minute (docker: one hour) so tests can
/// watch certificates renew.
public enum CertificateExpiry {
    public static let defaultSeconds: Double = 90 * 86_400
    public static let minimumSeconds: Double = 60
    /// The swarm's CA is valid for 20 years: a node certificate never outlives it.
    public static let maximumSeconds: Double = 20 * 365 * 86_400

    /// The one-line reason `seconds` is refused, nil when it is in range.
    public static func problem(_ seconds: Double) -> String? {
        guard seconds.isFinite, seconds >= minimumSeconds, seconds <= maximumSeconds else {
            return "invalid --cert-expiry \(seconds.isFinite ? text(seconds) : "\(seconds)"): it must be between 1m0s and \(text(maximumSeconds))"
        }
        return nil
    }

    /// As docker prints durations: 2160h0m0s, 1m0s, 1m30s.
    public static func text(_ seconds: Double) -> String {
        // Any value, even one a peer sent out of range, is shown without trapping.
        guard seconds.isFinite, abs(seconds) < 1e12 else { return "\(seconds)s" }
        let whole = Int(seconds.rounded())
        let (hours, minutes, rest) = (whole / 3600, whole % 3600 / 60, whole % 60)
        if hours > 0 { return "\(hours)h\(minutes)m\(rest)s" }
        return minutes > 0 ? "\(minutes)m\(rest)s" : "\(rest)s"
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
    /// The CPUs and memory it reported (nil: none yet).
    public var resources: NodeResources?

    public init(id: String, version: UInt64, createdAt: Date, updatedAt: Date, hostname: String, role: String,
                availability: String, labels: [String: String], state: String, stateMessage: String, address: String,
                managerStatus: String, engineVersion: String, resources: NodeResources? = nil) {
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
        self.resources = resources
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
