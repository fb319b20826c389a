import FoundationEssentials
import ShoalAPI

/// What a task runs: a command with its environment, on nodes that satisfy
/// the constraints, restarted by the policy.
public struct TaskSpec: Codable, Equatable, Sendable {
    public var command: [String]
    public var env: [String]
    public var workdir: String?
    public var constraints: [String]
    public var restart: RestartPolicy
    /// The ids of the networks the task is attached to, in the order given
    /// (its eth0, eth1, …).
    public var networks: [String]
    /// docker's `--cap-add` and `--cap-drop` (CAP_ names, or ALL) and `--security-opt`.
    public var capabilityAdd: [String]
    public var capabilityDrop: [String]
    public var securityOptions: [String]
    /// `--read-only`, `--mount` (docker's long syntax) and `--user UID[:GID]`.
    public var readOnly: Bool
    public var mounts: [String]
    public var user: String?
    /// `--health-cmd` and its options, validated.
    public var healthCheck: HealthCheck?
    /// `--limit-*` (the task's cgroup) and `--reserve-*` (what the scheduler sets aside on its node).
    public var resources: Resources

    public init(command: [String], env: [String] = [], workdir: String? = nil, constraints: [String] = [],
                restart: RestartPolicy = RestartPolicy(), networks: [String] = [], capabilityAdd: [String] = [],
                capabilityDrop: [String] = [], securityOptions: [String] = [], readOnly: Bool = false,
                mounts: [String] = [], user: String? = nil, healthCheck: HealthCheck? = nil, resources: Resources = Resources()) {
        self.command = command
        self.env = env
        self.workdir = workdir
        self.constraints = constraints
        self.restart = restart
        self.networks = networks
        self.capabilityAdd = capabilityAdd
        self.capabilityDrop = capabilityDrop
        self.securityOptions = securityOptions
        self.readOnly = readOnly
        self.mounts = mounts
        self.user = user
        self.healthCheck = healthCheck
        self.resources = resources
    }
}

public struct RestartPolicy: Codable, Equatable, Sendable {
    public enum Condition: String, Codable, Sendable, CaseIterable { case none, onFailure = "on-failure", any }

    public var condition: Condition
    public var delaySeconds: Double
    /// 0: no limit.
    public var maxAttempts: Int

    public init(condition: Condition = .any, delaySeconds: Double = 1, maxAttempts: Int = 0) {
        self.condition = condition
        self.delaySeconds = delaySeconds
        self.maxAttempts = maxAttempts
    }
}

public enum ServiceMode: Codable, Equatable, Sendable {
    case replicated(replicas: Int)
    case global
}

public struct ServiceObject: Codable, Equatable, Sendable {
    public var meta: ObjectMeta
    public var name: String
    public var mode: ServiceMode
    public var spec: TaskSpec
    /// Bumped by every `service update` that changes the task spec: tasks of
    /// an older generation are replaced, one at a time.
    public var generation: UInt64
    /// How its name resolves: to a virtual IP, or to its tasks.
    public var endpointMode: EndpointMode
    /// One virtual IP per network of the spec, reserved by the allocator (none in dnsrr mode).
    public var virtualIPs: [NetworkAddress]
    /// The ports it publishes, each with its published port decided.
    public var ports: [PublishedPort]
    /// Set for the service `shoal run` makes for its one-off process (nil in
    /// objects stored before `shoal run` existed).
    public var oneOff: OneOff?

    /// What makes a service a one-off: the node whose `shoal run` owns it.
    public struct OneOff: Codable, Equatable, Sendable {
        public var nodeID: String
        public init(nodeID: String) { self.nodeID = nodeID }
    }

    public init(meta: ObjectMeta, name: String, mode: ServiceMode, spec: TaskSpec, generation: UInt64 = 1,
                endpointMode: EndpointMode = .vip, virtualIPs: [NetworkAddress] = [], ports: [PublishedPort] = [],
                oneOff: OneOff? = nil) {
        self.meta = meta
        self.name = name
        self.mode = mode
        self.spec = spec
        self.generation = generation
        self.endpointMode = endpointMode
        self.virtualIPs = virtualIPs
        self.ports = ports
        self.oneOff = oneOff
    }
}

/// A port a service publishes: on every node through the routing mesh
/// (ingress), or on the nodes that run its tasks (host).
public struct PublishedPort: Codable, Equatable, Hashable, Sendable {
    public enum TransportProtocol: String, Codable, Sendable, CaseIterable { case tcp, udp }
    public enum Mode: String, Codable, Sendable, CaseIterable { case ingress, host }

    public var `protocol`: TransportProtocol
    /// Where the tasks listen.
    public var target: UInt16
    /// Where the nodes answer.
    public var published: UInt16
    public var mode: Mode

    public init(protocol: TransportProtocol, target: UInt16, published: UInt16, mode: Mode) {
        (self.protocol, self.target, self.published, self.mode) = (`protocol`, target, published, mode)
    }
}

/// docker's `--endpoint-mode`: `vip` gives the service one address per
/// network that balances over its tasks; `dnsrr` answers its name with the
/// tasks' own addresses.
public enum EndpointMode: String, Codable, Sendable, CaseIterable {
    case vip, dnsrr
}

/// Swarm's task states, in the order a task moves through them.
public enum TaskState: String, Codable, Sendable, CaseIterable, Comparable {
    case new, pending, assigned, accepted, preparing, starting, running
    case complete, shutdown, failed, rejected, orphaned

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: TaskState, rhs: TaskState) -> Bool { lhs.rank < rhs.rank }

    /// The task's process has ended (or never will start).
    public var isTerminal: Bool { self > .running }
}

/// What a node's agent last said about a task.
public struct TaskStatus: Codable, Equatable, Sendable {
    public var state: TaskState
    public var timestamp: Date
    public var message: String
    public var error: String
    public var exitCode: Int32?
    /// The task's address on its node's gateway bridge, once it has one.
    public var address: String?
    /// Its health check's state, for a task with one that runs.
    public var health: TaskHealth?
    /// true when the OOM killer ended it (its cgroup counted the kill); nil otherwise.
    public var oomKilled: Bool?

    public init(state: TaskState, timestamp: Date, message: String = "", error: String = "",
                exitCode: Int32? = nil, address: String? = nil, health: TaskHealth? = nil, oomKilled: Bool? = nil) {
        self.state = state
        self.timestamp = timestamp
        self.message = message
        self.error = error
        self.exitCode = exitCode
        self.address = address
        self.health = health
        self.oomKilled = oomKilled
    }
}

public struct TaskObject: Codable, Equatable, Sendable {
    public var meta: ObjectMeta
    public var serviceID: String
    public var serviceName: String
    /// 1… for a replicated service; 0 for a global one (its node names the task).
    public var slot: Int
    public var nodeID: String?
    public var spec: TaskSpec
    public var generation: UInt64
    public var desiredState: TaskState
    public var status: TaskStatus
    /// How many tasks of this slot ran before this one and ended.
    public var attempt: Int
    /// Its address on each network of its spec, in the spec's order, once the allocator gave them.
    public var networks: [NetworkAddress]

    public init(meta: ObjectMeta, serviceID: String, serviceName: String, slot: Int, nodeID: String? = nil,
                spec: TaskSpec, generation: UInt64, desiredState: TaskState = .running, status: TaskStatus,
                attempt: Int = 0, networks: [NetworkAddress] = []) {
        self.meta = meta
        self.serviceID = serviceID
        self.serviceName = serviceName
        self.slot = slot
        self.nodeID = nodeID
        self.spec = spec
        self.generation = generation
        self.desiredState = desiredState
        self.status = status
        self.attempt = attempt
        self.networks = networks
    }

    /// docker's name: `<service>.<slot>.<id>`, or `<service>.<node>.<id>` for a global service.
    public var name: String { "\(slotName).\(meta.id)" }

    /// The name tables show: `<service>.<slot>` (or `<service>.<node>`).
    public var slotName: String { "\(serviceName).\(slot == 0 ? nodeID ?? "" : String(slot))" }

    /// The task should run and has not ended.
    public var isActive: Bool { desiredState <= .running && !status.state.isTerminal }

    /// Whether traffic may reach it (its VIPs, published ports and DNS
    /// names): running, and healthy when it has a health check.
    public var takesTraffic: Bool {
        desiredState == .running && status.state == .running && (spec.healthCheck == nil || status.health?.status == .healthy)
    }
}

/// One status an agent reports for a task it runs.
public struct TaskReport: Codable, Equatable, Sendable {
    public var taskID: String
    public var status: TaskStatus

    public init(taskID: String, status: TaskStatus) {
        self.taskID = taskID
        self.status = status
    }
}
