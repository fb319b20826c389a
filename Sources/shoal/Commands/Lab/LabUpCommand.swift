import Addressing
import ArgumentParser
import Lab
import ShoalAPI

struct LabUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Create N nodes cabled to one switch and start a daemon on each."
    )

    @Option(help: "Number of nodes (1 to 32).")
    var nodes: Int = 3

    @OptionGroup var lab: LabNameOption

    @Option(help: ArgumentHelp("A DNS server the nodes' daemons forward to, IP[:PORT] as seen inside a node (repeatable).",
                               valueName: "IP[:PORT]"))
    var dnsUpstream: [String] = []

    @Option(help: ArgumentHelp("What balances VIPs and published ports in the nodes' daemons (their --lb).",
                               valueName: "auto|ipvs|nftables"))
    var lb: String?

    @Option(help: ArgumentHelp("Where each node's daemon serves Prometheus metrics, inside its own network namespace (their --metrics-addr).",
                               valueName: "ADDR:PORT"))
    var metricsAddr: String?

    func validate() throws {
        guard (1...32).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 32") }
        try Lab.validate(name: lab.name)
        for upstream in dnsUpstream where HostPort(upstream, defaultPort: 53)?.hasIPv4Host != true {
            throw ValidationError("--dns-upstream must be an IPv4 address with an optional :PORT, not '\(upstream)'")
        }
        if let lb { try DaemonCommand.validateLoadBalancer(lb) }
        if let metricsAddr { try DaemonCommand.validateMetricsAddress(metricsAddr) }
    }

    func run() throws {
        try requireRoot("shoal lab up")
        let state = try Lab(name: lab.name).up(nodes: nodes, executable: DaemonLauncher.currentExecutable(),
                                               dnsUpstreams: dnsUpstream, loadBalancer: lb, metricsAddress: metricsAddr)
        print("Lab \(state.name) is up on \(state.subnet) with \(state.nodes.count) nodes:")
        print(LabListCommand.table([state]))
    }
}
