import ClusterStore
import Metrics
import RaftHost
import Testing
@testable import Manager

@Suite struct ManagerMetricsTests {
    private func value(_ families: [MetricFamily], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        families.first { $0.name == name }?.samples.first { sample in
            Dictionary(uniqueKeysWithValues: sample.labels.map { ($0.name, $0.value) }) == labels
        }?.value
    }

    @Test func theFiguresFollowTheStoreAndTheRaftStatus() {
        var harness = Harness(workers: ["w1", "w2"], managers: ["m1"])
        harness.change(node: "w2") { $0.availability = .drain }
        harness.change(node: "w1") { $0.state = .down }
        harness.create("web", mode: .replicated(replicas: 3))
        harness.pass()
        harness.agentsReport()
        let running = harness.store.tasks.count { $0.status.state == .running }
        var statistics = RaftHost.Statistics()
        statistics.proposals = 7
        statistics.syncLatency.observe(0.002)
        let raft = RaftHost.Status(leader: 1, isLeader: true, appliedIndex: 40, commitIndex: 41, term: 3, statistics: statistics)

        let families = ManagerRuntime.metricFamilies(raft: raft, store: harness.store)

        #expect(value(families, "swarm_manager_leader") == 1)
        #expect(value(families, "swarm_raft_term") == 3)
        #expect(value(families, "swarm_raft_commit_index") == 41)
        #expect(value(families, "swarm_raft_applied_index") == 40)
        #expect(value(families, "swarm_raft_proposals_total") == 7)
        #expect(families.first { $0.name == "swarm_raft_fsync_duration_seconds" }?.histograms.first?.histogram.count == 1)
        #expect(running > 0 && value(families, "swarm_manager_tasks", ["state": "running"]) == Double(running))
        #expect(value(families, "swarm_manager_tasks", ["state": "failed"]) == 0)
        #expect(value(families, "swarm_manager_nodes", ["state": "ready", "availability": "active"]) == 1)
        #expect(value(families, "swarm_manager_nodes", ["state": "ready", "availability": "drain"]) == 1)
        #expect(value(families, "swarm_manager_nodes", ["state": "down", "availability": "active"]) == 1)
        #expect(value(families, "swarm_store_objects", ["kind": "service"]) == 1)
        #expect(value(families, "swarm_store_objects", ["kind": "node"]) == 3)
        #expect(value(families, "swarm_store_objects", ["kind": "task"]) == Double(harness.store.tasks.count))
    }
}
