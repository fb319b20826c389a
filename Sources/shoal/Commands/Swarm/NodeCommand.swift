import ArgumentParser
import ShoalAPI

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Manage swarm nodes.",
        subcommands: [NodeListCommand.self, NodePendingCommand.self])
}

struct NodeListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List nodes in the swarm.")

    @Flag(name: .shortAndLong, help: "Only display IDs.") var quiet = false
    @OptionGroup var format: FormatOption

    func run() throws {
        let nodes: [NodeSummary] = try SwarmClient.daemon(startingIfNeeded: false).get("/nodes")
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

/// `node ps|inspect|promote|demote|update|drain|pause|activate|rm` until they land.
struct NodePendingCommand: PendingCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps", abstract: "(and inspect, promote, demote, update, drain, pause, activate, rm: not yet available)",
        aliases: ["inspect", "promote", "demote", "update", "drain", "pause", "activate", "rm"])
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
}

private extension String {
    var capitalized: String { prefix(1).uppercased() + dropFirst() }
}
