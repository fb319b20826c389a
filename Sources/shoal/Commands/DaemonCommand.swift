import Addressing
import ArgumentParser
import Daemon
import Logging
import Network
import ShoalAPI

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the shoal daemon in the foreground (what the systemd unit runs)."
    )

    @Option(help: "Directory for the node's state (created mode 0700).")
    var dataDir: String = Defaults.dataDirectory

    @Option(help: "Unix socket of the local API (mode 0600).")
    var socket: String = Defaults.socketPath

    @Option(help: "Address and port for cluster traffic.")
    var listenAddr: String = Defaults.listenAddress

    @Option(help: "Address other nodes reach this one at: an interface name or IP[:PORT].")
    var advertiseAddr: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(help: "Largest size of daemon.log (when stderr is a file) and of each task's output log before it rotates, e.g. 10m, 512k.")
    var logMaxSize: String = "10m"

    @Option(help: "How many files (the current one and rotated ones) each of those logs keeps.")
    var logMaxFile: Int = 3

    @Option(help: ArgumentHelp("A DNS server for the names the swarm does not know, IP[:PORT] (repeatable; default: the host's resolvers).",
                               valueName: "IP[:PORT]"))
    var dnsUpstream: [String] = []

    @Option(help: ArgumentHelp("What balances VIPs and published ports: ipvs, nftables, or auto (IPVS where the kernel has it).",
                               valueName: "auto|ipvs|nftables"))
    var lb: String = "auto"

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://ADDR:PORT/metrics (off by default).", valueName: "ADDR:PORT"))
    var metricsAddr: String?

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        guard dataDir.hasPrefix("/"), socket.hasPrefix("/") else {
            throw ValidationError("--data-dir and --socket must be absolute paths")
        }
        guard HostPort(listenAddr)?.hasIPv4Host == true else {
            throw ValidationError("--listen-addr must be ADDRESS:PORT, not '\(listenAddr)'")
        }
        guard Self.bytes(logMaxSize) != nil else {
            throw ValidationError("--log-max-size must be a size from 1k to 1g, e.g. 10m, not '\(logMaxSize)'")
        }
        guard (1...100).contains(logMaxFile) else { throw ValidationError("--log-max-file must be 1 to 100") }
        for upstream in dnsUpstream where HostPort(upstream, defaultPort: 53)?.hasIPv4Host != true {
            throw ValidationError("--dns-upstream must be an IPv4 address with an optional :PORT, not '\(upstream)'")
        }
        guard dnsUpstream.count <= 3 else { throw ValidationError("--dns-upstream can be given 3 times at most, as resolv.conf's nameservers") }
        try Self.validateLoadBalancer(lb)
        if let metricsAddr { try Self.validateMetricsAddress(metricsAddr) }
    }

    static func validateMetricsAddress(_ address: String) throws {
        guard let hostPort = HostPort(address), hostPort.hasIPv4Host, hostPort.port > 0 else {
            throw ValidationError("--metrics-addr must be an IPv4 ADDRESS:PORT, e.g. 127.0.0.1:9323, not '\(address)'")
        }
    }

    static func validateLoadBalancer(_ lb: String) throws {
        guard LoadBalancerBackend.Request(rawValue: lb) != nil else {
            throw ValidationError("--lb must be auto, ipvs or nftables, not '\(lb)'")
        }
    }

    func run() throws {
        try requireRoot("shoal daemon")
        try Daemon.run(DaemonConfiguration(
            dataDirectory: dataDir, socketPath: socket, listenAddress: listenAddr,
            advertiseAddress: advertiseAddr, logLevel: Logger.Level(rawValue: logLevel) ?? .info,
            logLimits: RotatingLog.Limits(maximumBytes: Self.bytes(logMaxSize) ?? RotatingLog.Limits.standard.maximumBytes,
                                          maximumFiles: logMaxFile),
            dnsUpstreams: dnsUpstream.compactMap { HostPort($0, defaultPort: 53) },
            loadBalancer: LoadBalancerBackend.Request(rawValue: lb) ?? .auto,
            metricsAddress: metricsAddr.flatMap { HostPort($0) }))
    }

    /// "10m", "512k", "1g" or a number of bytes, within 1 KiB...1 GiB.
    static func bytes(_ text: String) -> Int? { ByteSize.parse(text, range: 1 << 10...1 << 30) }
}
