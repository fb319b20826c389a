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
        let hostPorts = Dictionary(uniqueKeysWithValues: plan.services.map { service in
            (service.meta.id, Set(service.ports.filter { $0.mode == .host }.map { HostPort(number: $0.published, transport: $0.protocol) }))
        })
        var load = Load(plan.tasks.values.filter(\.isActive), hostPorts: hostPorts)
        for var task in waiting {
            let nodes = task.nodeID.map { id in plan.nodes.filter { $0.meta.id == id } } ?? plan.nodes
            let available = nodes.filter { $0.state == .ready && $0.availability == .active }
            let roomy = available.filter { load.hasRoom(for: task.spec.resources, on: $0) }
            let satisfying = roomy.filter { Constraint.allMatch(task.spec.constraints, $0) }
            let suitable = satisfying.filter { load.hostPortsAreFree(hostPorts[task.serviceID] ?? [], on: $0) }
            if let node = suitable.min(by: { load.order(task.serviceID, $0, $1) }) {
                task.nodeID = node.meta.id
                task.status = TaskStatus(state: .assigned, timestamp: plan.now, message: "scheduled")
                load.add(task)
            } else {
                let message = Self.noSuitableNode(unavailable: nodes.count - available.count,
                                                  insufficient: available.count - roomy.count,
                                                  unsatisfied: roomy.count - satisfying.count,
                                                  hostPortsInUse: satisfying.count - suitable.count)
                guard task.status.state != .pending || task.status.error != message else { continue }
                task.status = TaskStatus(state: .pending, timestamp: plan.now, message: "pending task scheduling",
                                         error: message)
            }
            plan.update(task)
        }
    }

    /// docker's words, e.g. "no suitable node (1 node not available for new tasks; scheduling constraints not satisfied on 2 nodes)":
    /// each node counted under the first of swarmkit's filters it fails (ready, resources, constraints, host ports).
    static func noSuitableNode(unavailable: Int, insufficient: Int = 0, unsatisfied: Int, hostPortsInUse: Int = 0) -> String {
        func nodes(_ count: Int) -> String { count == 1 ? "1 node" : "\(count) nodes" }
        var reasons: [String] = []
        if unavailable > 0 { reasons.append("\(nodes(unavailable)) not available for new tasks") }
        if insufficient > 0 { reasons.append("insufficient resources on \(nodes(insufficient))") }
        if unsatisfied > 0 { reasons.append("scheduling constraints not satisfied on \(nodes(unsatisfied))") }
        if hostPortsInUse > 0 { reasons.append("host-mode port already in use on \(nodes(hostPortsInUse))") }
        return reasons.isEmpty ? "no suitable node" : "no suitable node (\(reasons.joined(separator: "; ")))"
    }

    /// A port published in host mode: a node's own, one task at a time.
    struct HostPort: Hashable {
        let number: UInt16
        let transport: PublishedPort.TransportProtocol
    }

    /// Active tasks per node: of each service, and in all; what they reserve and the host ports they hold.
    private struct Load {
        /// Each service's host-mode ports.
        let hostPorts: [String: Set<HostPort>]
        var perService: [String: [String: Int]] = [:]
        var total: [String: Int] = [:]
        var reservedNanoCPUs: [String: Int64] = [:]
        var reservedMemoryBytes: [String: Int64] = [:]
        var heldHostPorts: [String: Set<HostPort>] = [:]

        init(_ tasks: [TaskObject], hostPorts: [String: Set<HostPort>]) {
            self.hostPorts = hostPorts
            for task in tasks where task.nodeID != nil { add(task) }
        }

        mutating func add(_ task: TaskObject) {
            guard let nodeID = task.nodeID else { return }
            perService[task.serviceID, default: [:]][nodeID, default: 0] += 1
            total[nodeID, default: 0] += 1
            reservedNanoCPUs[nodeID, default: 0] += task.spec.resources.reservedNanoCPUs
            reservedMemoryBytes[nodeID, default: 0] += task.spec.resources.reservedMemoryBytes
            heldHostPorts[nodeID, default: []].formUnion(hostPorts[task.serviceID] ?? [])
        }

        func hostPortsAreFree(_ ports: Set<HostPort>, on node: NodeObject) -> Bool {
            ports.isDisjoint(with: heldHostPorts[node.meta.id] ?? [])
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
