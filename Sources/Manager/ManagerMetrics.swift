import ClusterStore
import Metrics
import RaftHost

extension ManagerRuntime {
    /// What this manager tells a Prometheus scrape: its Raft node and the
    /// cluster as its replica of the store holds it (named as swarmkit names them).
    public func metricFamilies() -> [MetricFamily] {
        Self.metricFamilies(raft: host.currentStatus, store: store.snapshot)
    }

    static func metricFamilies(raft: RaftHost.Status, store: Store) -> [MetricFamily] {
        let statistics = raft.statistics
        return [
            .gauge("swarm_manager_leader", help: "Whether this manager is the Raft leader (1) or not (0).", raft.isLeader ? 1 : 0),
            .gauge("swarm_raft_term", help: "The Raft term this manager is in.", Double(raft.term)),
            .gauge("swarm_raft_commit_index", help: "The highest Raft log index this manager knows committed.", Double(raft.commitIndex)),
            .gauge("swarm_raft_applied_index", help: "The highest Raft log index this manager applied to its store.",
                   Double(raft.appliedIndex)),
            .counter("swarm_raft_proposals_total", help: "Writes this manager put in the Raft log as leader.", Double(statistics.proposals)),
            .counter("swarm_raft_refused_proposals_total", help: "Writes this manager refused (not the leader, or invalid).",
                     Double(statistics.refusedProposals)),
            .counter("swarm_raft_snapshots_total", help: "Raft snapshots written: compactions and snapshots sent by the leader.",
                     Double(statistics.snapshots)),
            MetricFamily("swarm_raft_fsync_duration_seconds", help: "How long each fsync'd write of the Raft log took.",
                         histogram: statistics.syncLatency),
            MetricFamily("swarm_store_objects", help: "Objects in the cluster's store, by kind.", kind: .gauge,
                         samples: ObjectKind.allCases.map { Sample(Double(store.all($0).count), labels: [Label("kind", $0.rawValue)]) }),
            MetricFamily("swarm_manager_tasks", help: "Tasks in the store, by state.", kind: .gauge,
                         samples: tasksByState(store.tasks)),
            MetricFamily("swarm_manager_nodes", help: "Nodes of the cluster, by status and availability.", kind: .gauge,
                         samples: nodesByStatus(store.nodes)),
        ]
    }

    private static func tasksByState(_ tasks: [TaskObject]) -> [Sample] {
        var counts: [TaskState: Int] = [:]
        for task in tasks { counts[task.status.state, default: 0] += 1 }
        return TaskState.allCases.map { Sample(Double(counts[$0] ?? 0), labels: [Label("state", $0.rawValue)]) }
    }

    private static func nodesByStatus(_ nodes: [NodeObject]) -> [Sample] {
        NodeState.allCases.flatMap { state in
            NodeAvailability.allCases.map { availability in
                let count = nodes.count { $0.state == state && $0.availability == availability }
                return Sample(Double(count), labels: [Label("state", state.rawValue), Label("availability", availability.rawValue)])
            }
        }
    }
}
