import Addressing
import ClusterStore
import ClusterWire
import FoundationEssentials
import Network
import Testing
@testable import Agent

/// What a task's namespace balances: the VIPs of the services on its own networks, over their tasks there.
@Suite struct VirtualIPTests {
    private func address(_ text: String) throws -> NetworkAddress {
        let network = try #require(IPv4Network(text))
        return NetworkAddress(networkID: text.hasPrefix("10.1.") ? "front" : "back", address: network)
    }

    @Test func aTaskBalancesTheVIPsOfItsNetworksOverTheTasksThere() throws {
        let web = ClusterProtocol.Service(
            id: "web", name: "web", endpointMode: .vip, virtualIPs: [try address("10.1.0.2/24"), try address("10.2.0.2/24")],
            tasks: [ClusterProtocol.ServiceTask(id: "t1", slot: "1", addresses: [try address("10.1.0.5/24"), try address("10.2.0.5/24")]),
                    ClusterProtocol.ServiceTask(id: "t2", slot: "2", addresses: [try address("10.1.0.6/24"), try address("10.2.0.6/24")])])
        let dnsrr = ClusterProtocol.Service(id: "rr", name: "rr", endpointMode: .dnsrr, virtualIPs: [],
                                            tasks: [ClusterProtocol.ServiceTask(id: "t3", slot: "1", addresses: [try address("10.1.0.7/24")])])
        let client = TaskObject(meta: ObjectMeta(id: "c"), serviceID: "client", serviceName: "client", slot: 1,
                                spec: TaskSpec(command: ["sleep", "1"], networks: ["front"]), generation: 1,
                                status: TaskStatus(state: .running, timestamp: Date(), message: ""),
                                networks: [try address("10.1.0.9/24")])
        let expected = [VirtualIPService(vip: try #require(IPv4Address("10.1.0.2")),
                                         backends: [try #require(IPv4Address("10.1.0.5")), try #require(IPv4Address("10.1.0.6"))])]
        #expect(TaskAgent.virtualIPs(for: client, services: [web, dnsrr]) == expected,
                "front's VIP only, over the tasks' front addresses; dnsrr has none")
    }
}
