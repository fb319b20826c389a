import ClusterStore
import FoundationEssentials

/// The tasks as one leader pass changes them: the dispatcher, the
/// orchestrator, the allocator and the scheduler each work on what the one before decided,
/// and the pass ends in one batch of writes, each against the version read.
struct TaskPlan {
    let store: Store
    let now: Date
    private let newID: () -> String
    private(set) var tasks: [String: TaskObject]
    private var created: Set<String> = []
    private var changed: Set<String> = []
    private var deleted: [String: UInt64] = [:]
    /// Services this pass changed (their virtual IPs), by id.
    private var changedServices: [String: ServiceObject] = [:]
    /// Networks this pass changed (the ingress network's node addresses), by id.
    private var changedNetworks: [String: NetworkObject] = [:]

    init(store: Store, now: Date, newID: @escaping () -> String) {
        self.store = store
        self.now = now
        self.newID = newID
        tasks = Dictionary(uniqueKeysWithValues: store.tasks.map { ($0.meta.id, $0) })
    }

    var nodes: [NodeObject] { store.nodes }
    var services: [ServiceObject] { store.services.map { changedServices[$0.meta.id] ?? $0 } }

    /// A service as this pass changes it, written against the version read.
    mutating func update(_ service: ServiceObject) { changedServices[service.meta.id] = service }
    var networks: [NetworkObject] { store.networks.map { changedNetworks[$0.meta.id] ?? $0 } }
    /// A network as this pass changes it, written against the version read.
    mutating func update(_ network: NetworkObject) { changedNetworks[network.meta.id] = network }
    func node(_ id: String?) -> NodeObject? { id.flatMap { id in store.nodes.first { $0.meta.id == id } } }

    /// A new task of `service` for `slot` (or, for a global service, on `nodeID`).
    mutating func create(for service: ServiceObject, slot: Int, nodeID: String? = nil, attempt: Int = 0) {
        let id = newID()
        tasks[id] = TaskObject(meta: ObjectMeta(id: id, createdAt: now, updatedAt: now), serviceID: service.meta.id,
                               serviceName: service.name, slot: slot, nodeID: nodeID, spec: service.spec,
                               generation: service.generation,
                               status: TaskStatus(state: .new, timestamp: now, message: "created"), attempt: attempt)
        created.insert(id)
    }

    mutating func update(_ task: TaskObject) {
        guard tasks[task.meta.id] != task else { return }
        tasks[task.meta.id] = task
        if !created.contains(task.meta.id) { changed.insert(task.meta.id) }
    }

    mutating func delete(_ task: TaskObject) {
        guard let existing = tasks.removeValue(forKey: task.meta.id) else { return }
        if created.remove(task.meta.id) == nil {
            changed.remove(task.meta.id)
            deleted[task.meta.id] = store.get(.task, task.meta.id)?.meta.version ?? existing.meta.version
        }
    }

    /// Tells the task to stop; its agent reports when it has.
    mutating func shutDown(_ task: TaskObject, message: String? = nil) {
        var task = task
        task.desiredState = .shutdown
        if let message { task.status.message = message }
        update(task)
    }

    /// Everything this pass changed, as one batch.
    var writes: [Write] {
        created.sorted().compactMap { tasks[$0].map { .create(.task($0)) } }
            + changed.sorted().compactMap { tasks[$0].map { .update(.task($0)) } }
            + deleted.sorted { $0.key < $1.key }.map { .delete(.task, id: $0.key, expectedVersion: $0.value) }
            + changedServices.sorted { $0.key < $1.key }.map { .update(.service($0.value)) }
            + changedNetworks.sorted { $0.key < $1.key }.map { .update(.network($0.value)) }
    }

    /// Newest first: creation time, then attempt (tasks created in one pass share a time).
    static func newestFirst(_ lhs: TaskObject, _ rhs: TaskObject) -> Bool {
        (lhs.meta.createdAt, lhs.attempt, lhs.meta.id) > (rhs.meta.createdAt, rhs.attempt, rhs.meta.id)
    }
}
