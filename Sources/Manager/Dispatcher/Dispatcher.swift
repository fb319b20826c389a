import Addressing
import ClusterStore
import ClusterWire
import Logging
import NIOConcurrencyHelpers
import RaftHost
import ShoalAPI
import Transport

/// What happens when a node dies, start to end. Every node heartbeats to
/// the managers once per heartbeat period (a worker from its
/// `WorkerSession`, a manager from `run` here), carrying the statuses of
/// its tasks. The leader notes when it last heard from each node
/// (`NodeLiveness`): a node that missed 3 heartbeats is written Down (one
/// heard from again, Ready). That write wakes the next pass of the
/// `TaskLoop`: the orchestrator shuts the down node's tasks down ("node is
/// down") and creates their replacements, the scheduler places those on
/// nodes that are up, and `dispatch` hands every node its new list.
/// Statuses agents report enter through `TaskIntake`.
final class Dispatcher: Sendable {
    private let liveness = NodeLiveness()
    private let agent: any NodeAgent
    private let taskLoop: TaskLoop
    /// The networks each node last said it uses, until the leader writes them.
    private let occupied = NIOLockedValueBox<[String: [IPv4Network]]>([:])
    private let reportedResources = NIOLockedValueBox<[String: NodeResources]>([:])
    /// What each node was last sent, and when: unchanged lists are re-sent once per second.
    private let delivered = NIOLockedValueBox<[String: (ClusterProtocol.Assignments, ContinuousClock.Instant)]>([:])

    init(agent: any NodeAgent, taskLoop: TaskLoop) {
        self.agent = agent
        self.taskLoop = taskLoop
    }

    /// A node's heartbeat came in.
    func heard(from nodeID: String, _ heartbeat: ClusterProtocol.Heartbeat) {
        liveness.heard(from: nodeID)
        taskLoop.receive(heartbeat.reports, from: nodeID)
        if let networks = heartbeat.occupied {
            occupied.withLockedValue { $0[nodeID] = Array(networks.prefix(ClusterProtocol.Heartbeat.maximumOccupied)) }
        }
        // What no machine has is not placed against.
        if let resources = heartbeat.resources, resources.isValid {
            reportedResources.withLockedValue { $0[nodeID] = resources }
        }
    }

    /// This node's agent changed a task's status: the leader takes it in; a
    /// follower tells the other managers at once (the leader among them).
    func report(_ reports: [TaskReport], _ runtime: ManagerRuntime) {
        if runtime.host.currentStatus.isLeader { return taskLoop.receive(reports, from: runtime.identity.nodeID) }
        let frame = ClusterProtocol.heartbeat(.init(reports: reports))
        for node in runtime.store.snapshot.nodes where node.role == .manager && node.meta.id != runtime.identity.nodeID {
            runtime.transport.send(frame, to: node.meta.id, at: node.advertiseAddress)
        }
    }

    /// Hands every node its assignments as `store` has them after a pass: a
    /// changed list at once, an unchanged one again once a second (a lost frame is made good).
    func dispatch(_ store: Store, _ runtime: ManagerRuntime) {
        let now = ContinuousClock.now
        for node in store.nodes {
            let next = NodeAssignments.make(for: node.meta.id, in: store)
            let due = delivered.withLockedValue { delivered in
                guard let (last, at) = delivered[node.meta.id], last == next, now - at < .seconds(1) else {
                    delivered[node.meta.id] = (next, now)
                    return true
                }
                return false
            }
            guard due else { continue }
            if node.meta.id == runtime.identity.nodeID {
                agent.deliver(next)
            } else {
                runtime.transport.send(ClusterProtocol.frame(ClusterProtocol.assignments, next), to: node.meta.id,
                                       at: node.advertiseAddress)
            }
        }
    }

    /// This manager no longer leads: what it delivered is forgotten, so it
    /// delivers everything again when it leads next.
    func forgetDeliveries() { delivered.withLockedValue { $0 = [:] } }

    /// Once per heartbeat period until cancelled: heartbeat to the other
    /// managers and, as leader, tell the workers who the managers are and
    /// write the nodes that went down or came back. `demoted` is called
    /// when the store says this node is a worker now.
    func run(_ runtime: ManagerRuntime, demoted: @Sendable () -> Void) async {
        let selfID = runtime.identity.nodeID
        while !Task.isCancelled {
            let snapshot = runtime.store.snapshot
            if snapshot.nodes.first(where: { $0.meta.id == selfID })?.role == .worker {
                demoted()
                return
            }
            let periodSeconds = snapshot.heartbeatPeriodSeconds
            let heartbeat = ClusterProtocol.Heartbeat(reports: await agent.reports(), occupied: await agent.occupiedNetworks(),
                                                      resources: .host)
            let status = runtime.host.currentStatus
            if status.isLeader { heard(from: selfID, heartbeat) }
            let frame = ClusterProtocol.heartbeat(heartbeat)
            for node in snapshot.nodes where node.role == .manager && node.meta.id != selfID {
                runtime.transport.send(frame, to: node.meta.id, at: node.advertiseAddress)
            }
            var changes = liveness.statusChanges(nodes: snapshot.nodes, selfID: selfID, isLeader: status.isLeader,
                                                 period: Limits.heartbeatPeriod(clamping: periodSeconds))
            if status.isLeader {
                changes = Self.withReachability(changes, nodes: snapshot.nodes, status: status, selfID: selfID)
                changes = withReportedDescriptions(changes, nodes: snapshot.nodes)
                let session = ClusterProtocol.frame(ClusterProtocol.managers, ClusterProtocol.Session(
                    managers: runtime.managers(), heartbeatPeriodSeconds: periodSeconds))
                for node in snapshot.nodes where node.role == .worker {
                    runtime.transport.send(session, to: node.meta.id, at: node.advertiseAddress)
                }
            }
            if !changes.isEmpty {
                do {
                    _ = try await runtime.propose(changes.map { .update(.node($0)) })
                } catch {
                    runtime.logger.debug("node status update deferred: \(error)")
                }
            }
            try? await Task.sleep(for: Limits.heartbeatPeriod(clamping: periodSeconds))
        }
    }

    /// A node that just joined counts as heard from: it is not judged on silence before its first heartbeat.
    func admitted(_ nodeID: String) { liveness.heard(from: nodeID) }

    /// Adds to `changes` every node whose networks or resources changed since the store's copy.
    private func withReportedDescriptions(_ changes: [NodeObject], nodes: [NodeObject]) -> [NodeObject] {
        let networks = occupied.withLockedValue { $0 }
        let resources = reportedResources.withLockedValue { $0 }
        var result = Dictionary(uniqueKeysWithValues: changes.map { ($0.meta.id, $0) })
        for node in nodes {
            var updated = result[node.meta.id] ?? node
            if let reported = networks[node.meta.id] { updated.occupiedNetworks = reported }
            if let reported = resources[node.meta.id] { updated.resources = reported }
            if updated != (result[node.meta.id] ?? node) { result[node.meta.id] = updated }
        }
        return Array(result.values)
    }

    /// Adds to `changes` every manager whose reachability, as the leader's Raft sees it, moved.
    static func withReachability(_ changes: [NodeObject], nodes: [NodeObject], status: RaftHost.Status,
                                 selfID: String) -> [NodeObject] {
        var result = Dictionary(uniqueKeysWithValues: changes.map { ($0.meta.id, $0) })
        for node in nodes where node.role == .manager && node.meta.id != selfID {
            guard let id = node.raftID, let peer = status.peers[id] else { continue }
            var updated = result[node.meta.id] ?? node
            if updated.managerReachable != peer.recentlyActive {
                updated.managerReachable = peer.recentlyActive
                result[node.meta.id] = updated
            }
        }
        return Array(result.values)
    }
}
