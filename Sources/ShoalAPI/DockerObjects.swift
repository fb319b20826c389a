import Addressing
import FoundationEssentials

/// `Version.Index` of docker's objects.
public struct ObjectVersion: Encodable, Equatable, Sendable {
    public var index: UInt64
    enum CodingKeys: String, CodingKey { case index = "Index" }
}

/// A service as `docker service inspect` prints it (the Docker Engine API's
/// Service object). The command stands where docker has the image: its first
/// word is ContainerSpec.Command, the rest Args.
public struct DockerService: Encodable, Equatable, Sendable {
    public struct Spec: Encodable, Equatable, Sendable {
        public var name: String
        public var labels: [String: String] = [:]
        public var taskTemplate: TaskTemplate
        public var mode: Mode
        public var endpointSpec: EndpointSpec
        enum CodingKeys: String, CodingKey {
            case name = "Name", labels = "Labels", taskTemplate = "TaskTemplate", mode = "Mode", endpointSpec = "EndpointSpec"
        }
    }

    public struct TaskTemplate: Encodable, Equatable, Sendable {
        public var containerSpec: ContainerSpec
        public var resources: TaskResources
        public var restartPolicy: RestartPolicy
        public var placement: Placement
        public var networks: [NetworkTarget]
        enum CodingKeys: String, CodingKey {
            case containerSpec = "ContainerSpec", resources = "Resources", restartPolicy = "RestartPolicy", placement = "Placement"
            case networks = "Networks"
        }
    }

    /// `--limit-*` and `--reserve-*`, as the Engine API nests them.
    public struct TaskResources: Encodable, Equatable, Sendable {
        public struct Amounts: Encodable, Equatable, Sendable {
            public var nanoCPUs: Int64
            public var memoryBytes: Int64
            public var pids: Int64?
            enum CodingKeys: String, CodingKey { case nanoCPUs = "NanoCPUs", memoryBytes = "MemoryBytes", pids = "Pids" }
        }
        public var limits: Amounts
        public var reservations: Amounts
        enum CodingKeys: String, CodingKey { case limits = "Limits", reservations = "Reservations" }

        init(_ resources: Resources) {
            limits = Amounts(nanoCPUs: resources.limitNanoCPUs, memoryBytes: resources.limitMemoryBytes, pids: resources.limitPids)
            reservations = Amounts(nanoCPUs: resources.reservedNanoCPUs, memoryBytes: resources.reservedMemoryBytes)
        }
    }

    /// `--health-*`, as the Engine API has it: durations in nanoseconds, the test a shell command.
    public struct Healthcheck: Encodable, Equatable, Sendable {
        public var test: [String]
        public var interval: Int64
        public var timeout: Int64
        public var startPeriod: Int64
        public var retries: Int
        enum CodingKeys: String, CodingKey {
            case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod", retries = "Retries"
        }

        init(_ check: HealthCheck) {
            test = ["CMD-SHELL", check.command]
            interval = Int64(check.intervalSeconds * 1e9)
            timeout = Int64(check.timeoutSeconds * 1e9)
            startPeriod = Int64(check.startPeriodSeconds * 1e9)
            retries = check.retries
        }
    }

    public struct ContainerSpec: Encodable, Equatable, Sendable {
        public var command: [String]
        public var args: [String]
        public var env: [String]
        public var dir: String?
        public var user: String?
        public var readOnly: Bool
        public var mounts: [String]
        public var capabilityAdd: [String]
        public var capabilityDrop: [String]
        public var securityOptions: [String]
        public var healthcheck: Healthcheck?
        enum CodingKeys: String, CodingKey {
            case command = "Command", args = "Args", env = "Env", dir = "Dir", user = "User", readOnly = "ReadOnly", mounts = "Mounts"
            case capabilityAdd = "CapabilityAdd", capabilityDrop = "CapabilityDrop", securityOptions = "SecurityOpt"
            case healthcheck = "Healthcheck"
        }
    }

    public struct RestartPolicy: Encodable, Equatable, Sendable {
        public var condition: String
        /// Nanoseconds, as docker's.
        public var delay: Int64
        public var maxAttempts: Int
        enum CodingKeys: String, CodingKey { case condition = "Condition", delay = "Delay", maxAttempts = "MaxAttempts" }
    }

    public struct Placement: Encodable, Equatable, Sendable {
        public var constraints: [String]
        enum CodingKeys: String, CodingKey { case constraints = "Constraints" }
    }

    public struct NetworkTarget: Encodable, Equatable, Sendable {
        public var target: String
        enum CodingKeys: String, CodingKey { case target = "Target" }
    }

    /// `{"Replicated": {"Replicas": 3}}` or `{"Global": {}}`.
    public struct Mode: Encodable, Equatable, Sendable {
        public var replicas: Int?
        enum CodingKeys: String, CodingKey { case replicated = "Replicated", global = "Global" }
        enum ReplicatedKeys: String, CodingKey { case replicas = "Replicas" }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let replicas {
                var replicated = container.nestedContainer(keyedBy: ReplicatedKeys.self, forKey: .replicated)
                try replicated.encode(replicas, forKey: .replicas)
            } else {
                _ = container.nestedContainer(keyedBy: ReplicatedKeys.self, forKey: .global)
            }
        }
    }

    public struct EndpointSpec: Encodable, Equatable, Sendable {
        public var mode: String
        public var ports: [PortConfig]
        enum CodingKeys: String, CodingKey { case mode = "Mode", ports = "Ports" }
    }

    public struct VirtualIP: Encodable, Equatable, Sendable {
        public var networkID: String
        public var addr: String
        enum CodingKeys: String, CodingKey { case networkID = "NetworkID", addr = "Addr" }
    }

    public struct Endpoint: Encodable, Equatable, Sendable {
        public var spec: EndpointSpec
        public var ports: [PortConfig]
        public var virtualIPs: [VirtualIP]
        enum CodingKeys: String, CodingKey { case spec = "Spec", ports = "Ports", virtualIPs = "VirtualIPs" }
    }

    /// docker's `service ls`/`inspect` status: tasks running and desired.
    public struct ServiceStatus: Encodable, Equatable, Sendable {
        public var runningTasks: Int
        public var desiredTasks: Int
        enum CodingKeys: String, CodingKey { case runningTasks = "RunningTasks", desiredTasks = "DesiredTasks" }
    }

    public var id: String
    public var version: ObjectVersion
    public var createdAt: Date
    public var updatedAt: Date
    public var spec: Spec
    public var endpoint: Endpoint
    public var serviceStatus: ServiceStatus

    enum CodingKeys: String, CodingKey {
        case id = "ID", version = "Version", createdAt = "CreatedAt", updatedAt = "UpdatedAt", spec = "Spec", endpoint = "Endpoint"
        case serviceStatus = "ServiceStatus"
    }

    public init(_ service: ServiceDetail) {
        let spec = service.spec
        let endpointSpec = EndpointSpec(mode: spec.endpointMode, ports: spec.ports)
        id = service.id
        version = ObjectVersion(index: service.version)
        createdAt = service.createdAt
        updatedAt = service.updatedAt
        self.spec = Spec(
            name: spec.name, labels: service.labels ?? [:],
            taskTemplate: TaskTemplate(
                containerSpec: ContainerSpec(
                    command: Array(spec.command.prefix(1)), args: Array(spec.command.dropFirst()), env: spec.env, dir: spec.workdir,
                    user: spec.user, readOnly: spec.readOnly, mounts: spec.mounts, capabilityAdd: spec.capabilityAdd,
                    capabilityDrop: spec.capabilityDrop, securityOptions: spec.securityOptions,
                    healthcheck: spec.healthCheck.map(Healthcheck.init)),
                resources: TaskResources(spec.resources),
                restartPolicy: RestartPolicy(condition: spec.restartCondition, delay: Int64(spec.restartDelaySeconds * 1e9),
                                             maxAttempts: spec.restartMaxAttempts),
                placement: Placement(constraints: spec.constraints),
                networks: spec.networks.map { NetworkTarget(target: $0) }),
            mode: Mode(replicas: spec.replicas),
            endpointSpec: endpointSpec)
        endpoint = Endpoint(spec: endpointSpec, ports: spec.ports,
                            virtualIPs: service.endpoint.virtualIPs.map { VirtualIP(networkID: $0.networkID, addr: $0.addr) })
        serviceStatus = ServiceStatus(runningTasks: service.running, desiredTasks: service.desired)
    }
}

/// A node as `docker node inspect` prints it (the Docker Engine API's Node object).
public struct DockerNode: Encodable, Equatable, Sendable {
    public struct Spec: Encodable, Equatable, Sendable {
        public var labels: [String: String]
        public var role: String
        public var availability: String
        enum CodingKeys: String, CodingKey { case labels = "Labels", role = "Role", availability = "Availability" }
    }

    public struct Description: Encodable, Equatable, Sendable {
        public struct Platform: Encodable, Equatable, Sendable {
            public var architecture: String
            public var os: String
            enum CodingKeys: String, CodingKey { case architecture = "Architecture", os = "OS" }
        }

        public struct Engine: Encodable, Equatable, Sendable {
            public var engineVersion: String
            enum CodingKeys: String, CodingKey { case engineVersion = "EngineVersion" }
        }

        public var hostname: String
        public var platform: Platform
        /// Its CPUs and memory, once the node has reported them.
        public var resources: NodeResources?
        public var engine: Engine
        enum CodingKeys: String, CodingKey { case hostname = "Hostname", platform = "Platform", resources = "Resources", engine = "Engine" }
    }

    public struct Status: Encodable, Equatable, Sendable {
        public var state: String
        public var message: String
        /// The node's IP address, without the port.
        public var addr: String
        enum CodingKeys: String, CodingKey { case state = "State", message = "Message", addr = "Addr" }
    }

    public struct ManagerStatus: Encodable, Equatable, Sendable {
        public var leader: Bool
        public var reachability: String
        public var addr: String
        enum CodingKeys: String, CodingKey { case leader = "Leader", reachability = "Reachability", addr = "Addr" }

        /// docker leaves Leader out unless it is true.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if leader { try container.encode(leader, forKey: .leader) }
            try container.encode(reachability, forKey: .reachability)
            try container.encode(addr, forKey: .addr)
        }
    }

    public var id: String
    public var version: ObjectVersion
    public var createdAt: Date
    public var updatedAt: Date
    public var spec: Spec
    public var description: Description
    public var status: Status
    /// Absent for a worker.
    public var managerStatus: ManagerStatus?

    enum CodingKeys: String, CodingKey {
        case id = "ID", version = "Version", createdAt = "CreatedAt", updatedAt = "UpdatedAt", spec = "Spec", description = "Description"
        case status = "Status", managerStatus = "ManagerStatus"
    }

    public init(_ node: NodeDetail, architecture: String = "x86_64") {
        id = node.id
        version = ObjectVersion(index: node.version)
        createdAt = node.createdAt
        updatedAt = node.updatedAt
        spec = Spec(labels: node.labels, role: node.role, availability: node.availability)
        description = Description(hostname: node.hostname, platform: .init(architecture: architecture, os: "linux"),
                                  resources: node.resources, engine: .init(engineVersion: node.engineVersion))
        status = Status(state: node.state, message: node.stateMessage, addr: HostPort(node.address)?.host ?? node.address)
        managerStatus = node.managerStatus.isEmpty ? nil
            : ManagerStatus(leader: node.managerStatus == "leader",
                            reachability: node.managerStatus == "unreachable" ? "unreachable" : "reachable", addr: node.address)
    }
}
