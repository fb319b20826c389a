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
    @OptionGroup var format: InspectFormatOption
    @Argument(help: "Node ids, id prefixes or hostnames; 'self' for this node.", completion: NameCompletion.nodes) var nodes: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let fetch = { (node: String) throws -> NodeDetail in
            try client.post("/nodes/inspect", NodeChangeRequest(node: node == "self" ? try selfID(client) : node))
        }
        guard pretty else { return try printInspected(nodes, format: format) { DockerNode(try fetch($0)) } }
        let details = try nodes.map(fetch)
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
    @OptionGroup var options: TaskListOptions
    @Argument(help: "Nodes (default: this node).", completion: NameCompletion.nodes) var nodes: [String] = []

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        var references = nodes
        if references.isEmpty {
            let info: DaemonInfo = try client.get("/info")
            references = [info.nodeID ?? "self"]
        }
        try options.printTasks(client, queries: references.map { ["node": $0] })
    }
}

struct NodePromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "promote", abstract: "Promote one or more nodes to manager in the swarm.")
    @Argument(completion: NameCompletion.nodes) var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/promote") }
}

struct NodeDemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demote", abstract: "Demote one or more nodes from manager in the swarm.")
    @Argument(completion: NameCompletion.nodes) var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/demote") }
}

struct NodeUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update a node.")
    @Option(help: "Availability of the node: active, pause or drain.") var availability: String
    @Argument(completion: NameCompletion.nodes) var node: String

    func validate() throws {
        guard ["active", "pause", "drain"].contains(availability) else {
            throw ValidationError("invalid availability '\(availability)': use active, pause or drain")
        }
    }

    func run() throws { try eachNode([node], "/nodes/update", availability: availability) }
}

struct NodeDrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drain", abstract: "Drain nodes: move their tasks elsewhere (node update --availability drain).")
    @Argument(completion: NameCompletion.nodes) var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/update", availability: "drain") }
}

struct NodePauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause nodes: keep their tasks, place nothing new (node update --availability pause).")
    @Argument(completion: NameCompletion.nodes) var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/update", availability: "pause") }
}

struct NodeActivateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activate", abstract: "Make nodes available for tasks again (node update --availability active).")
    @Argument(completion: NameCompletion.nodes) var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/update", availability: "active") }
}

struct NodeRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more nodes from the swarm.",
                                                    aliases: ["remove"])
    @Flag(name: .shortAndLong, help: "Force remove a node from the swarm.") var force = false
    @Argument(completion: NameCompletion.nodes) var nodes: [String]
    func run() throws { try eachNode(nodes, "/nodes/remove", force: force) }
}

struct NodeListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List nodes in the swarm.", aliases: ["list"])

    @Flag(name: .shortAndLong, help: "Only display IDs.") var quiet = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Filter output: id, label, node.label, membership, name or role=VALUE (repeatable).",
                                                    valueName: "filter"))
    var filter: [String] = []
    @Flag(help: ArgumentHelp("Show this manager's own copy of the node list, without confirming it with the other managers.",
                             discussion: "It answers when too few managers are online for a leader (where node ls fails), but may be out of date: a warning on stderr says so."))
    var local = false
    @OptionGroup var format: ListFormatOption

    func run() throws {
        let filters = try ListFilter(filter, keys: ListFilter.nodeKeys)
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        var nodes: [NodeSummary] = try client.get(local ? "/nodes?local=1" : "/nodes")
        if local { writeToStandardError("WARNING: this manager's own view (--local), not confirmed by a quorum of managers: it may be out of date\n") }
        nodes = try nodes.filter { node in
            // The list carries no labels: only a node.label filter asks each node for its own.
            let labels = filters.has("node.label") ? (try client.post("/nodes/inspect", NodeChangeRequest(node: node.id)) as NodeDetail).labels : [:]
            return filters.accepts(node, labels: labels)
        }
        if quiet { return nodes.forEach { print($0.id) } }
        let rows = nodes.map(NodeRow.init)
        try format.print(rows) { Self.table(rows) }
    }

    static func table(_ rows: [NodeRow]) -> String {
        Table(headers: ["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"], rows: rows.map(\.cells)).render()
    }
}
