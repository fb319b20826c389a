import FoundationEssentials

/// The rows of `ls` and `ps` as docker's `--format` sees them: the fields
/// docker names per command (`{{.ID}}`, `{{.Replicas}}`, …, with Command
/// where docker has Image), encoded with docker's keys for `--format json`.
public protocol ListRow: Encodable, Sendable {
    /// Column titles of the fields, for a `table` template's header.
    static var titles: [String: String] { get }
}

extension ListRow {
    /// docker's titles: the field's words upper-cased.
    static func titleMap(_ fields: [String], except overrides: [String: String] = [:]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: fields.map { field in
            (field, overrides[field] ?? zip([nil] + field.map(Optional.some), field).reduce(into: "") { title, pair in
                let (previous, character) = pair
                if character.isUppercase, previous?.isLowercase == true { title += " " }
                title += character.uppercased()
            })
        })
    }
}

/// A row of `service ls`.
public struct ServiceRow: ListRow, Equatable {
    public var id, name, mode, replicas, command, ports: String
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id = "ID", name = "Name", mode = "Mode", replicas = "Replicas", command = "Command", ports = "Ports"
    }
    public static let titles = titleMap(CodingKeys.allCases.map(\.rawValue))

    public init(_ service: ServiceDetail, fullID: Bool = false) {
        id = fullID ? service.id : String(service.id.prefix(12))
        name = service.spec.name
        mode = service.mode
        replicas = "\(service.running)/\(service.desired)"
        command = TaskFormatting.commandLine(service.spec.command)
        // As docker's: a host-mode port is its tasks', shown by `service ps`.
        ports = PortConfig.summaries(service.spec.ports.filter { !$0.isHostMode })
    }

    public var cells: [String] { [id, name, mode, replicas, command, ports] }
}

/// A row of `node ls`.
public struct NodeRow: ListRow, Equatable {
    public var id, hostname, status, availability, managerStatus, engineVersion, tlsStatus: String
    public var isSelf: Bool
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id = "ID", hostname = "Hostname", status = "Status", availability = "Availability", managerStatus = "ManagerStatus"
        case engineVersion = "EngineVersion", tlsStatus = "TLSStatus", isSelf = "Self"
    }
    public static let titles = titleMap(CodingKeys.allCases.map(\.rawValue), except: ["TLSStatus": "TLS STATUS", "Self": ""])

    public init(_ node: NodeSummary) {
        id = node.id
        hostname = node.hostname
        status = node.status.capitalized
        availability = node.availability.capitalized
        managerStatus = node.managerStatus.capitalized
        engineVersion = node.engineVersion
        // Every node holds a certificate of the swarm's current CA.
        tlsStatus = "Ready"
        isSelf = node.isSelf
    }

    /// The default table's cells: this node's id marked with `*`.
    public var cells: [String] { [id + (isSelf ? " *" : ""), hostname, status, availability, managerStatus, engineVersion] }
}

/// A row of `service ps` and `node ps`.
public struct TaskRow: ListRow, Equatable {
    public var id, name, command, node, desiredState, currentState, error, ports: String
    /// Beyond docker's row: its health check's status (starting, healthy or unhealthy); left out without a check.
    public var health: String?
    /// And the whole of it, its failing streak and last probes, where `shoal inspect TASK` has it: `State.Health`.
    public var state: HealthState?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id = "ID", name = "Name", command = "Command", node = "Node", desiredState = "DesiredState"
        case currentState = "CurrentState", error = "Error", ports = "Ports", health = "Health", state = "State"
    }

    public struct HealthState: Codable, Equatable, Sendable {
        public var health: TaskHealth
        enum CodingKeys: String, CodingKey { case health = "Health" }
    }
    public static let titles = titleMap(CodingKeys.allCases.map(\.rawValue))

    public init(id: String, name: String, command: String, node: String, desiredState: String, currentState: String,
                error: String, ports: String, health: TaskHealth? = nil) {
        (self.id, self.name, self.command, self.node) = (id, name, command, node)
        (self.desiredState, self.currentState, self.error, self.ports) = (desiredState, currentState, error, ports)
        self.health = health?.status.rawValue
        state = health.map(HealthState.init)
    }

    public var cells: [String] { [id, name, command, node, desiredState, currentState, error, ports] }
}

/// A row of `network ls`.
public struct NetworkRow: ListRow, Equatable {
    public var id, name, driver, scope, ipv6, `internal`, labels, createdAt: String
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id = "ID", name = "Name", driver = "Driver", scope = "Scope", ipv6 = "IPv6", `internal` = "Internal"
        case labels = "Labels", createdAt = "CreatedAt"
    }
    public static let titles = titleMap(CodingKeys.allCases.map(\.rawValue), except: ["ID": "NETWORK ID"])

    public init(_ network: NetworkDetail, fullID: Bool = false) {
        id = fullID ? network.id : String(network.id.prefix(12))
        name = network.name
        driver = network.driver
        scope = network.scope
        ipv6 = String(network.enableIPv6)
        `internal` = String(network.internal)
        labels = network.labels.keys.sorted().map { "\($0)=\(network.labels[$0, default: ""])" }.joined(separator: ",")
        createdAt = Self.goTime(network.created)
    }

    public var cells: [String] { [id, name, driver, scope] }

    /// As Go prints a time: `2026-11-30 10:27:27 +0000 UTC`.
    static func goTime(_ date: Date) -> String {
        let iso = date.formatted(.iso8601)
        return iso.replacing("T", with: " ").replacing("Z", with: " +0000 UTC")
    }
}
