import Addressing
import ClusterStore
import ClusterWire
import Testing
@testable import Manager

/// What each node is sent: its tasks, their networks, and the other nodes' endpoints on those networks.
@Suite struct NodeAssignmentsTests {
    /// Two workers (10.0.0.1 and 10.0.0.2) running web on `internal`; `other` has a task of `db` on w1 only.
    private func harness() throws -> Harness {
        var harness = Harness(workers: [], managers: [])
        for (name, address) in [("w1", "10.0.0.1"), ("w2", "10.0.0.2")] {
            harness.add(NodeObject(meta: ObjectMeta(id: name), hostname: name, advertiseAddress: "\(address):2377",
                                   role: .worker, state: .ready, engineVersion: "test"))
        }
        for (name, subnet, vni) in [("internal", "172.30.0.0/24", UInt32(4097)), ("other", "172.31.0.0/24", UInt32(4098))] {
            let subnet = try #require(IPv4Network(subnet))
            harness.write([.create(.network(NetworkObject(meta: ObjectMeta(id: name), name: name, subnet: subnet,
                                                          gateway: subnet.host(1), vni: vni)))])
        }
        harness.create("web", mode: .replicated(replicas: 2), spec: TaskSpec(command: ["sleep", "1"], networks: ["internal"]))
        harness.create("db", mode: .replicated(replicas: 1),
                       spec: TaskSpec(command: ["sleep", "1"], constraints: ["node.hostname==w1"], networks: ["other"]))
        harness.pass()
        harness.agentsReport()
        return harness
    }

    @Test func aNodeLearnsItsNetworksAndTheOtherNodesTasksOnThem() throws {
        let harness = try harness()
        let w2 = NodeAssignments.make(for: "w2", in: harness.store)
        #expect(w2.networks.map(\.id) == ["internal"], "only the networks its own tasks use")
        #expect(w2.endpoints.count == 1)
        let endpoint = try #require(w2.endpoints.first)
        #expect(endpoint.networkID == "internal" && endpoint.vtep.description == "10.0.0.1")
        let w1Task = try #require(harness.store.tasks.first { $0.nodeID == "w1" && $0.serviceName == "web" })
        #expect(endpoint.address == w1Task.networks.first?.address.address)
        let w1 = NodeAssignments.make(for: "w1", in: harness.store)
        #expect(w1.networks.map(\.id) == ["internal", "other"])
        #expect(w1.endpoints.map(\.vtep.description) == ["10.0.0.2"], "its own tasks are not endpoints")
        #expect(w2.peers == [ClusterProtocol.Peer(name: "w1", vtep: IPv4Address(0x0a00_0001)),
                             ClusterProtocol.Peer(name: "w2", vtep: IPv4Address(0x0a00_0002))], "itself and the nodes behind its endpoints")
        // Every network's subnet, not only its own: its gateway bridge must keep clear of them all.
        #expect(w2.overlayAddressSpace.map(\.description).sorted() == ["172.30.0.0/24", "172.31.0.0/24"])
    }

    @Test func aTaskLeavesTheTableWhenItIsToStopOrItsNodeIsDown() throws {
        var harness = try harness()
        harness.change(service: "web") { $0.mode = .replicated(replicas: 1) }
        harness.pass()
        let stopping = harness.store.tasks.filter { $0.serviceName == "web" && $0.desiredState > .running }
        #expect(stopping.count == 1)
        let survivor = try #require(harness.store.tasks.first { $0.serviceName == "web" && $0.desiredState == .running })
        let peer = survivor.nodeID == "w1" ? "w2" : "w1"
        #expect(NodeAssignments.make(for: survivor.nodeID ?? "", in: harness.store).endpoints.isEmpty,
                "the task told to stop is gone from the table at once")
        harness.change(node: survivor.nodeID ?? "") { $0.state = .down }
        #expect(NodeAssignments.make(for: peer, in: harness.store).endpoints.isEmpty, "a down node's tasks are gone")
    }

    @Test func anAgentBuildsOnlyNetworksAManagerCouldHaveMade() throws {
        let subnet = try #require(IPv4Network("172.30.0.0/24"))
        let id = String(repeating: "a", count: 25)
        let good = ClusterProtocol.Network(id: id, name: "internal", vni: 4097, subnet: subnet, gateway: subnet.host(1))
        #expect(good.isValid)
        let tiny = try #require(IPv4Network("172.30.0.0/31"))
        let outside = try #require(IPv4Address("10.0.0.1"))
        let refused = [
            ClusterProtocol.Network(id: "../../../etc/passwd", name: "internal", vni: 4097, subnet: subnet, gateway: subnet.host(1)),
            ClusterProtocol.Network(id: id, name: "internal", vni: 0, subnet: subnet, gateway: subnet.host(1)),
            ClusterProtocol.Network(id: id, name: "internal", vni: 1 << 24, subnet: subnet, gateway: subnet.host(1)),
            ClusterProtocol.Network(id: id, name: "internal", vni: 4097, subnet: tiny, gateway: tiny.host(1)),
            ClusterProtocol.Network(id: id, name: "internal", vni: 4097, subnet: subnet, gateway: outside),
            ClusterProtocol.Network(id: id, name: "internal", vni: 4097, subnet: subnet, gateway: subnet.networkAddress),
        ]
        for network in refused { #expect(!network.isValid, "\(network)") }
    }

    @Test func theNetworksAStoreHandsOutAreValidOnTheNode() throws {
        var harness = Harness(workers: ["w1"], managers: [])
        let subnet = try #require(IPv4Network("172.30.0.0/24"))
        let id = String(repeating: "n", count: 25)
        harness.write([.create(.network(NetworkObject(meta: ObjectMeta(id: id), name: "internal", subnet: subnet,
                                                      gateway: subnet.host(1), vni: 4097)))])
        harness.create("web", spec: TaskSpec(command: ["sleep", "1"], networks: [id]))
        harness.pass()
        let networks = NodeAssignments.make(for: "w1", in: harness.store).networks
        #expect(networks.count == 1 && networks.allSatisfy(\.isValid))
    }

    @Test func aNodeLearnsTheServicesOfItsNetworksWithTheTasksThatTakeTraffic() throws {
        var harness = try harness()
        let w2 = NodeAssignments.make(for: "w2", in: harness.store)
        let web = try #require(w2.services.first)
        #expect(w2.services.map(\.name) == ["web"], "db is on a network w2 has no task on")
        #expect(web.endpointMode == .vip && web.virtualIPs.map(\.networkID) == ["internal"])
        #expect(web.tasks.map(\.slot) == ["1", "2"] && web.tasks.allSatisfy { $0.addresses.map(\.networkID) == ["internal"] })

        harness.change(service: "web") { $0.mode = .replicated(replicas: 1) }
        harness.pass()
        let remaining = NodeAssignments.make(for: "w1", in: harness.store).services.first { $0.name == "web" }
        #expect(remaining?.tasks.count == 1, "a task told to stop takes no more traffic")

        harness.change(service: "web") { $0.endpointMode = .dnsrr }
        harness.pass()
        let dnsrr = NodeAssignments.make(for: "w1", in: harness.store).services.first { $0.name == "web" }
        #expect(dnsrr?.virtualIPs == [], "dnsrr has no virtual IP: the allocator released it")
    }

    @Test func anAgentAnswersOnlyForServicesAManagerCouldHaveMade() throws {
        let id = String(repeating: "s", count: 25)
        let address = try #require(IPv4Network("172.30.0.5/24"))
        let task = ClusterProtocol.ServiceTask(id: String(repeating: "t", count: 25), slot: "1",
                                               addresses: [NetworkAddress(networkID: id, address: address)])
        let good = ClusterProtocol.Service(id: id, name: "web", endpointMode: .vip, virtualIPs: [], tasks: [task])
        #expect(good.isValid)
        var badName = good, badSlot = good, badTask = good
        badName.name = "web\u{0}.evil"
        badSlot.tasks[0].slot = "../1"
        badTask.tasks[0].id = "x"
        for service in [badName, badSlot, badTask] { #expect(!service.isValid, "\(service)") }
    }

    @Test func onceAServicePublishesThroughTheMeshEveryNodeHasTheIngressNetworkAndTheOtherNodesAddresses() throws {
        var harness = try harness()
        let subnet = try #require(IPv4Network("10.255.0.0/24"))
        harness.write([.create(.network(NetworkObject(meta: ObjectMeta(id: "ingress"), name: "ingress", subnet: subnet,
                                                      gateway: subnet.host(1), vni: 4096, ingress: true)))])
        harness.pass()
        #expect(NodeAssignments.make(for: "w1", in: harness.store).ingress == nil, "no published port: no mesh")
        harness.change(service: "db") { $0.ports = [PublishedPort(protocol: .tcp, target: 80, published: 8080, mode: .ingress)] }
        harness.pass()
        let w2 = NodeAssignments.make(for: "w2", in: harness.store)
        let own = try #require(harness.store.networks.first { $0.ingress }?.nodeAddresses.first { $0.nodeID == "w2" })
        #expect(w2.ingress == ClusterProtocol.Ingress(networkID: "ingress", address: own.address))
        #expect(w2.networks.map(\.id).contains("ingress"), "w2 runs no task on it, yet enters the mesh")
        let w1Address = try #require(harness.store.networks.first { $0.ingress }?.nodeAddresses.first { $0.nodeID == "w1" })
        #expect(w2.endpoints.contains(ClusterProtocol.Endpoint(networkID: "ingress", address: w1Address.address.address,
                                                               vtep: try #require(IPv4Address("10.0.0.1")))))
    }
}
