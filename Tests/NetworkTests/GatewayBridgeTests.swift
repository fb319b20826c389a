import Addressing
import Testing
@testable import Network

@Suite struct GatewayBridgeTests {
    @Test func theBridgeSubnetStaysOutOfTheSwarmPoolAndClearOfOverlays() throws {
        let pool = try #require(IPv4Network("10.0.0.0/8"))
        #expect(GatewayBridge.candidateSubnets.allSatisfy { !$0.overlaps(pool) })
        #expect(GatewayBridge.chooseSubnet(avoiding: [])?.description == "172.18.0.0/16")
        let overlay = try #require(IPv4Network("172.18.5.0/24"))
        #expect(GatewayBridge.chooseSubnet(avoiding: [overlay])?.description == "172.19.0.0/16")
        let private172 = try #require(IPv4Network("172.16.0.0/12"))
        #expect(GatewayBridge.chooseSubnet(avoiding: [private172])?.description == "192.168.0.0/20")
    }

    /// A custom address pool over 172.18/16 (`init --default-addr-pool`) with no network
    /// on this node yet: the bridge still keeps out of it; a pool over every candidate is
    /// no reason to fail.
    @Test func theBridgeKeepsClearOfTheClustersAddressPoolsWhereItCan() throws {
        let pool = try #require(IPv4Network("172.18.0.0/15"))
        #expect(GatewayBridge.chooseSubnet(avoiding: [], preferablyClearOf: [pool])?.description == "172.20.0.0/16")
        let everything = try #require(IPv4Network("0.0.0.0/0"))
        #expect(GatewayBridge.chooseSubnet(avoiding: [], preferablyClearOf: [everything])?.description == "172.18.0.0/16")
    }
}
