import ClusterStore
import ShoalAPI

/// Places new tasks that have their network addresses: a node must be ready,
/// active, have room for the task's reservations (its reported CPUs and memory
/// less what its tasks reserve) and satisfy the service's constraints; among
/// those, the one with the fewest tasks of the service, then the fewest tasks
/// overall. A task no node can take stays pending with docker's reason.
struct Scheduler {
    func schedule(_ plan: inout TaskPlan) {
        let waiting = plan.tasks.values
            .filter { $0.desiredState <= .running && $0.status.state < .assigned && Allocator.isAttached($0) }
            .sorted { ($0.serviceName, $0.slot, $0.meta.id) < ($1.serviceName, $1.slot, $1.meta.id) }
        guard !waiting.isEmpty else { return }
        var load = Load(plan.tasks.values.filter(\.isActive))
        for var task in waiting {
            let nodes = task.nodeID.map { id in plan.nodes.filter { $0.meta.id == id } } ?? plan.nodes
            let available = nodes.filter { $0.state == .ready && $0.availability == .active }
            let roomy = available.filter { load.hasRoom(for: task.spec.resources, on: $0) }
            let suitable = roomy.filter { Constraint.allMatch(task.spec.constraints, $0) }
            if let node = suitable.min(by: { load.order(task.serviceID, $0, $1) }) {
                task.nodeID = node.meta.id
                task.status = TaskStatus(state: .assigned, timestamp: plan.now, message: "scheduled")
                load.add(task)
            } else {
                let message = Self.noSuitableNode(unavailable: nodes.count - available.count,
                                                  insufficient: available.count - roomy.count,
                                                  unsatisfied: roomy.count - suitable.count)
                guard task.status.state != .pending || task.status.error != message else { continue }
                task.status = TaskStatus(state: .pending, timestamp: plan.now, message: "pending task scheduling",
                                         error: message)
            }
            plan.update(task)
        }
    }

    /// docker's words, e.g. "no suitable node (1 node not available for new tasks; scheduling constraints not satisfied on 2 nodes)":
    /// each node counted under the first of swarmkit's filters it fails (ready, resources, constraints).
    static func noSuitableNode(unavailable: Int, insufficient: Int = 0, unsatisfied: Int) -> String {
        func nodes(_ count: Int) -> String { count == 1 ? "1 node" : "\(count) nodes" }
        var reasons: [String] = []
        if unavailable > 0 { reasons.append("\(nodes(unavailable)) not available for new tasks") }
        if insufficient > 0 { reasons.append("insufficient resources on \(nodes(insufficient))") }
        if unsatisfied > 0 { reasons.append("scheduling constraints not satisfied on \(nodes(unsatisfied))") }
        return reasons.isEmpty ? "no suitable node" : "no suitable node (\(reasons.joined(separator: "; ")))"
    }

    /// Active tasks per node: of each service, and in all; and what they reserve.
    private struct Load {
        var perService: [String: [String: Int]] = [:]
        var total: [String: Int] = [:]
        var reservedNanoCPUs: [String: Int64] = [:]
        var reservedMemoryBytes: [String: Int64] = [:]

        init(_ tasks: [TaskObject]) {
            for task in tasks where task.nodeID != nil { add(task) }
        }

        mutating func add(_ task: TaskObject) {
            guard let nodeID = task.nodeID else { return }
            perService[task.serviceID, default: [:]][nodeID, default: 0] += 1
            total[nodeID, default: 0] += 1
            reservedNanoCPUs[nodeID, default: 0] += task.spec.resources.reservedNanoCPUs
            reservedMemoryBytes[nodeID, default: 0] += task.spec.resources.reservedMemoryBytes
        }

        /// Whether `node`'s CPUs and memory, less its tasks' reservations, hold `resources`'
        /// (a task reserving nothing fits anywhere; a node that reported nothing has no room to reserve).
        func hasRoom(for resources: Resources, on node: NodeObject) -> Bool {
            guard resources.hasReservations else { return true }
            guard let capacity = node.resources else { return false }
            let id = node.meta.id
            return resources.reservedNanoCPUs <= capacity.nanoCPUs - reservedNanoCPUs[id, default: 0]
                && resources.reservedMemoryBytes <= capacity.memoryBytes - reservedMemoryBytes[id, default: 0]
        }

        func order(_ serviceID: String, _ lhs: NodeObject, _ rhs: NodeObject) -> Bool {
            func key(_ node: NodeObject) -> (Int, Int, String) {
                (perService[serviceID]?[node.meta.id] ?? 0, total[node.meta.id] ?? 0, node.hostname)
            }
            return key(lhs) < key(rhs)
        }
    }
}
