import Addressing
import Logging
import Network
import ShoalAPI

/// Everything `shoal daemon` is told by its flags; there is no config file.
public struct DaemonConfiguration: Sendable {
    public var dataDirectory: String
    public var socketPath: String
    public var listenAddress: String
    public var advertiseAddress: String?
    public var logLevel: Logger.Level
    /// Caps daemon.log (when stderr is a file) and each task's output.
    public var logLimits: RotatingLog.Limits
    /// Where the tasks' DNS server forwards names the swarm does not know
    /// (`--dns-upstream`); empty: the node's own resolvers.
    public var dnsUpstreams: [HostPort]
    /// `--lb`: which backend balances VIPs and published ports (auto: IPVS where the kernel has it).
    public var loadBalancer: LoadBalancerBackend.Request
    /// `--metrics-addr`: where Prometheus text is served at /metrics (nil: nowhere, as docker's default).
    public var metricsAddress: HostPort?

    public init(dataDirectory: String = Defaults.dataDirectory,
                socketPath: String = Defaults.socketPath,
                listenAddress: String = Defaults.listenAddress,
                advertiseAddress: String? = nil,
                logLevel: Logger.Level = .info, logLimits: RotatingLog.Limits = .standard, dnsUpstreams: [HostPort] = [],
                loadBalancer: LoadBalancerBackend.Request = .auto, metricsAddress: HostPort? = nil) {
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath
        self.listenAddress = listenAddress
        self.advertiseAddress = advertiseAddress
        self.logLevel = logLevel
        self.logLimits = logLimits
        self.dnsUpstreams = dnsUpstreams
        self.loadBalancer = loadBalancer
        self.metricsAddress = metricsAddress
    }
}
