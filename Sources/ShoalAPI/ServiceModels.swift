import FoundationEssentials

/// `service create`: everything a service is made of.
public struct ServiceSpecRequest: Codable, Equatable, Sendable {
    public var name: String
    /// nil for a global service.
    public var replicas: Int?
    public var command: [String]
    public var env: [String]
    public var workdir: String?
    public var constraints: [String]
    public var restartCondition: String
    public var restartDelaySeconds: Double
    public var restartMaxAttempts: Int
    /// `--network`: names (or ids) of overlay networks, in the order the task's interfaces take them.
    public var networks: [String]
    /// `--endpoint-mode`: vip or dnsrr.
    public var endpointMode: String
    /// `--publish`.
    public var ports: [PortConfig]
    /// `--cap-add` and `--cap-drop`: docker's capability names, or ALL.
    public var capabilityAdd: [String]
    public var capabilityDrop: [String]
    /// `--security-opt`: `seccomp=unconfined` only.
    public var securityOptions: [String]
    /// `--read-only`, `--mount` (docker's long syntax, see `TaskMount`) and `--user UID[:GID]`.
    public var readOnly: Bool
    public var mounts: [String]
    public var user: String?
    /// `--health-cmd` and its options; nil: no check (`--no-healthcheck`, or none given).
    public var healthCheck: HealthCheck?
    /// `--limit-*` and `--reserve-*`.
    public var resources: Resources

    public init(name: String, replicas: Int?, command: [String], env: [String] = [], workdir: String? = nil,
                constraints: [String] = [], restartCondition: String = "any", restartDelaySeconds: Double = 1,
                restartMaxAttempts: Int = 0, networks: [String] = [], endpointMode: String = "vip", ports: [PortConfig] = [],
                capabilityAdd: [String] = [], capabilityDrop: [String] = [], securityOptions: [String] = [],
                readOnly: Bool = false, mounts: [String] = [], user: String? = nil, healthCheck: HealthCheck? = nil,
                resources: Resources = Resources()) {
        self.name = name
        self.replicas = replicas
        self.command = command
        self.env = env
        self.workdir = workdir
        self.constraints = constraints
        self.restartCondition = restartCondition
        self.restartDelaySeconds = restartDelaySeconds
        self.restartMaxAttempts = restartMaxAttempts
        self.networks = networks
        self.endpointMode = endpointMode
        self.ports = ports
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

/// `service update` and `service scale`: only what is set changes.
public struct ServiceUpdateRequest: Codable, Equatable, Sendable {
    public var service: String
    public var replicas: Int?
    public var command: [String]?
    public var envAdd: [String]
    public var envRemove: [String]
    public var constraintAdd: [String]
    public var constraintRemove: [String]
    public var networkAdd: [String]
    public var networkRemove: [String]
    public var endpointMode: String?
    public var publishAdd: [PortConfig]
    /// `--publish-rm`: target ports, `8080` or `8080/udp`.
    public var publishRemove: [String]
    /// `--cap-add` and `--cap-drop`: each takes the capability out of the other list, as docker's.
    public var capabilityAdd: [String]
    public var capabilityDrop: [String]
    /// `--health-cmd`, `--health-interval`, `--health-timeout`, `--health-retries`, `--health-start-period`
    /// (each changes only its part of the check) and `--no-healthcheck` (removes it).
    public var healthCommand: String?
    public var healthIntervalSeconds: Double?
    public var healthTimeoutSeconds: Double?
    public var healthRetries: Int?
    public var healthStartPeriodSeconds: Double?
    public var noHealthCheck: Bool?
    /// `--read-only` / `--no-read-only`, `--mount-add` (docker's long syntax), `--mount-rm` (targets) and `--user`.
    public var readOnly: Bool?
    public var mountAdd: [String]
    public var mountRemove: [String]
    public var user: String?
    /// `--limit-*` and `--reserve-*`: each given replaces the service's (0: none).
    public var resources: ResourceChanges

    public init(service: String, replicas: Int? = nil, command: [String]? = nil, envAdd: [String] = [],
                envRemove: [String] = [], constraintAdd: [String] = [], constraintRemove: [String] = [],
                networkAdd: [String] = [], networkRemove: [String] = [], endpointMode: String? = nil,
                publishAdd: [PortConfig] = [], publishRemove: [String] = [], capabilityAdd: [String] = [],
                capabilityDrop: [String] = [], readOnly: Bool? = nil, mountAdd: [String] = [], mountRemove: [String] = [],
                user: String? = nil, resources: ResourceChanges = ResourceChanges(), healthCommand: String? = nil,
                healthIntervalSeconds: Double? = nil, healthTimeoutSeconds: Double? = nil, healthRetries: Int? = nil,
                healthStartPeriodSeconds: Double? = nil, noHealthCheck: Bool? = nil) {
        self.service = service
        self.replicas = replicas
        self.command = command
        self.envAdd = envAdd
        self.envRemove = envRemove
        self.constraintAdd = constraintAdd
        self.constraintRemove = constraintRemove
        self.networkAdd = networkAdd
        self.networkRemove = networkRemove
        self.endpointMode = endpointMode
        self.publishAdd = publishAdd
        self.publishRemove = publishRemove
        self.capabilityAdd = capabilityAdd
        self.capabilityDrop = capabilityDrop
        self.readOnly = readOnly
        self.mountAdd = mountAdd
        self.mountRemove = mountRemove
        self.user = user
        self.resources = resources
        self.healthCommand = healthCommand
        self.healthIntervalSeconds = healthIntervalSeconds
        self.healthTimeoutSeconds = healthTimeoutSeconds
        self.healthRetries = healthRetries
        self.healthStartPeriodSeconds = healthStartPeriodSeconds
        self.noHealthCheck = noHealthCheck
    }

    /// The service's check as this update leaves it.
    public func healthCheck(updating current: HealthCheck?) throws(ShoalError) -> HealthCheck? {
        try HealthCheck.updated(current, command: healthCommand, interval: healthIntervalSeconds, timeout: healthTimeoutSeconds,
                                retries: healthRetries, startPeriod: healthStartPeriodSeconds, disabled: noHealthCheck == true)
    }
}

public struct ServiceReferenceRequest: Codable, Sendable {
    public var service: String
    public init(service: String) { self.service = service }
}

public struct ServiceCreated: Codable, Sendable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// A row of `service ls`, and `service inspect`.
public struct ServiceDetail: Codable, Sendable {
    public var id: String
    public var version: UInt64
    public var createdAt: Date
    public var updatedAt: Date
    public var spec: ServiceSpecRequest
    /// Tasks running now, and how many should (replicas, or eligible nodes of a global service).
    public var running: Int
    public var desired: Int
    public var endpoint: ServiceEndpoint
    /// docker's service labels: what the daemon sets (`OneOff.nodeLabel` on a one-off); nil from older daemons.
    public var labels: [String: String]?

    public init(id: String, version: UInt64, createdAt: Date, updatedAt: Date, spec: ServiceSpecRequest,
                running: Int, desired: Int, endpoint: ServiceEndpoint, labels: [String: String]? = nil) {
        self.id = id
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.spec = spec
        self.running = running
        self.desired = desired
        self.endpoint = endpoint
        self.labels = labels
    }

    public var mode: String { spec.replicas == nil ? "global" : "replicated" }
}

/// A row of `service ps` and `node ps`.
public struct TaskSummary: Codable, Sendable {
    public var id: String
    public var name: String
    public var serviceID: String
    public var serviceName: String
    /// The slot for a replicated service, 0 for a global one.
    public var slot: Int
    public var nodeID: String?
    public var node: String?
    public var command: [String]
    public var desiredState: String
    public var state: String
    public var stateSince: Date
    public var message: String
    public var error: String
    public var exitCode: Int32?
    public var address: String?
    public var createdAt: Date
    /// Its health check's last word, for a task that has one (docker's `State.Health`).
    public var health: TaskHealth?
    /// The host-mode ports it holds on its node while it runs (docker's `Status.PortStatus`).
    public var hostPorts: [PortConfig]?

    public init(id: String, name: String, serviceID: String, serviceName: String, slot: Int, nodeID: String?,
                node: String?, command: [String], desiredState: String, state: String, stateSince: Date,
                message: String, error: String, exitCode: Int32?, address: String?, createdAt: Date, health: TaskHealth? = nil,
                hostPorts: [PortConfig]? = nil) {
        self.id = id
        self.name = name
        self.serviceID = serviceID
        self.serviceName = serviceName
        self.slot = slot
        self.nodeID = nodeID
        self.node = node
        self.command = command
        self.desiredState = desiredState
        self.state = state
        self.stateSince = stateSince
        self.message = message
        self.error = error
        self.exitCode = exitCode
        self.address = address
        self.createdAt = createdAt
        self.health = health
        self.hostPorts = hostPorts
    }

    /// `<service>.<slot>` or `<service>.<node id>`, as tables show it.
    public var slotName: String { "\(serviceName).\(slot == 0 ? nodeID ?? "" : String(slot))" }
}

/// `service logs`: which service or task, and from where in each task's output.
public struct LogsRequest: Codable, Sendable {
    public var target: String
    public var tail: Int?
    /// Task id → byte offset, from the previous answer (follow mode).
    public var cursor: [String: Int]

    public init(target: String, tail: Int? = nil, cursor: [String: Int] = [:]) {
        self.target = target
        self.tail = tail
        self.cursor = cursor
    }
}

/// A piece of one task's output, as its node's agent reads it.
public struct TaskOutput: Equatable, Sendable {
    public var lines: [String]
    /// The offset to read from next time.
    public var next: Int
    /// Whether more output is there already (the piece was bounded).
    public var more: Bool

    public init(lines: [String], next: Int, more: Bool) {
        self.lines = lines
        self.next = next
        self.more = more
    }
}

public struct LogsResponse: Codable, Sendable {
    public struct Line: Codable, Sendable {
        public var task: String
        public var node: String
        public var text: String

        public init(task: String, node: String, text: String) {
            self.task = task
            self.node = node
            self.text = text
        }
    }

    public var lines: [Line]
    public var cursor: [String: Int]
    /// Whether some task has more output already: ask again from `cursor`.
    public var more: Bool?

    public init(lines: [Line], cursor: [String: Int], more: Bool? = nil) {
        self.lines = lines
        self.cursor = cursor
        self.more = more
    }
}

/// How a service is reached: a virtual IP on each of its networks.
public struct ServiceEndpoint: Codable, Equatable, Sendable {
    public struct VirtualIP: Codable, Equatable, Sendable {
        public var networkID: String
        /// The address with its network's prefix length, e.g. 10.0.1.2/24.
        public var addr: String
        public init(networkID: String, addr: String) { (self.networkID, self.addr) = (networkID, addr) }
    }

    public var virtualIPs: [VirtualIP]
    public init(virtualIPs: [VirtualIP]) { self.virtualIPs = virtualIPs }
}
