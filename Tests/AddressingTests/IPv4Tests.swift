import FoundationEssentials
import Testing
@testable import Addressing

@Suite struct IPv4Tests {
    @Test func parsesAndPrintsAddresses() throws {
        let address = try #require(IPv4Address("172.31.240.7"))
        #expect(address.octets == [172, 31, 240, 7])
        #expect(address.description == "172.31.240.7")
        #expect(IPv4Address("0.0.0.0")?.value == 0)
        #expect(IPv4Address("255.255.255.255")?.value == UInt32.max)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "a.b.c.d", "1..2.3", " 1.2.3.4"])
    func refusesMalformedAddresses(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func networksKnowTheirHostsAndOverlaps() throws {
        let lab = try #require(IPv4Network("172.31.240.0/24"))
        #expect(lab.host(1).description == "172.31.240.1")
        #expect(lab.contains(try #require(IPv4Address("172.31.240.200"))))
        #expect(!lab.contains(try #require(IPv4Address("172.31.241.1"))))
        #expect(lab.overlaps(try #require(IPv4Network("172.31.0.0/16"))))
        #expect(lab.overlaps(try #require(IPv4Network("0.0.0.0/0"))))
        #expect(!lab.overlaps(try #require(IPv4Network("172.31.241.0/24"))))
        #expect(IPv4Network("10.1.2.3/8")?.networkAddress.description == "10.0.0.0")
    }

    @Test func theFirstCandidateClearOfEveryTakenNetworkIsPicked() throws {
        let candidates = try ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"].map { try #require(IPv4Network($0)) }
        #expect(candidates.first(overlappingNoneOf: [])?.description == "10.0.0.0/24")
        let taken = try ["10.0.0.128/25", "10.0.1.7/32"].map { try #require(IPv4Network($0)) }
        #expect(candidates.first(overlappingNoneOf: taken)?.description == "10.0.2.0/24")
        #expect(candidates.first(overlappingNoneOf: [try #require(IPv4Network("10.0.0.0/16"))]) == nil)
    }

    @Test(arguments: ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "10.0.0.0/x"])
    func refusesMalformedNetworks(_ text: String) {
        #expect(IPv4Network(text) == nil)
    }
}

@Suite struct SubnetTests {
    @Test func aPoolIsCutIntoSubnetsInAddressOrder() throws {
        let pool = try #require(IPv4Network("10.0.0.0/8"))
        let first = Array(pool.subnets(ofLength: 24).prefix(3)).map(\.description)
        #expect(first == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"])
        #expect(pool.subnets(ofLength: 24).reduce(0) { count, _ in count + 1 } == 65_536)
        #expect(Array(pool.subnets(ofLength: 8)).map(\.description) == ["10.0.0.0/8"])
        #expect(Array(pool.subnets(ofLength: 7)).isEmpty)
        #expect(Array(pool.subnets(ofLength: 33)).isEmpty)
        let whole = try #require(IPv4Network("0.0.0.0/0"))
        #expect(Array(whole.subnets(ofLength: 1)).map(\.description) == ["0.0.0.0/1", "128.0.0.0/1"])
    }

    @Test func sizeBroadcastAndNetworkForm() throws {
        let network = try #require(IPv4Network("172.30.0.5/24"))
        #expect(network.size == 256)
        #expect(network.broadcastAddress.description == "172.30.0.255")
        #expect(!network.isNetwork)
        #expect(network.network.description == "172.30.0.0/24")
        #expect(try #require(IPv4Network("0.0.0.0/0")).size == 1 << 32)
    }

    @Test func networksTravelAsTheirCIDRText() throws {
        let network = try #require(IPv4Network("10.0.1.0/24"))
        let encoded = try JSONEncoder().encode([network])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["10.0.1.0\/24"]"#)
        #expect(try JSONDecoder().decode([IPv4Network].self, from: encoded) == [network])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IPv4Network].self, from: Data(#"["10.0.1.0/33"]"#.utf8)) }
    }
}
