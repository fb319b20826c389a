import FoundationEssentials

/// `GET /tasks/exec?task=REF`: what `shoal exec` needs to enter a task that
/// runs on this node. The daemon only resolves; the CLI (root on the same
/// node) enters the namespaces itself through `shoal task-exec`.
public struct ExecTarget: Codable, Equatable, Sendable {
    public var taskID: String
    /// `<service>.<slot>`, for messages.
    public var name: String
    /// The task's `task-init` process: its namespaces are the task's.
    public var pid: Int32
    /// The inode of that process's network namespace when the daemon looked:
    /// `task-exec` refuses a pid that was reused meanwhile.
    public var netNamespaceInode: UInt64
    public var env: [String]
    public var workdir: String?
    /// The task's `--cap-add`, `--cap-drop` and `--security-opt`: the exec'd command is confined as the task.
    public var capabilityAdd: [String]
    public var capabilityDrop: [String]
    public var securityOptions: [String]
    /// The task's `--user`: the exec'd command runs as it too, as docker's.
    public var user: String?
    /// The task's cgroups: the exec'd command joins them, so the task's limits hold it too.
    public var cgroups: [String]?

    public init(taskID: String, name: String, pid: Int32, netNamespaceInode: UInt64, env: [String], workdir: String?,
                capabilityAdd: [String] = [], capabilityDrop: [String] = [], securityOptions: [String] = [],
                user: String? = nil, cgroups: [String] = []) {
        self.taskID = taskID
        self.name = name
        self.pid = pid
        self.netNamespaceInode = netNamespaceInode
        self.env = env
        self.workdir = workdir
        self.capabilityAdd = capabilityAdd
        self.capabilityDrop = capabilityDrop
        self.securityOptions = securityOptions
        self.user = user
        self.cgroups = cgroups
    }
}

/// What names a task on the command line: an id, a unique id prefix, the
/// full name `<service>.<slot>.<id>` or `<service>.<slot>`.
public enum TaskReference {
    /// Service names are letters, digits, '-', '_' and '.'; ids are base 36.
    public static func validate(_ text: String) throws(ShoalError) {
        guard !text.isEmpty, text.utf8.count <= maximumReferenceLength,
              text.utf8.allSatisfy({ isReferenceByte($0) }) else {
            throw ShoalError("invalid task \"\(text.prefix(64))\"",
                             hint: "give a task id, its name, or SERVICE.SLOT (letters, digits, '-', '_' and '.')")
        }
    }

    private static func isReferenceByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }
}

/// A task as `docker inspect TASK` prints one (its keys are docker's; the
/// command stands where docker has the image).
public struct TaskDetail: Codable, Equatable, Sendable {
    public struct Version: Codable, Equatable, Sendable {
        public var index: UInt64
        enum CodingKeys: String, CodingKey { case index = "Index" }
        public init(index: UInt64) { self.index = index }
    }

    public struct Spec: Codable, Equatable, Sendable {
        public struct ContainerSpec: Codable, Equatable, Sendable {
            public var command: [String]
            public var env: [String]
            enum CodingKeys: String, CodingKey { case command = "Command", env = "Env" }
            public init(command: [String], env: [String]) { (self.command, self.env) = (command, env) }
        }

        public struct Target: Codable, Equatable, Sendable {
            public var target: String
            enum CodingKeys: String, CodingKey { case target = "Target" }
            public init(target: String) { self.target = target }
        }

        public var containerSpec: ContainerSpec
        public var networks: [Target]
        enum CodingKeys: String, CodingKey { case containerSpec = "ContainerSpec", networks = "Networks" }
        public init(containerSpec: ContainerSpec, networks: [Target]) { (self.containerSpec, self.networks) = (containerSpec, networks) }
    }

    public struct Status: Codable, Equatable, Sendable {
        /// How its process ended: the exit code, and docker's State.OOMKilled.
        public struct ContainerStatus: Codable, Equatable, Sendable {
            public var exitCode: Int32
            public var oomKilled: Bool
            enum CodingKeys: String, CodingKey { case exitCode = "ExitCode", oomKilled = "OOMKilled" }
            public init(exitCode: Int32, oomKilled: Bool) { (self.exitCode, self.oomKilled) = (exitCode, oomKilled) }
        }

        public var timestamp: Date
        public var state: String
        public var message: String
        public var err: String?
        /// Once the task's process has ended.
        public var containerStatus: ContainerStatus?
        enum CodingKeys: String, CodingKey {
            case timestamp = "Timestamp", state = "State", message = "Message", err = "Err", containerStatus = "ContainerStatus"
        }
        public init(timestamp: Date, state: String, message: String, err: String?, containerStatus: ContainerStatus? = nil) {
            (self.timestamp, self.state, self.message, self.err) = (timestamp, state, message, err)
            self.containerStatus = containerStatus
        }
    }

    /// The task's address on one of its networks.
    public struct NetworkAttachment: Codable, Equatable, Sendable {
        public struct Network: Codable, Equatable, Sendable {
            public struct Spec: Codable, Equatable, Sendable {
                public var name: String
                enum CodingKeys: String, CodingKey { case name = "Name" }
            }

            public var id: String
            public var spec: Spec
            enum CodingKeys: String, CodingKey { case id = "ID", spec = "Spec" }
        }

        public var network: Network
        public var addresses: [String]
        enum CodingKeys: String, CodingKey { case network = "Network", addresses = "Addresses" }

        public init(networkID: String, networkName: String, address: String) {
            network = Network(id: networkID, spec: Network.Spec(name: networkName))
            addresses = [address]
        }
    }

    /// docker's `State`, here only its `Health`: present for a task with a health check.
    public struct State: Codable, Equatable, Sendable {
        public var health: TaskHealth
        enum CodingKeys: String, CodingKey { case health = "Health" }
        public init(health: TaskHealth) { self.health = health }
    }

    public var id: String
    public var version: Version
    public var createdAt: Date
    public var updatedAt: Date
    public var spec: Spec
    public var serviceID: String
    public var slot: Int
    public var nodeID: String?
    public var status: Status
    public var desiredState: String
    public var networksAttachments: [NetworkAttachment]
    public var state: State?

    enum CodingKeys: String, CodingKey {
        case id = "ID", version = "Version", createdAt = "CreatedAt", updatedAt = "UpdatedAt", spec = "Spec"
        case serviceID = "ServiceID", slot = "Slot", nodeID = "NodeID", status = "Status", desiredState = "DesiredState"
        case networksAttachments = "NetworksAttachments", state = "State"
    }

    public init(id: String, version: Version, createdAt: Date, updatedAt: Date, spec: Spec, serviceID: String, slot: Int,
                nodeID: String?, status: Status, desiredState: String, networksAttachments: [NetworkAttachment],
                state: State? = nil) {
        self.id = id
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.spec = spec
        self.serviceID = serviceID
        self.slot = slot
        self.nodeID = nodeID
        self.status = status
        self.desiredState = desiredState
        self.networksAttachments = networksAttachments
        self.state = state
    }
}
