import ClusterStore
import Testing
@testable import Manager

/// A host-mode port is the node's: two tasks publishing it never share a node
/// (swarmkit's host-port filter), whatever their service.
@Suite struct HostPortTests {
    @Test func tasksPublishingOneHostPortNeverShareANode() {
        var cluster = Harness(workers: ["w1", "w2"], managers: [])
        cluster.create("direct", mode: .replicated(replicas: 3))
        cluster.change(service: "direct") { $0.ports = [PublishedPort(protocol: .tcp, target: 80, published: 8090, mode: .host)] }
        cluster.pass()
        #expect(cluster.activeNodes("direct").sorted() == ["w1", "w2"])
        let pending = cluster.store.tasks.filter { $0.serviceID == "direct" && $0.status.state == .pending }
        #expect(pending.count == 1)
        #expect(pending.first?.status.error == "no suitable node (host-mode port already in use on 2 nodes)")

        // The same port over UDP, or another port, is another port.
        cluster.create("other", mode: .replicated(replicas: 2))
        cluster.change(service: "other") { $0.ports = [PublishedPort(protocol: .udp, target: 80, published: 8090, mode: .host),
                                                       PublishedPort(protocol: .tcp, target: 80, published: 8091, mode: .host)] }
        cluster.pass()
        #expect(cluster.activeNodes("other").sorted() == ["w1", "w2"])
    }
}
