import Addressing
import ArgumentParser
import ShoalAPI

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Manage swarm nodes.",
        subcommands: [NodeListCommand.self, NodeInspectCommand.self, NodeTasksCommand.self, NodePromoteCommand.self,
                      NodeDemoteCommand.self, NodeUpdateCommand.self, NodeDrainCommand.self, NodePauseCommand.self,
                      NodeActivateCommand.self, NodeRemoveCommand.self])
}

/// Runs one node call per node given, printing each answer; the first
/// failure ends the command (docker goes on and reports at the end; one
/// clear line is what a script needs).
private func eachNode(_ nodes: [String], _ path: String, availability: String? = nil, force: Bool = false) throws {
    let client = try SwarmClient.daemon(startingIfNeeded: false)
    for node in nodes {
        let answer: MessageResponse = try client.post(path, NodeChangeRequest(node: node, availability: availability, force: force))
        print(answer.message)
    }
}

struct NodeInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more nodes.")
    @Flag(help: "Print the information in a human friendly format.") var pretty = false
    @Argument(help: "Node ids, id prefixes or hostnames; 'self' for this node.") var nodes: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        var details: [NodeDetail] = []
        for node in nodes {
            let reference = node == "self" ? try selfID(client) : node
            details.append(try client.post("/nodes/inspect", NodeChangeRequest(node: reference)))
        }
        guard pretty else { return try printJSON(details) }
        for detail in details {
            print("""
                ID:			\(detail.id)
                Hostname:		\(detail.hostname)
                Joined at:		\(detail.createdAt)
                Status:
                 State:			\(detail.state.capitalized)
                 Availability:		\(detail.availability.capitalized)
                 Address:		\(HostPort(detail.address)?.host ?? detail.address)
                """)
            if !detail.managerStatus.isEmpty {
                print("Manager Status:\n Address:\t\t\(detail.address)\n Raft Status:\t\t\(detail.managerStatus.capitalized)")
            }
            if let resources = detail.resources {
                // docker prints whole CPUs here.
                print("Resources:\n CPUs:\t\t\t\(resources.nanoCPUs / Resources.nanoCPUsPerCPU)\n Memory:\t\t\(ResourceUnits.memoryText(resources.memoryBytes))")
            }
            print("Engine Version:\t\t\(detail.engineVersion)")
        }
    }

    private func selfID(_ client: APIClient) throws -> String {
        let info: DaemonInfo = try client.get("/info")
        guard let id = info.nodeID else { throw ShoalError("this node is not in a swarm", hint: "use shoal init or shoal join") }
        return id
    }
}

struct NodeTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List tasks running on one or more nodes.")
    @Argument(help: "Nodes (default: this node).") var nodes: [String] = []
    @OptionGroup var format: FormatOption

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        var references = nodes
        if references.isEmpty {
            let info: DaemonInfo = try client.get("/info")
            references = [info.nodeID ?? "self"]
        }
        var tasks: [TaskSummary] = []
        for node in references { tasks += try client.get("/tasks", query: ["node": node]) }
        try printTasks(tasks, format: format)
    }
}

struct NodePromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "promote", abstract: "Promote one or more nodes to manager in the swarm.")
    @Argument var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/promote") }
}

struct NodeDemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demote", abstract: "Demote one or more nodes from manager in the swarm.")
    @Argument var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/demote") }
}

struct NodeUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update a node.")
    @Option(help: "Availability of the node: active, pause or drain.") var availability: String
    @Argument var node: String

    func validate() throws {
        guard ["active", "pause", "drain"].contains(availability) else {
            throw ValidationError("invalid availability '\(availability)': use active, pause or drain")
        }
    }

    func run() throws { try eachNode([node], "/nodes/update", availability: availability) }
}

struct NodeDrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drain", abstract: "Drain nodes: move their tasks elsewhere (node update --availability drain).")
    @Argument var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/update", availability: "drain") }
}

struct NodePauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause nodes: keep their tasks, place nothing new (node update --availability pause).")
    @Argument var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/update", availability: "pause") }
}

struct NodeActivateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activate", abstract: "Make nodes available for tasks again (node update --availability active).")
    @Argument var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/update", availability: "active") }
}

struct NodeRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more nodes from the swarm.")
    @Flag(name: .shortAndLong, help: "Force remove a node from the swarm.") var force = false
    @Argument var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/remove", force: force) }
}

struct NodeListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List nodes in the swarm.")

    @Flag(name: .shortAndLong, help: "Only display IDs.") var quiet = false
    @Flag(help: ArgumentHelp("Show this manager's own copy of the node list, without confirming it with the other managers.",
                             discussion: "It answers when too few managers are online for a leader (where node ls fails), but may be out of date: a warning on stderr says so."))
    var local = false
    @OptionGroup var format: FormatOption

    func run() throws {
        let nodes: [NodeSummary] = try SwarmClient.daemon(startingIfNeeded: false).get(local ? "/nodes?local=1" : "/nodes")
        if local { writeToStandardError("WARNING: this manager's own view (--local), not confirmed by a quorum of managers: it may be out of date\n") }
        if format.isJSON { return try printJSON(nodes) }
        if quiet { return nodes.forEach { print($0.id) } }
        print(Self.table(nodes))
    }

    static func table(_ nodes: [NodeSummary]) -> String {
        var table = Table(headers: ["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"])
        for node in nodes {
            table.rows.append([node.id + (node.isSelf ? " *" : ""), node.hostname, node.status.capitalized,
                               node.availability.capitalized, node.managerStatus.capitalized, node.engineVersion])
        }
        return table.render()
    }
}
