import ClusterStore
import ShoalAPI

extension Store {
    /// The swarm's heartbeat period, in seconds (the default until the cluster object is written).
    var heartbeatPeriodSeconds: Double { cluster?.heartbeatPeriodSeconds ?? Defaults.heartbeatPeriodSeconds }

    /// How many ended tasks of a slot the swarm keeps.
    var taskHistoryLimit: Int { cluster?.taskHistoryLimit ?? Defaults.taskHistoryLimit }
}
