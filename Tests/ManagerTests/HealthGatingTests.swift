import Addressing
import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI
import Testing
@testable import Manager

/// A task with a health check takes traffic only while healthy; its health enters the store bounded.
@Suite struct HealthGatingTests {
    private let check = HealthCheck(command: "test -f /tmp/ok", intervalSeconds: 1, retries: 2)

    /// web: 2 replicas on `internal`, with a health check, running on w1 and w2.
    private func harness() throws -> Harness {
        var harness = Harness(workers: [], managers: [])
        for (name, address) in [("w1", "10.0.0.1"), ("w2", "10.0.0.2")] {
            harness.add(NodeObject(meta: ObjectMeta(id: name), hostname: name, advertiseAddress: "\(address):2377",
                                   role: .worker, state: .ready, engineVersion: "test"))
        }
        let subnet = try #require(IPv4Network("172.30.0.0/24"))
        harness.write([.create(.network(NetworkObject(meta: ObjectMeta(id: "internal"), name: "internal", subnet: subnet,
                                                      gateway: subnet.host(1), vni: 4097)))])
        harness.create("web", mode: .replicated(replicas: 2),
                       spec: TaskSpec(command: ["sleep", "1"], networks: ["internal"], healthCheck: check))
        harness.pass()
        harness.agentsReport()
        return harness
    }

    private func backends(_ harness: Harness) -> [String] {
        NodeAssignments.make(for: "w1", in: harness.store).services.first { $0.name == "web" }?.tasks.map(\.id) ?? []
    }

    private func report(_ harness: inout Harness, _ task: TaskObject, _ health: TaskHealth) {
        var status = task.status
        status.health = health
        harness.pass(reports: [task.meta.id: (task.nodeID ?? "", TaskReport(taskID: task.meta.id, status: status))])
    }

    @Test func aTaskWithACheckIsABackendOnlyWhileHealthy() throws {
        var harness = try harness()
        let tasks = harness.store.tasks.filter(\.isActive).sorted { $0.meta.id < $1.meta.id }
        #expect(tasks.count == 2 && tasks.allSatisfy { $0.status.state == .running })
        #expect(backends(harness).isEmpty, "running but starting: no VIP, mesh or DNS backend")
        for task in tasks { report(&harness, task, TaskHealth(status: .healthy)) }
        #expect(backends(harness) == tasks.map(\.meta.id))
        let failing = try #require(harness.store.tasks.first { $0.meta.id == tasks[0].meta.id })
        report(&harness, failing, TaskHealth(status: .unhealthy, failingStreak: 2))
        #expect(backends(harness) == [tasks[1].meta.id], "unhealthy: out of every node's tables while it still runs")
    }

    @Test func theIntakeBoundsAHealthAndDropsOneForATaskWithoutACheck() throws {
        var harness = try harness()
        harness.create("plain", spec: TaskSpec(command: ["sleep", "1"]))
        harness.pass()
        harness.agentsReport()
        let now = Date(timeIntervalSince1970: 1)
        let big = TaskHealth(status: .healthy, failingStreak: 0, log: (0..<9).map {
            TaskHealth.Probe(start: now, end: now, exitCode: $0, output: String(repeating: "x", count: 10_000))
        })
        let web = try #require(harness.store.tasks.first { $0.serviceName == "web" })
        let plain = try #require(harness.store.tasks.first { $0.serviceName == "plain" })
        report(&harness, web, big)
        report(&harness, plain, big)
        let stored = try #require(harness.store.tasks.first { $0.meta.id == web.meta.id }?.status.health)
        #expect(stored.log.count == 5 && stored.log.allSatisfy { $0.output.utf8.count == 4096 })
        #expect(harness.store.tasks.first { $0.meta.id == plain.meta.id }?.status.health == nil)
    }

    @Test func theDaemonValidatesTheCheckAndStoresIt() throws {
        let request = ServiceSpecRequest(name: "web", replicas: 1, command: ["sleep", "1"], healthCheck: check)
        #expect(try ControlAPI.validate(request, networks: []).healthCheck == check)
        var zero = request
        zero.healthCheck?.intervalSeconds = 0
        #expect(throws: SwarmError.self) { try ControlAPI.validate(zero, networks: []) }
        do {
            _ = try ControlAPI.validate(zero, networks: [])
        } catch {
            #expect(error.description == "invalid --health-interval 0s: use 1s to 86400s")
        }
    }
}
