import ClusterStore
import ShoalAPI
import Testing
@testable import Manager

/// The scheduler places reservations against each node's reported CPUs and memory.
@Suite struct ReservationTests {
    static let gibibyte: Int64 = 1 << 30

    /// Workers reporting 2 CPUs and 24 GiB each, as every node of a lab on this machine does.
    static func cluster(workers: [String] = ["w1", "w2"]) -> Harness {
        var cluster = Harness(workers: workers, managers: [])
        for name in workers {
            cluster.change(node: name) { $0.resources = NodeResources(nanoCPUs: 2_000_000_000, memoryBytes: 24 * gibibyte) }
        }
        return cluster
    }

    static func reserving(memory: Int64 = 0, cpus: Int64 = 0) -> TaskSpec {
        TaskSpec(command: ["sleep", "1"], resources: Resources(reservedNanoCPUs: cpus, reservedMemoryBytes: memory))
    }

    @Test func twoTasksReservingSixtyPercentOfANodesMemoryLandOnDifferentNodes() {
        var cluster = Self.cluster(workers: ["w1", "w2"])
        // w2 holds more tasks (placed first, by name): by the spread alone both big tasks would go to w1.
        cluster.create("a-small", mode: .replicated(replicas: 2),
                       spec: TaskSpec(command: ["sleep", "1"], constraints: ["node.hostname==w2"]))
        let sixtyPercent = 24 * Self.gibibyte * 6 / 10
        cluster.create("x", spec: Self.reserving(memory: sixtyPercent))
        cluster.create("y", spec: Self.reserving(memory: sixtyPercent))
        cluster.pass()
        #expect(cluster.activeNodes("x") == ["w1"] && cluster.activeNodes("y") == ["w2"])
        cluster.create("z", spec: Self.reserving(memory: sixtyPercent))
        cluster.pass()
        let third = cluster.store.tasks.first { $0.serviceID == "z" }
        #expect(third?.status.state == .pending)
        #expect(third?.status.error == "no suitable node (insufficient resources on 2 nodes)")
    }

    @Test func aTaskReservingMoreThanAnyNodeHasStaysPendingWithDockersReason() {
        var cluster = Self.cluster(workers: ["w1"])
        cluster.add(cluster.node("w9"))
        cluster.change(node: "w9") { $0.availability = .drain }
        cluster.create("huge", spec: Self.reserving(memory: 25 * Self.gibibyte))
        cluster.pass()
        #expect(cluster.store.tasks.first?.status.error
            == "no suitable node (1 node not available for new tasks; insufficient resources on 1 node)")
        cluster.create("cpu", spec: Self.reserving(cpus: 3_000_000_000))
        cluster.pass()
        #expect(cluster.store.tasks.first { $0.serviceID == "cpu" }?.status.error
            == "no suitable node (1 node not available for new tasks; insufficient resources on 1 node)")
    }

    @Test func reservationsCountWhatTheNodesTasksHoldAndNothingReservedFitsAnywhere() {
        var cluster = Self.cluster(workers: ["w1"])
        cluster.create("half", spec: Self.reserving(cpus: 1_500_000_000))
        cluster.pass()
        cluster.agentsReport(.running)
        cluster.create("more", spec: Self.reserving(cpus: 1_000_000_000))
        cluster.create("free", spec: TaskSpec(command: ["sleep", "1"]))
        cluster.pass()
        #expect(cluster.activeNodes("half") == ["w1"] && cluster.activeNodes("free") == ["w1"])
        #expect(cluster.store.tasks.first { $0.serviceID == "more" }?.status.error
            == "no suitable node (insufficient resources on 1 node)")
        // The reservation leaves with the task that held it.
        cluster.change(service: "half") { $0.mode = .replicated(replicas: 0) }
        cluster.pass()
        cluster.agentsReport(.running)
        cluster.pass()
        #expect(cluster.activeNodes("more") == ["w1"])
    }

    @Test func aNodeThatReportedNothingTakesNoReservation() {
        var cluster = Harness(workers: ["w1"], managers: [])
        cluster.create("small", spec: Self.reserving(memory: 1 << 20))
        cluster.pass()
        #expect(cluster.store.tasks.first?.status.error == "no suitable node (insufficient resources on 1 node)")
    }
}
