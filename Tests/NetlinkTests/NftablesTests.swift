#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Testing
import TestSupport
@testable import Netlink

/// nftables batches built by shoal, read back with Debian's `nft` as the
/// oracle, in a network namespace the test makes.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct NftablesTests {
    private let namespace = "/tmp/shoal-nft-test-\(getpid())"

    private func listing(_ table: String) -> String { nftablesListing(ofTable: table, inNetworkNamespace: namespace) }

    @Test func aMasqueradeTableHoldsOneRuleHoweverOftenItIsReplaced() throws {
        try Namespace.create(.network, at: namespace)
        defer { try? Namespace.remove(at: namespace) }
        let subnet = try #require(IPv4Network("172.18.0.0/16"))
        for _ in 0..<2 {
            try NetfilterSocket.open(inNamespace: namespace)
                .replaceMasqueradeTable("shoal_test", source: subnet, exceptOutputInterface: "shoal_gwbridge")
        }
        let rules = listing("shoal_test")
        #expect(rules.contains("type nat hook postrouting priority srcnat; policy accept;"), "\(rules)")
        #expect(rules.components(separatedBy: "masquerade").count == 2, "exactly one rule: \(rules)")
        #expect(rules.contains("ip saddr 172.18.0.0/16 oifname != \"shoal_gwbridge\" masquerade"), "\(rules)")

        try NetfilterSocket.open(inNamespace: namespace).deleteTable("shoal_test")
        try NetfilterSocket.open(inNamespace: namespace).deleteTable("shoal_test")
        #expect(listing("shoal_test").contains("No such file or directory"))
    }

    @Test func aBatchOfThousandsOfRulesAndMapsIsAppliedWhole() throws {
        try Namespace.create(.network, at: namespace)
        defer { try? Namespace.remove(at: namespace) }
        // More messages than acknowledgements fit in a receive buffer, more bytes than libnl's default send buffer.
        let rules = (0..<3000).map { index in
            NftablesRule([.destinationAddress(IPv4Address(0x0a4d_0000 + UInt32(index)))],
                    .balanceAddresses([IPv4Address(0x0a4e_0001), IPv4Address(0x0a4e_0002)]))
        }
        let chain = NftablesChain(name: "output", kind: .nat, hook: .output, priority: -100, rules: rules)
        try NetfilterSocket.open(inNamespace: namespace).replaceTable("shoal_test", chains: [chain])
        let listed = listing("shoal_test")
        #expect(listed.components(separatedBy: "dnat to numgen inc mod 2 map").count == 3001)
        #expect(listed.contains("ip daddr 10.77.11.183 dnat to numgen inc mod 2 map { 0 : 10.78.0.1, 1 : 10.78.0.2 }"), "\(listed.prefix(600))")
    }

    @Test func aBatchOverTheLimitIsRefusedBeforeTheKernelSeesIt() throws {
        try Namespace.create(.network, at: namespace)
        defer { try? Namespace.remove(at: namespace) }
        let backends = (0..<1000).map { IPv4Address(0x0a4e_0000 + UInt32($0)) }
        let rules = (0..<200).map { NftablesRule([.destinationAddress(IPv4Address(0x0a4d_0000 + UInt32($0)))], .balanceAddresses(backends)) }
        let chain = NftablesChain(name: "output", kind: .nat, hook: .output, priority: -100, rules: rules)
        let error = #expect(throws: SystemError.self) {
            try NetfilterSocket.open(inNamespace: namespace).replaceTable("shoal_test", chains: [chain])
        }
        #expect(error?.description.hasPrefix("replace nftables table ip shoal_test: its batch of ") == true, "\(String(describing: error))")
        #expect(listing("shoal_test").contains("No such file or directory"))
    }

    @Test func aRefusedBatchChangesNothingAndSaysWhy() throws {
        try Namespace.create(.network, at: namespace)
        defer { try? Namespace.remove(at: namespace) }
        let good = NftablesChain(name: "output", kind: .nat, hook: .output, priority: -100,
                            rules: [NftablesRule([.transportProtocol(.tcp)], .rejectWithReset)])
        try NetfilterSocket.open(inNamespace: namespace).replaceTable("shoal_test", chains: [good])
        let before = listing("shoal_test")
        // No reject after routing: the kernel refuses the rule, and with it the whole batch.
        let bad = NftablesChain(name: "postrouting", kind: .nat, hook: .postrouting, priority: 100, rules: [NftablesRule([], .rejectUnreachable)])
        #expect(throws: SystemError.self) {
            try NetfilterSocket.open(inNamespace: namespace).replaceTable("shoal_test", chains: [bad])
        }
        #expect(listing("shoal_test") == before)
    }
}

/// Generic netlink family look-ups, in a namespace the test makes.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct GenericNetlinkTests {
    @Test func theControllerFindsItselfAndNotAMissingFamily() throws {
        try ThrowawayNamespaces("shoal-genl-test").with(["node"]) { (paths: [String]) throws in
            #expect(try GenericNetlink.familyID(named: "nlctrl", inNamespace: paths[0]) == 0x10)
            #expect(try GenericNetlink.familyID(named: "no-such-family", inNamespace: paths[0]) == nil)
        }
    }
}

@Suite struct GenericNetlinkMessageTests {
    @Test func aFamilyRequestIsGetFamilyWithTheName() {
        let request = GenericNetlink.familyRequest("IPVS", sequence: 7)
        var attributes = AttributeWriter()
        attributes.string(2, "IPVS")
        #expect(request == netlinkMessage(type: 0x10, flags: 0x5, sequence: 7, payload: [3, 1, 0, 0] + attributes.bytes))
        #expect(request.count == 16 + 4 + 12)
    }
}


private extension String {
    func components(separatedBy separator: String) -> [Substring] { split(separator: separator, omittingEmptySubsequences: false) }
}
