import ClusterStore
import FoundationEssentials
import ShoalAPI

/// Keeps every service at its desired tasks: `replicas` slots, or one task
/// per eligible node for a global service. Replaces tasks that ended (per
/// the restart policy), sit on a node that is down or drained, or run an
/// older spec (one at a time); prunes each slot's history; removes the
/// tasks of removed services.
struct Orchestrator {
    var historyLimit = Defaults.taskHistoryLimit

    func reconcile(_ plan: inout TaskPlan) {
        let services = Dictionary(uniqueKeysWithValues: plan.services.map { ($0.meta.id, $0) })
        let byService = Dictionary(grouping: plan.tasks.values, by: \.serviceID)
        for (serviceID, tasks) in byService where services[serviceID] == nil {
            removeTasks(tasks, of: serviceID, in: &plan)
        }
        for service in plan.services.sorted(by: { $0.name < $1.name }) {
            let tasks = byService[service.meta.id] ?? []
            switch service.mode {
            case .replicated(let replicas): reconcileReplicated(service, replicas: replicas, tasks: tasks, in: &plan)
            case .global: reconcileGlobal(service, tasks: tasks, in: &plan)
            }
        }
        // History is cut after replacements exist, so a slot never keeps more than the limit.
        let slots = Dictionary(grouping: plan.tasks.values, by: { "\($0.serviceID)/\($0.slot)/\($0.slot == 0 ? $0.nodeID ?? "" : "")" })
        for history in slots.values { prune(history.sorted(by: TaskPlan.newestFirst), in: &plan) }
    }

    private func reconcileReplicated(_ service: ServiceObject, replicas: Int, tasks: [TaskObject], in plan: inout TaskPlan) {
        let bySlot = Dictionary(grouping: tasks, by: \.slot)
        // A rolling update replaces one task at a time: the next waits until the last replacement runs.
        var updating = Self.isUpdating(service, tasks)
        for slot in Set(bySlot.keys).union(replicas > 0 ? Set(1...replicas) : []).sorted() {
            let history = (bySlot[slot] ?? []).sorted(by: TaskPlan.newestFirst)
            if slot > replicas {
                for task in history where task.desiredState <= .running { plan.shutDown(task) }
            } else {
                reconcileSlot(service, history: history, in: &plan, replace: { plan, attempt in
                    plan.create(for: service, slot: slot, attempt: attempt)
                }, mayUpdate: &updating)
            }
        }
    }

    private func reconcileGlobal(_ service: ServiceObject, tasks: [TaskObject], in plan: inout TaskPlan) {
        let byNode = Dictionary(grouping: tasks, by: { $0.nodeID ?? "" })
        var updating = Self.isUpdating(service, tasks)
        for node in plan.nodes.sorted(by: { $0.hostname < $1.hostname }) {
            let history = (byNode[node.meta.id] ?? []).sorted(by: TaskPlan.newestFirst)
            let keeps = node.state != .down && node.availability != .drain && Constraint.allMatch(service.spec.constraints, node)
            if !keeps {
                for task in history where task.desiredState <= .running { plan.shutDown(task) }
            } else if history.contains(where: { $0.desiredState <= .running }) || node.availability == .active {
                reconcileSlot(service, history: history, in: &plan, replace: { plan, attempt in
                    plan.create(for: service, slot: 0, nodeID: node.meta.id, attempt: attempt)
                }, mayUpdate: &updating)
            }
        }
        // Tasks on nodes that left the swarm.
        let known = Set(plan.nodes.map(\.meta.id))
        for (nodeID, history) in byNode where !known.contains(nodeID) {
            for task in history { plan.delete(task) }
        }
    }

    /// A task of the current spec is still starting: a rolling update waits for it.
    private static func isUpdating(_ service: ServiceObject, _ tasks: [TaskObject]) -> Bool {
        tasks.contains { $0.desiredState <= .running && $0.generation == service.generation && $0.status.state < .running }
    }

    /// One slot: keep its current task, or replace it.
    private func reconcileSlot(_ service: ServiceObject, history: [TaskObject], in plan: inout TaskPlan,
                               replace: (inout TaskPlan, _ attempt: Int) -> Void, mayUpdate updating: inout Bool) {
        guard let current = history.first(where: { $0.desiredState <= .running }) else {
            // Nothing runs here: a new slot, or one whose last task waits out its restart delay.
            guard let last = history.first else { return replace(&plan, 0) }
            if let attempt = restartAttempt(after: last, policy: service.spec.restart, now: plan.now) { replace(&plan, attempt) }
            return
        }
        let node = plan.node(current.nodeID)
        if current.status.state.isTerminal {
            plan.shutDown(current)
            if let attempt = restartAttempt(after: current, policy: service.spec.restart, now: plan.now) { replace(&plan, attempt) }
        } else if current.nodeID != nil && (node == nil || node?.state == .down) {
            plan.shutDown(current, message: "node is down")
            replace(&plan, current.attempt)
        } else if node?.availability == .drain && service.mode != .global {
            plan.shutDown(current, message: "node is drained")
            replace(&plan, current.attempt)
        } else if current.generation < service.generation && !updating {
            updating = true
            plan.shutDown(current, message: "replaced by the service update")
            replace(&plan, 0)
        }
    }

    /// The attempt number of the task that replaces `ended`, once its restart
    /// delay is over; nil when the policy says no restart, or not yet.
    private func restartAttempt(after ended: TaskObject, policy: RestartPolicy, now: Date) -> Int? {
        switch ended.status.state {
        case .complete, .failed, .rejected:
            switch policy.condition {
            case .none: return nil
            case .onFailure where ended.status.state == .complete: return nil
            default: break
            }
            if policy.maxAttempts > 0 && ended.attempt >= policy.maxAttempts { return nil }
            guard now.timeIntervalSince(ended.status.timestamp) >= policy.delaySeconds else { return nil }
            return ended.attempt + 1
        default:
            // Shut down by the managers (scale, drain, a down node): its replacement is due now.
            return ended.attempt
        }
    }

    /// Keeps the newest `historyLimit` tasks of a slot; older ones go once they have stopped.
    private func prune(_ history: [TaskObject], in plan: inout TaskPlan) {
        for task in history.dropFirst(historyLimit) where task.desiredState > .running {
            if task.status.state.isTerminal || plan.node(task.nodeID)?.state != .ready { plan.delete(task) }
        }
    }

    /// A removed service's tasks stop, then go; those on nodes that are down or gone go at once.
    private func removeTasks(_ tasks: [TaskObject], of serviceID: String, in plan: inout TaskPlan) {
        for task in tasks {
            let nodeUp = plan.node(task.nodeID)?.state == .ready
            if task.status.state.isTerminal || task.status.state < .assigned || !nodeUp {
                plan.delete(task)
            } else if task.desiredState <= .running {
                plan.shutDown(task, message: "service removed")
            }
        }
    }
}
