import Addressing
import ArgumentParser
import FoundationEssentials
import ShoalAPI

struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage overlay networks.",
        subcommands: [NetworkCreateCommand.self, NetworkListCommand.self, NetworkInspectCommand.self, NetworkRemoveCommand.self])
}

struct NetworkCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a network.")
    @Option(name: .shortAndLong, help: "Driver to manage the network (overlay).") var driver = "overlay"
    @Option(help: "Subnet in CIDR format, e.g. 10.20.0.0/24 (default: the next free one of the swarm's pools).")
    var subnet: String?
    @Option(help: "Gateway of the subnet (default: its first address).") var gateway: String?
    @Flag(help: "Enable manual container attachment.") var attachable = false
    @Option(help: "Label KEY=VALUE (repeatable).") var label: [String] = []
    @Argument(help: "Network name.") var name: String

    func run() throws {
        let request = NetworkCreateRequest(
            name: name, driver: driver,
            subnet: try subnet.map { text in
                guard let subnet = IPv4Network(text) else {
                    throw ShoalError("invalid subnet \(text)", hint: "use CIDR form, e.g. 10.20.0.0/24")
                }
                return subnet
            },
            gateway: try gateway.map { text in
                guard let gateway = IPv4Address(text) else { throw ShoalError("invalid gateway \(text)", hint: "use an IPv4 address") }
                return gateway
            },
            attachable: attachable, labels: try Labels.parse(label))
        let created: ServiceCreated = try SwarmClient.daemon(startingIfNeeded: false).post("/networks/create", request)
        print(created.id)
    }
}

struct NetworkListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks.", aliases: ["list"])
    @Flag(name: .shortAndLong, help: "Only display network IDs.") var quiet = false
    @Flag(help: "Do not truncate the output.") var noTrunc = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Filter output: driver, id, label, name or scope=VALUE (repeatable).",
                                                    valueName: "filter"))
    var filter: [String] = []
    @OptionGroup var format: ListFormatOption

    func run() throws {
        let filters = try ListFilter(filter, keys: ListFilter.networkKeys)
        let networks = try (SwarmClient.daemon(startingIfNeeded: false).get("/networks") as [NetworkDetail]).filter(filters.accepts)
        let rows = networks.map { NetworkRow($0, fullID: noTrunc) }
        if quiet { return rows.forEach { print($0.id) } }
        try format.print(rows) { Table(headers: ["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows: rows.map(\.cells)).render() }
    }
}

struct NetworkInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more networks.")
    @OptionGroup var format: InspectFormatOption
    @Argument(help: "Network names or ids.", completion: NameCompletion.networks) var networks: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        try printInspected(networks, format: format) { network -> NetworkDetail in
            try client.post("/networks/inspect", NetworkReferenceRequest(network: network))
        }
    }
}

struct NetworkRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more networks.", aliases: ["remove"])
    @Argument(help: "Network names or ids.", completion: NameCompletion.networks) var networks: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        for network in networks {
            let _: MessageResponse = try client.post("/networks/remove", NetworkReferenceRequest(network: network))
            print(network)
        }
    }
}

/// `--label KEY=VALUE` options.
enum Labels {
    static func parse(_ options: [String]) throws -> [String: String] {
        var labels: [String: String] = [:]
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first, !key.isEmpty else { throw ShoalError("invalid label \(option)", hint: "use KEY=VALUE") }
            labels[String(key)] = parts.count > 1 ? String(parts[1]) : ""
        }
        return labels
    }
}
