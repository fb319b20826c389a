import ClusterWire
import ClusterStore
import FoundationEssentials
import Testing
@testable import Manager

/// Ids for the tasks a pass creates: t1, t2, …
private final class Counter {
    private(set) var value: Int
    init(_ value: Int) { self.value = value }
    func next() -> Int {
        value += 1
        return value
    }
}

/// A store and a clock the leader's task pass runs against, one pass at a time.
struct Harness {
    var store = Store()
    var now = Date(timeIntervalSince1970: 1_000_000)
    var version: UInt64 = 0
    var nextID = 0

    init(workers: [String] = ["w1", "w2"], managers: [String] = ["m1"]) {
        for name in managers { add(node(name, role: .manager)) }
        for name in workers { add(node(name, role: .worker)) }
    }

    func node(_ name: String, role: NodeRole = .worker) -> NodeObject {
        NodeObject(meta: ObjectMeta(id: name), hostname: name, advertiseAddress: "10.0.0.1:2377", role: role,
                   state: .ready, engineVersion: "test")
    }

    mutating func write(_ batch: [Write]) {
        version += 1
        do { _ = try store.apply(batch, version: version, now: now) } catch { Issue.record("write refused: \(error)") }
    }

    mutating func add(_ node: NodeObject) { write([.create(.node(node))]) }

    mutating func change(node id: String, _ edit: (inout NodeObject) -> Void) {
        guard var node = store.nodes.first(where: { $0.meta.id == id }) else { return }
        edit(&node)
        write([.update(.node(node))])
    }

    mutating func create(_ name: String, mode: ServiceMode = .replicated(replicas: 1), spec: TaskSpec = TaskSpec(command: ["sleep", "1"])) {
        write([.create(.service(ServiceObject(meta: ObjectMeta(id: name), name: name, mode: mode, spec: spec)))])
    }

    mutating func change(service id: String, _ edit: (inout ServiceObject) -> Void) {
        guard var service = store.services.first(where: { $0.meta.id == id }) else { return }
        edit(&service)
        write([.update(.service(service))])
    }

    /// One leader pass, as the task loop makes it; returns how many writes it made.
    @discardableResult
    mutating func pass(reports: [String: (nodeID: String, report: TaskReport)] = [:]) -> Int {
        let counter = Counter(nextID)
        let plan = TaskLoop.pass(over: store, reports: reports, now: now, newID: { "t\(counter.next())" })
        nextID = counter.value
        let writes = plan.writes
        for batch in StoreLimits.batches(writes) { write(batch) }  // as the task loop proposes them
        return writes.count
    }

    /// Every agent says its assigned tasks run (or, with `state`, something else).
    mutating func agentsReport(_ state: TaskState = .running, only ids: Set<String>? = nil, exitCode: Int32? = nil) {
        var reports: [String: (nodeID: String, report: TaskReport)] = [:]
        for task in store.tasks where task.status.state >= .assigned && !task.status.state.isTerminal
            && (ids?.contains(task.meta.id) ?? true) {
            guard let node = task.nodeID else { continue }
            let shutdown = task.desiredState > .running
            let status = TaskStatus(state: shutdown ? .shutdown : state, timestamp: now,
                                    error: state == .failed ? "task: non-zero exit (\(exitCode ?? 1))" : "", exitCode: exitCode)
            reports[task.meta.id] = (node, TaskReport(taskID: task.meta.id, status: status))
        }
        pass(reports: reports)
    }

    /// A replicated service whose tasks are placed and running.
    mutating func run(_ name: String, replicas: Int) {
        create(name, mode: .replicated(replicas: replicas))
        pass()
        agentsReport()
    }

    var active: [TaskObject] { store.tasks.filter(\.isActive).sorted { $0.slot < $1.slot } }
    func activeNodes(_ service: String) -> [String] {
        active.filter { $0.serviceID == service }.compactMap(\.nodeID).sorted()
    }
}

@Suite struct OrchestrationTests {
    @Test func replicasSpreadOverTheNodesWithTheFewestTasksOfTheService() {
        var cluster = Harness()
        cluster.create("web", mode: .replicated(replicas: 3))
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["m1", "w1", "w2"])
        #expect(cluster.active.allSatisfy { $0.status.state == .assigned })
        #expect(cluster.active.map(\.slot) == [1, 2, 3])
        #expect(cluster.pass() == 0, "a pass with nothing new writes nothing")
    }

    @Test func theSpreadCountsTasksOfOtherServicesToo() {
        var cluster = Harness()
        cluster.create("db", spec: TaskSpec(command: ["db"], constraints: ["node.hostname==w1"]))
        cluster.pass()
        cluster.create("web", mode: .replicated(replicas: 2))
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["m1", "w2"])
    }

    @Test func fewestTasksOfTheServiceComesBeforeFewestTasksOverall() {
        var cluster = Harness()
        cluster.create("db", mode: .replicated(replicas: 2), spec: TaskSpec(command: ["db"], constraints: ["node.hostname==w1"]))
        cluster.create("web")
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["m1"])
        cluster.change(service: "web") { $0.mode = .replicated(replicas: 3) }
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["m1", "w1", "w2"], "w1 runs two db tasks but no web task yet")
    }

    @Test func constraintsFilterNodesAndAnUnplaceableTaskSaysWhyInDockersWords() {
        var cluster = Harness(workers: [])
        cluster.create("web", spec: TaskSpec(command: ["x"], constraints: ["node.role==worker"]))
        cluster.pass()
        let task = cluster.store.tasks.first
        #expect(task?.status.state == .pending)
        #expect(task?.status.error == "no suitable node (scheduling constraints not satisfied on 1 node)")
        #expect(cluster.pass() == 0, "the same reason is not written again")
        cluster.add(cluster.node("w9"))
        cluster.change(node: "w9") { $0.availability = .pause }
        cluster.pass()
        #expect(cluster.store.tasks.first?.status.error
            == "no suitable node (1 node not available for new tasks; scheduling constraints not satisfied on 1 node)")
        cluster.change(node: "w9") { $0.availability = .active }
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["w9"])
    }

    @Test func aFailedTaskIsReplacedAfterTheRestartDelayAndHistoryKeepsFivePerSlot() {
        var cluster = Harness(workers: ["w1"], managers: [])
        cluster.create("web", spec: TaskSpec(command: ["x"], restart: RestartPolicy(condition: .any, delaySeconds: 1)))
        cluster.pass()
        for round in 1...7 {
            cluster.agentsReport(.running)
            cluster.agentsReport(.failed, exitCode: 137)
            #expect(cluster.active.isEmpty, "round \(round): no replacement before the delay")
            cluster.now += 1
            cluster.pass()
            #expect(cluster.active.count == 1, "round \(round): replaced once the delay is over")
            #expect(cluster.active.first?.attempt == round)
        }
        let slot = cluster.store.tasks.filter { $0.slot == 1 }
        #expect(slot.count == 5)
        #expect(slot.filter { $0.status.state == .failed }.allSatisfy { $0.desiredState == .shutdown })
    }

    @Test func theRestartPolicyDecidesWhetherAnEndedTaskComesBack() {
        for (condition, ended, replaced) in [(RestartPolicy.Condition.none, TaskState.failed, false),
                                             (.onFailure, .complete, false), (.onFailure, .failed, true),
                                             (.any, .complete, true)] {
            var cluster = Harness(workers: ["w1"], managers: [])
            cluster.create("job", spec: TaskSpec(command: ["x"], restart: RestartPolicy(condition: condition, delaySeconds: 0)))
            cluster.pass()
            cluster.agentsReport(ended, exitCode: ended == .complete ? 0 : 1)
            cluster.pass()
            #expect((cluster.active.count == 1) == replaced, "\(condition) after \(ended)")
        }
        var limited = Harness(workers: ["w1"], managers: [])
        limited.create("job", spec: TaskSpec(command: ["x"], restart: RestartPolicy(condition: .any, delaySeconds: 0, maxAttempts: 2)))
        limited.pass()
        for _ in 0..<4 {
            limited.agentsReport(.failed)
            limited.pass()
        }
        #expect(limited.store.tasks.count == 3, "the first run and two restarts")
        #expect(limited.active.isEmpty)
    }

    @Test func tasksOfADownNodeAreReplacedAtOnceElsewhere() {
        var cluster = Harness()
        cluster.run("web", replicas: 3)
        cluster.change(node: "w2") { $0.state = .down }
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["m1", "m1", "w1"], "the replacement goes where the fewest tasks are, by name on a tie")
        let old = cluster.store.tasks.first { $0.nodeID == "w2" }
        #expect(old?.desiredState == .shutdown)
        #expect(old?.status.message == "node is down")
    }

    @Test func drainMovesTasksOffAndPauseKeepsThemButPlacesNothingNew() {
        var cluster = Harness()
        cluster.run("web", replicas: 3)
        cluster.change(node: "w1") { $0.availability = .pause }
        cluster.pass()
        #expect(cluster.activeNodes("web") == ["m1", "w1", "w2"], "pause keeps what runs")
        cluster.change(service: "web") { $0.mode = .replicated(replicas: 5) }
        cluster.pass()
        #expect(cluster.activeNodes("web").filter { $0 == "w1" }.count == 1, "nothing new lands on a paused node")
        cluster.change(node: "w2") { $0.availability = .drain }
        cluster.pass()
        #expect(!cluster.activeNodes("web").contains("w2"))
        #expect(cluster.active.count == 5)
    }

    @Test func scalingDownShutsTheHighestSlots() {
        var cluster = Harness()
        cluster.create("web", mode: .replicated(replicas: 3))
        cluster.pass()
        cluster.change(service: "web") { $0.mode = .replicated(replicas: 1) }
        cluster.pass()
        #expect(cluster.active.map(\.slot) == [1])
    }

    @Test func aGlobalServiceRunsOnePerEligibleNodeAndFollowsJoinsAndDrains() {
        var cluster = Harness()
        cluster.create("agent", mode: .global, spec: TaskSpec(command: ["x"], constraints: ["node.role!=manager"]))
        cluster.pass()
        #expect(cluster.activeNodes("agent") == ["w1", "w2"])
        #expect(cluster.active.allSatisfy { $0.slot == 0 && $0.status.state == .assigned })
        cluster.add(cluster.node("w3"))
        cluster.pass()
        #expect(cluster.activeNodes("agent") == ["w1", "w2", "w3"])
        cluster.change(node: "w1") { $0.availability = .drain }
        cluster.pass()
        #expect(cluster.activeNodes("agent") == ["w2", "w3"])
        #expect(cluster.pass() == 0)
    }

    @Test func aRemovedServicesTasksStopThenGo() {
        var cluster = Harness()
        cluster.run("web", replicas: 2)
        cluster.write([.delete(.service, id: "web", expectedVersion: cluster.store.services.first?.meta.version ?? 0)])
        cluster.pass()
        #expect(cluster.store.tasks.count == 2)
        #expect(cluster.store.tasks.allSatisfy { $0.desiredState == .shutdown })
        cluster.agentsReport()
        cluster.pass()
        #expect(cluster.store.tasks.isEmpty)
    }

    @Test func anUpdateReplacesTasksOneAtATime() {
        var cluster = Harness()
        cluster.run("web", replicas: 3)
        cluster.change(service: "web") {
            $0.spec.command = ["v2"]
            $0.generation += 1
        }
        cluster.pass()
        #expect(cluster.active.filter { $0.spec.command == ["v2"] }.count == 1)
        #expect(cluster.active.count == 3, "the old task stops as its replacement starts")
        cluster.pass()
        #expect(cluster.active.filter { $0.spec.command == ["v2"] }.count == 1, "the next waits for the first to run")
        for expected in 2...3 {
            cluster.agentsReport()
            cluster.pass()
            #expect(cluster.active.filter { $0.spec.command == ["v2"] }.count == expected)
        }
    }

    @Test func reportsNeverMoveATaskBackAndOnlyCountFromItsNode() {
        var cluster = Harness(workers: ["w1"], managers: [])
        cluster.create("web")
        cluster.pass()
        cluster.agentsReport(.running)
        let id = cluster.active.first?.meta.id ?? ""
        let stale = TaskReport(taskID: id, status: TaskStatus(state: .starting, timestamp: cluster.now))
        let elsewhere = TaskReport(taskID: id, status: TaskStatus(state: .failed, timestamp: cluster.now))
        #expect(cluster.pass(reports: [id: ("w1", stale)]) == 0)
        #expect(cluster.pass(reports: [id: ("w2", elsewhere)]) == 0)
        #expect(cluster.active.first?.status.state == .running)
    }

    @Test func tenThousandReplicasConvergeInBoundedBatches() throws {
        var cluster = Harness()
        cluster.create("big", mode: .replicated(replicas: StoreLimits.maximumReplicas))
        var counter = 0
        var plan = TaskPlan(store: cluster.store, now: cluster.now, newID: { counter += 1; return "t\(counter)" })
        Orchestrator().reconcile(&plan)
        Scheduler().schedule(&plan)
        let batches = StoreLimits.batches(plan.writes)
        #expect(batches.count == StoreLimits.maximumReplicas / StoreLimits.maximumBatchWrites)
        for batch in batches {
            #expect(batch.count <= StoreLimits.maximumBatchWrites)
            #expect(try ReplicatedStore.command(batch, at: cluster.now).count <= StoreLimits.maximumBatchBytes + 1024)
            cluster.write(batch)
        }
        #expect(cluster.store.tasks.filter { $0.status.state == .assigned }.count == StoreLimits.maximumReplicas)
        #expect(cluster.pass() == 0, "converged: the next pass has nothing to write")
    }

    @Test func largeSpecsAreCutByBytesNotOnlyByCount() throws {
        var cluster = Harness()
        let spec = TaskSpec(command: ["sleep", "3600"], env: ["PADDING=" + String(repeating: "x", count: 32 << 10)])
        cluster.create("wide", mode: .replicated(replicas: 100), spec: spec)
        var counter = 0
        var plan = TaskPlan(store: cluster.store, now: cluster.now, newID: { counter += 1; return "t\(counter)" })
        Orchestrator().reconcile(&plan)
        let batches = StoreLimits.batches(plan.writes)
        #expect(batches.count > 1)
        for batch in batches {
            #expect(try ReplicatedStore.command(batch, at: cluster.now).count <= StoreLimits.maximumBatchBytes + 1024)
        }
        #expect(batches.flatMap { $0 } == plan.writes, "in order, nothing lost")
    }

    @Test func assignmentsCarryWhatANodeMustActOn() {
        var cluster = Harness(workers: ["w1"], managers: [])
        cluster.create("web", mode: .replicated(replicas: 2))
        cluster.pass()
        #expect(NodeAssignments.tasks(for: "w1", in: cluster.store).count == 2)
        cluster.change(service: "web") { $0.mode = .replicated(replicas: 1) }
        cluster.pass()
        #expect(NodeAssignments.tasks(for: "w1", in: cluster.store).count == 2, "the one to stop is still listed")
        cluster.agentsReport()
        #expect(NodeAssignments.tasks(for: "w1", in: cluster.store).count == 1)
    }
}

@Suite struct ConstraintTests {
    private let node = NodeObject(meta: ObjectMeta(id: "abc"), hostname: "lab-2", advertiseAddress: "", role: .worker,
                                  labels: ["zone": "east"], engineVersion: "")

    @Test func keysAndOperatorsMatchAsDockersDo() throws {
        #expect(try Constraint(parsing: "node.role==worker").matches(node))
        #expect(try !Constraint(parsing: "node.role!=worker").matches(node))
        #expect(try Constraint(parsing: "node.hostname == lab-2").matches(node))
        #expect(try Constraint(parsing: "node.id==abc").matches(node))
        #expect(try Constraint(parsing: "node.labels.zone==east").matches(node))
        #expect(try !Constraint(parsing: "node.labels.rack==1").matches(node))
        #expect(try Constraint(parsing: "node.labels.rack!=1").matches(node))
    }

    @Test func malformedConstraintsAreRefusedWithTheReason() {
        for (text, reason) in [("node.rol==worker", "use node.role, node.hostname"), ("node.role=worker", "expected one operator"),
                               ("node.role==", "empty"), ("node.role==boss", "manager or worker"),
                               ("node.labels.==x", "use node.role")] {
            #expect(throws: SwarmError.self, "\(text)") { try Constraint(parsing: text) }
            do { _ = try Constraint(parsing: text) } catch { #expect(error.description.contains(reason), "\(text): \(error)") }
        }
    }
}
