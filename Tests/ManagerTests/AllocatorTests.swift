import Addressing
import ClusterStore
import FoundationEssentials
import Testing
@testable import Manager

/// The allocator on a pure store: addresses, virtual IPs, VXLAN ids and subnets.
@Suite struct AllocatorTests {
    private func network(_ name: String, _ subnet: String, vni: UInt32 = 4097) throws -> NetworkObject {
        let subnet = try #require(IPv4Network(subnet))
        return NetworkObject(meta: ObjectMeta(id: name), name: name, subnet: subnet, gateway: subnet.host(1), vni: vni)
    }

    /// A swarm of two workers with `networks`, and a service of `replicas` on the ones named.
    private func harness(_ networks: [NetworkObject], replicas: Int = 2, on attached: [String]) -> Harness {
        var harness = Harness()
        harness.write(networks.map { .create(.network($0)) })
        harness.create("web", mode: .replicated(replicas: replicas), spec: TaskSpec(command: ["sleep", "1"], networks: attached))
        return harness
    }

    private func addresses(_ harness: Harness, on networkID: String) -> [String] {
        harness.store.tasks.filter { !$0.status.state.isTerminal }
            .compactMap { $0.networks.first { $0.networkID == networkID }?.address.description }.sorted()
    }

    @Test func theGatewayIsFirstThenTheVirtualIPThenTasksTakeTheLowestFreeAddresses() throws {
        var harness = harness([try network("internal", "172.30.0.0/24")], on: ["internal"])
        harness.pass()
        let service = try #require(harness.store.services.first)
        #expect(service.virtualIPs.map(\.address.description) == ["172.30.0.2/24"])
        #expect(addresses(harness, on: "internal") == ["172.30.0.3/24", "172.30.0.4/24"])
        #expect(harness.store.tasks.allSatisfy { $0.status.state == .assigned }, "allocated, then scheduled in the same pass")
        #expect(harness.pass() == 0, "a second pass allocates nothing again")
        // Assigned but not yet running: those tasks hold their addresses too.
        harness.change(service: "web") { $0.mode = .replicated(replicas: 3) }
        harness.pass()
        #expect(addresses(harness, on: "internal") == ["172.30.0.3/24", "172.30.0.4/24", "172.30.0.5/24"])
    }

    @Test func interfacesFollowTheOrderTheSpecNamesTheNetworks() throws {
        var harness = harness([try network("a", "10.1.0.0/24"), try network("b", "10.2.0.0/24", vni: 4098)],
                              replicas: 1, on: ["b", "a"])
        harness.pass()
        let task = try #require(harness.store.tasks.first)
        #expect(task.networks.map(\.networkID) == ["b", "a"])
        #expect(task.networks.map(\.address.description) == ["10.2.0.3/24", "10.1.0.3/24"])
    }

    @Test func anAddressIsNotReusedWhileHeldAndIsFreedWhenItsTaskEnds() throws {
        var harness = harness([try network("internal", "172.30.0.0/24")], replicas: 1, on: ["internal"])
        harness.pass()
        harness.agentsReport()
        let first = try #require(harness.store.tasks.first)
        // The node goes down: the task's process may still run behind a partition, so its address stays held.
        harness.change(node: try #require(first.nodeID)) { $0.state = .down }
        harness.pass()
        let replacement = try #require(harness.store.tasks.first { $0.meta.id != first.meta.id })
        #expect(replacement.networks.first?.address.description == "172.30.0.4/24")
        // Once the first task ended, its address goes to the next task that needs one.
        harness.agentsReport(.failed, only: [first.meta.id])
        harness.change(service: "web") { $0.mode = .replicated(replicas: 2) }
        harness.pass()
        #expect(addresses(harness, on: "internal").contains("172.30.0.3/24"))
    }

    @Test func aFullNetworkLeavesTheTaskPendingWithDockersWords() throws {
        // A /30 holds two hosts: the gateway and the virtual IP.
        var harness = harness([try network("tiny", "10.9.0.0/30")], replicas: 1, on: ["tiny"])
        harness.pass()
        let task = try #require(harness.store.tasks.first)
        #expect(task.status.state == .pending)
        #expect(task.status.error == "no available IPv4 addresses on this network's address pools: tiny (tiny)")
        #expect(task.nodeID == nil, "a task without its addresses is not scheduled")
        #expect(harness.pass() == 0, "the same refusal is not written again")
    }

    @Test func aServiceLeavingANetworkGivesItsVirtualIPBack() throws {
        var harness = harness([try network("a", "10.1.0.0/24"), try network("b", "10.2.0.0/24", vni: 4098)],
                              replicas: 1, on: ["a", "b"])
        harness.pass()
        harness.change(service: "web") { $0.spec.networks = ["b"]; $0.generation += 1 }
        harness.pass()
        let service = try #require(harness.store.services.first)
        #expect(service.virtualIPs.map(\.networkID) == ["b"])
    }

    @Test func vxlanIdsStartAt4097AndAFreedOneIsTakenAgain() {
        #expect(NetworkChoice.nextVNI(used: []) == 4097)
        #expect(NetworkChoice.nextVNI(used: [4096, 4097, 4098]) == 4099)
        #expect(NetworkChoice.nextVNI(used: [4096, 4098]) == 4097)
    }

    @Test func aPoolSubnetSkipsWhatIsTakenAndIngressFallsBackWhenDockersOverlaps() throws {
        let pool = try #require(IPv4Network("10.0.0.0/8"))
        let route = try #require(IPv4Network("10.0.0.0/24"))
        let resolver = try #require(IPv4Network("10.0.1.53/32"))
        #expect(NetworkChoice.subnet(pools: [pool], prefixLength: 24, avoiding: [route, resolver])?.description == "10.0.2.0/24")
        #expect(NetworkChoice.ingressSubnet(pools: [pool], prefixLength: 24, avoiding: [])?.description == "10.255.0.0/16")
        let machineResolver = try #require(IPv4Network("10.255.255.53/32"))
        #expect(NetworkChoice.ingressSubnet(pools: [pool], prefixLength: 24, avoiding: [machineResolver])?.description
                == "10.0.0.0/24")
        let small = try #require(IPv4Network("10.20.0.0/29"))
        #expect(NetworkChoice.subnet(pools: [small], prefixLength: 30, avoiding: [small]) == nil)
    }

    @Test func theStoreRefusesASecondNetworkWithTheSameNameIdOrAddresses() throws {
        var store = Store()
        _ = try store.apply([.create(.network(try network("internal", "172.30.0.0/24")))], version: 1, now: Date())
        for clash in [try network("internal2", "172.30.0.128/25", vni: 4200), try network("other", "10.5.0.0/24"),
                      NetworkObject(meta: ObjectMeta(id: "x"), name: "internal", subnet: try #require(IPv4Network("10.6.0.0/24")),
                                    gateway: try #require(IPv4Address("10.6.0.1")), vni: 4300)] {
            #expect(throws: StoreError.self) { _ = try store.apply([.create(.network(clash))], version: 2, now: Date()) }
        }
        _ = try store.apply([.create(.network(try network("second", "172.31.0.0/24", vni: 4098)))], version: 2, now: Date())
        #expect(store.networks.count == 2)
    }

    @Test func everyNodeHasAnAddressOfItsOwnOnTheIngressNetworkWhileItIsInTheSwarm() throws {
        var ingress = try network("ingress", "10.255.0.0/24", vni: 4096)
        ingress.ingress = true
        var harness = harness([ingress], replicas: 1, on: ["ingress"])
        harness.pass()
        let stored = try #require(harness.store.networks.first)
        #expect(stored.nodeAddresses.map(\.nodeID) == ["m1", "w1", "w2"])
        #expect(stored.nodeAddresses.map(\.address.description) == ["10.255.0.2/24", "10.255.0.3/24", "10.255.0.4/24"],
                "nodes first, then the virtual IP and the task")
        #expect(addresses(harness, on: "ingress") == ["10.255.0.6/24"])
        // In a later pass the nodes still hold theirs: a new task takes the next free address.
        harness.change(service: "web") { $0.mode = .replicated(replicas: 2) }
        harness.pass()
        #expect(addresses(harness, on: "ingress") == ["10.255.0.6/24", "10.255.0.7/24"])
        harness.write([.delete(.node, id: "w2", expectedVersion: try #require(harness.store.nodes.first { $0.meta.id == "w2" }).meta.version)])
        harness.pass()
        #expect(harness.store.networks.first?.nodeAddresses.map(\.nodeID) == ["m1", "w1"], "a removed node's address is freed")
        #expect(harness.pass() == 0, "and nothing changes after")
    }
}
