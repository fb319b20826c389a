import ArgumentParser
import ShoalAPI

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what the daemon is and where it keeps its state."
    )

    @OptionGroup var format: FormatOption

    func run() throws {
        let info = try HostOption.client().get("/info", as: DaemonInfo.self)
        if format.isJSON { return try printJSON(info) }
        let rows: [(String, String)] = [
            ("Version", info.version),
            ("Hostname", info.hostname),
            ("Node ID", info.nodeID ?? "(not in a swarm)"),
            ("Data Dir", info.dataDirectory),
            ("Socket", info.socketPath),
            ("Listen Address", info.listenAddress),
            ("Advertise Address", info.advertiseAddress ?? "(automatic)"),
            ("PID", String(info.pid)),
        ] + [
            info.certExpirySeconds.map { ("Cert Expiry", CertificateExpiry.text($0)) },
            info.certificateExpiresAt.map { ("Node Certificate Expires", "\($0)") },
            info.loadBalancer.map { ("Load Balancer", $0) },
            info.swarm.map { ("Swarm", $0.state) },
            info.swarm.flatMap { $0.state == "active" ? ("Is Manager", String($0.isManager)) : nil },
            info.swarm?.managers.map { ("Managers", String($0)) },
            info.swarm?.nodes.map { ("Nodes", String($0)) },
        ].compactMap { $0 }
        let width = (rows.map(\.0.count).max() ?? 0) + 2
        for (label, value) in rows {
            print(label + ":" + String(repeating: " ", count: width - label.count - 1) + value)
        }
    }
}
