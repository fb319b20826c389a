import Addressing
import Testing
@testable import Lab

@Suite struct LabSubnetTests {
    private func network(_ text: String) throws -> IPv4Network { try #require(IPv4Network(text)) }

    @Test func takesTheFirstCandidateOnAnEmptyHost() throws {
        #expect(LabSubnet.choose(avoiding: [])?.description == "172.31.240.0/24")
    }

    @Test func skipsCandidatesThatOverlapHostRoutes() throws {
        let taken = [try network("172.31.240.0/24"), try network("172.31.241.128/25")]
        #expect(LabSubnet.choose(avoiding: taken)?.description == "172.31.242.0/24")
    }

    @Test func aWideHostRouteMovesTheLabToTheSecondPool() throws {
        #expect(LabSubnet.choose(avoiding: [try network("172.16.0.0/12")])?.description == "100.77.0.0/24")
    }

    @Test func aDefaultRouteDoesNotCountButAHostCoveringEverythingDoes() throws {
        // The default route is not passed in (it overlaps everything); an address
        // range covering every candidate leaves no choice.
        #expect(LabSubnet.choose(avoiding: [try network("172.31.0.0/16"), try network("100.64.0.0/10")]) == nil)
    }

    @Test func candidatesStayClearOfTheClusterPools() throws {
        let overlayPool = try network("10.0.0.0/8")
        let gatewayBridge = try network("172.18.0.0/16")
        #expect(!LabSubnet.candidates.contains { $0.overlaps(overlayPool) || $0.overlaps(gatewayBridge) })
    }
}
