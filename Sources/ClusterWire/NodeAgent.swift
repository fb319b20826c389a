import Addressing
import ClusterStore

/// A node's agent as its session (worker or manager) sees it: what the
/// leader assigns goes in, task statuses and output come out. The manager
/// speaks to the agent of its own node through this, never importing Agent.
public protocol NodeAgent: Sendable {
    /// The leader's newest complete list for this node (older ones are moot).
    func deliver(_ assignments: ClusterProtocol.Assignments)
    /// The status of every task this node knows, for a heartbeat.
    func reports() async -> [TaskReport]
    /// The networks this node uses itself (addresses, routes, resolvers): no overlay may take them.
    func occupiedNetworks() async -> [IPv4Network]
    /// The output a manager asked for.
    func logs(_ request: ClusterProtocol.LogsRequest) async -> ClusterProtocol.LogsAnswer
}
