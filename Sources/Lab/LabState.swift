import Addressing

/// What `shoal lab up` made, kept in `<lab dir>/state.json` so that `ls`,
/// `exec`, `-H NODE` and `down` find it again.
public struct LabState: Codable, Equatable, Sendable {
    public struct Node: Codable, Equatable, Sendable {
        public var name: String
        public var address: IPv4Address
        /// The daemon's pid, once started.
        public var pid: Int32?
        public var socketPath: String
        public var dataDirectory: String
        public var networkNamespace: String
        public var utsNamespace: String
    }

    public var name: String
    /// The lab network, e.g. 172.31.240.0/24; node i has its i-th address.
    public var subnet: String
    public var switchNamespace: String
    public var nodes: [Node]
    /// `lab up --dns-upstream`: passed to every node's daemon (nil: their default).
    public var dnsUpstreams: [String]?
    /// `lab up --lb`: passed to every node's daemon (nil: their default).
    public var loadBalancer: String?
    /// `lab up --metrics-addr`: passed to every node's daemon, each serving in its own network namespace.
    public var metricsAddress: String?

    /// The options every node's daemon gets beyond its own addresses and paths.
    var daemonOptions: [String] {
        (dnsUpstreams ?? []).flatMap { ["--dns-upstream", $0] } + (loadBalancer.map { ["--lb", $0] } ?? [])
            + (metricsAddress.map { ["--metrics-addr", $0] } ?? [])
    }
}
