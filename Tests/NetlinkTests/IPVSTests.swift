#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Testing
import TestSupport
@testable import Netlink

/// IPVS requests byte by byte as ip_vs_ctl.c parses them (x86-64: host order is little-endian).
@Suite struct IPVSMessageTests {
    private let family: [UInt8] = [6, 0, 1, 0, 2, 0, 0, 0]  // AF_INET
    private let fwmark256: [UInt8] = [8, 0, 5, 0, 0, 1, 0, 0]

    @Test func aNewServiceIsAFwmarkWithRoundRobinAndEverySettingTheKernelRequires() {
        let settings: [UInt8] = [7, 0, 6, 0, 0x72, 0x72, 0, 0]  // "rr"
            + [12, 0, 7, 0, 0, 0, 0, 0, 255, 255, 255, 255]  // flags 0, mask all
            + [8, 0, 8, 0, 0, 0, 0, 0]  // timeout
            + [8, 0, 9, 0, 255, 255, 255, 255]  // netmask
        #expect(IPVSMessage.newService(fwmark: 256) == [1, 1, 0, 0] + [56, 0, 1, 0x80] + family + fwmark256 + settings)
        #expect(IPVSMessage.deleteService(fwmark: 256) == [3, 1, 0, 0] + [20, 0, 1, 0x80] + family + fwmark256)
    }

    @Test func aDestinationIsMasqueradedAndItsWeightCanDropToZero() {
        let service: [UInt8] = [20, 0, 1, 0x80] + family + fwmark256
        let address: [UInt8] = [20, 0, 1, 0, 10, 0, 0, 5] + [UInt8](repeating: 0, count: 12)
        let port: [UInt8] = [6, 0, 2, 0, 0, 0, 0, 0]
        let addressFamily: [UInt8] = [6, 0, 11, 0, 2, 0, 0, 0]
        let settings = { (weight: UInt8) -> [UInt8] in
            [8, 0, 3, 0, 0, 0, 0, 0] + [8, 0, 4, 0, weight, 0, 0, 0] + [8, 0, 5, 0, 0, 0, 0, 0] + [8, 0, 6, 0, 0, 0, 0, 0]
        }
        let backend = IPVSDestination(address: IPv4Address(0x0a00_0005))
        #expect(IPVSMessage.newDestination(backend, fwmark: 256, weight: 1)
            == [5, 1, 0, 0] + service + [72, 0, 2, 0x80] + address + port + settings(1) + addressFamily)
        #expect(IPVSMessage.setDestination(backend, fwmark: 256, weight: 0)
            == [6, 1, 0, 0] + service + [72, 0, 2, 0x80] + address + port + settings(0) + addressFamily)
        #expect(IPVSMessage.deleteDestination(backend, fwmark: 256)
            == [7, 1, 0, 0] + service + [40, 0, 2, 0x80] + address + port + addressFamily)
    }

    @Test func aDestinationWithAPortTranslatesToIt() {
        let message = IPVSMessage.newDestination(IPVSDestination(address: IPv4Address(0x0a00_0005), port: 8080), fwmark: 256, weight: 1)
        let port: [UInt8] = [6, 0, 2, 0, 0x1f, 0x90, 0, 0]  // big-endian 8080
        #expect(message.count == 4 + 20 + 72)
        #expect(Array(message[(4 + 20 + 4 + 20)..<(4 + 20 + 4 + 20 + 8)]) == port)
    }

    @Test func theDumpsAskForEveryServiceAndForTheDestinationsOfOneFwmark() {
        #expect(IPVSMessage.getServices() == [4, 1, 0, 0])
        #expect(IPVSMessage.getDestinations(fwmark: 256) == [8, 1, 0, 0] + [20, 0, 1, 0x80] + family + fwmark256)
    }

    @Test func theKernelsAnswersReadBackAsFwmarksAndWeightedDestinations() {
        // As ip_vs_genl_fill_service and _fill_dest write them (more attributes than read here).
        let service: [UInt8] = [4, 1, 0, 0] + [28, 0, 1, 0x80] + family + fwmark256 + [7, 0, 6, 0, 0x72, 0x72, 0, 0]
        #expect(IPVSMessage.fwmark(inServiceReply: service) == 256)
        let addressService: [UInt8] = [4, 1, 0, 0] + [20, 0, 1, 0x80] + family + [6, 0, 2, 0, 6, 0, 0, 0]
        #expect(IPVSMessage.fwmark(inServiceReply: addressService) == nil)
        let destination: [UInt8] = [8, 1, 0, 0] + [48, 0, 2, 0x80]
            + [20, 0, 1, 0, 10, 0, 0, 5] + [UInt8](repeating: 0, count: 12)
            + [6, 0, 2, 0, 0x1f, 0x90, 0, 0] + [8, 0, 3, 0, 0, 0, 0, 0] + [8, 0, 4, 0, 3, 0, 0, 0]
        let read = IPVSMessage.destination(inReply: destination)
        #expect(read?.0 == IPVSDestination(address: IPv4Address(0x0a00_0005), port: 8080))
        #expect(read?.weight == 3)
        #expect(IPVSMessage.destination(inReply: Array(destination.prefix(30))) == nil)
    }
}

/// docker's first half of an IPVS VIP: the VIP's TCP and UDP packets marked with its service's fwmark.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"))
struct FwmarkRuleTests {
    @Test func aVIPsPacketsAreMarkedBeforeRouting() throws {
        try ThrowawayNamespaces("shoal-fwmark-test").with(["task"]) { paths in
            let rules = TransportProtocol.allCases.map {
                NftablesRule([.destinationAddress(IPv4Address(0x0a00_0002)), .transportProtocol($0)], .setMark(0x100))
            }
            let chain = NftablesChain(name: "mark", kind: .filter, hook: .output, priority: -150, rules: rules)
            try NetfilterSocket.open(inNamespace: paths[0]).replaceTable("shoal_test", chains: [chain])
            let listed = nftablesListing(ofTable: "shoal_test", inNetworkNamespace: paths[0])
            #expect(listed.contains("ip daddr 10.0.0.2 meta l4proto tcp meta mark set 0x00000100"), "\(listed)")
            #expect(listed.contains("ip daddr 10.0.0.2 meta l4proto udp meta mark set 0x00000100"), "\(listed)")
        }
    }
}

@Suite(.enabled(if: getuid() == 0 && access("/proc/net/ip_vs", F_OK) != 0, "needs root and a kernel without ip_vs"))
struct IPVSMissingTests {
    @Test func aKernelWithoutIPVSIsOneLineThatSaysWhatToDo() throws {
        try ThrowawayNamespaces("shoal-ipvs-test").with(["node"]) { (paths: [String]) throws in
            let error = #expect(throws: SystemError.self) { try IPVSSocket.open(inNamespace: paths[0]) }
            #expect(error?.description
                == "program IPVS: this kernel has no IPVS (no generic netlink family IPVS): load ip_vs or use --lb nftables")
        }
    }
}
