#if canImport(Glibc)
import Glibc
#endif
import Addressing

/// One place for each fact shoal shares between its commands and its daemon.
public enum Defaults {
    /// shoal's version, shown by `shoal version` and as ENGINE VERSION.
    public static let version = "0.1.0"
    public static let dataDirectory = "/var/lib/shoal"
    public static let socketPath = "/run/shoal/shoal.sock"
    /// The cluster port: Raft, worker sessions and forwarded writes.
    public static let clusterPort = 2377
    public static let listenAddress = "0.0.0.0:\(clusterPort)"
    /// Environment variable that names the daemon to talk to, like -H.
    public static let hostEnvironmentVariable = "SHOAL_HOST"
    /// Where `shoal lab` keeps its namespaces, sockets and data dirs.
    public static let labRoot = "/var/lib/shoal-lab"
    public static let labRootEnvironmentVariable = "SHOAL_LAB_ROOT"
    /// The lab root this process uses: `SHOAL_LAB_ROOT`, or `labRoot`.
    public static var labRootInEffect: String {
        if let value = getenv(labRootEnvironmentVariable), value.pointee != 0 { return String(cString: value) }
        return labRoot
    }
    /// The log a daemon started in the background writes, under its data dir.
    public static let daemonLogName = "daemon.log"
    /// How long `init`, `join` and `lab up` wait for a daemon they started.
    public static let daemonStartTimeoutSeconds = 15.0
    /// How often nodes heartbeat to the managers (`init --heartbeat-period`), in seconds.
    public static let heartbeatPeriodSeconds = 1.0
    /// Tasks of a slot kept after they ended (docker's --task-history-limit).
    public static let taskHistoryLimit = 5
    /// Where networks take their subnets (`init --default-addr-pool`), and the
    /// length of each (`--default-addr-pool-mask-length`): docker's.
    public static let addressPools = ["10.0.0.0/8"].compactMap { IPv4Network($0) }
    public static let addressPoolMaskLength = 24
}
