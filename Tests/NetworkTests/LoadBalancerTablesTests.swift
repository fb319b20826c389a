#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Testing
import TestSupport
@testable import Netlink
@testable import Network

private func ip(_ text: String) -> IPv4Address { IPv4Address(text) ?? IPv4Address(0) }

/// What the tables make of their input, and what they refuse (no kernel, no root).
@Suite struct LoadBalancerTableInputTests {
    @Test func aVIPTableIsTheSameForTheSameServicesInAnyOrder() throws {
        let web = VirtualIPService(vip: ip("10.0.1.2"), backends: [ip("10.0.1.9"), ip("10.0.1.5"), ip("10.0.1.9")])
        let db = VirtualIPService(vip: ip("10.0.1.3"), backends: [])
        let chains = try VirtualIPTable.chains(for: [web, db])
        #expect(try VirtualIPTable.chains(for: [db, web]) == chains)
        #expect(chains.map(\.kind) == [.nat, .filter])
        #expect(chains.map(\.hook) == [.output, .output])
        #expect(chains.map(\.priority) == [-100, 0])
        // Backends sorted, each once.
        #expect(chains[0].rules == [
            NftablesRule([.notTransportProtocol(.tcp), .notTransportProtocol(.udp)], .leaveChain),
            NftablesRule([.destinationAddress(web.vip)], .balanceAddresses([ip("10.0.1.5"), ip("10.0.1.9")])),
        ])
        #expect(chains[1].rules == [
            NftablesRule([.destinationAddress(db.vip), .transportProtocol(.tcp)], .rejectWithReset),
            NftablesRule([.destinationAddress(db.vip), .transportProtocol(.udp)], .rejectUnreachable),
        ])
        // A chain with nothing to do is not hooked at all.
        #expect(try VirtualIPTable.chains(for: [web]).map(\.kind) == [.nat])
        #expect(try VirtualIPTable.chains(for: [db]).map(\.kind) == [.filter])
        #expect(try VirtualIPTable.chains(for: []).isEmpty)
    }

    @Test func aVIPTableRefusesARepeatedVIPAndTooManyBackends() {
        let twice = [VirtualIPService(vip: ip("10.0.1.2"), backends: []), VirtualIPService(vip: ip("10.0.1.2"), backends: [])]
        #expect(throws: LoadBalancerError("VIP 10.0.1.2 is given twice: give each VIP once with all its backends")) {
            try VirtualIPTable.chains(for: twice)
        }
        let crowded = VirtualIPService(vip: ip("10.0.1.2"), backends: (0..<1025).map { IPv4Address(0x0a01_0000 + UInt32($0)) })
        #expect(throws: LoadBalancerError("VIP 10.0.1.2 has 1025 backends, more than 1024: scale the service down")) {
            try VirtualIPTable.chains(for: [crowded])
        }
        let many = (0..<4097).map { VirtualIPService(vip: IPv4Address(0x0a02_0000 + UInt32($0)), backends: []) }
        #expect(throws: LoadBalancerError("table ip shoal-vip would hold 4097 entries, more than 4096: remove services or ports")) {
            try VirtualIPTable.chains(for: many)
        }
        let heavy = (0..<17).map { service in
            VirtualIPService(vip: IPv4Address(0x0a02_0000 + UInt32(service)),
                             backends: (0..<1000).map { IPv4Address(0x0a03_0000 + UInt32($0)) })
        }
        #expect(throws: LoadBalancerError("table ip shoal-vip would hold 17000 backends, more than 16384: scale services down")) {
            try VirtualIPTable.chains(for: heavy)
        }
    }

    @Test func publishedPortsAreChecked() throws {
        let rule = PublishRule(transport: .tcp, port: 80, destination: ip("10.255.0.2"), destinationPort: 80)
        let chains = try PublishTable.chains(for: [rule])
        #expect(chains.map(\.hook) == [.prerouting, .output, .postrouting])
        #expect(chains[0].rules == [NftablesRule([.localDestination, .transportProtocol(.tcp), .destinationPort(80)],
                                            .translateDestination(ip("10.255.0.2"), port: 80))])
        #expect(chains[1].rules == chains[0].rules)
        // What the node sends itself (127.0.0.1 too) leaves the gateway bridge with the bridge's address.
        #expect(chains[2].rules == [NftablesRule([.outputInterface(GatewayBridge.name), .localSource, .destinationTranslated], .masquerade)])
        #expect(throws: LoadBalancerError("published port 0 is not a port: use 1-65535")) {
            try PublishTable.chains(for: [PublishRule(transport: .tcp, port: 0, destination: ip("10.0.0.2"), destinationPort: 80)])
        }
        #expect(throws: LoadBalancerError("destination port 65536 is not a port: use 1-65535")) {
            try PublishTable.chains(for: [PublishRule(transport: .udp, port: 53, destination: ip("10.0.0.2"), destinationPort: 65536)])
        }
        #expect(throws: LoadBalancerError("port 80/tcp is published twice: publish each port once")) {
            try PublishTable.chains(for: [rule, rule])
        }
        // The same number over UDP is another port.
        let udp = PublishRule(transport: .udp, port: 80, destination: ip("10.255.0.2"), destinationPort: 80)
        #expect(try PublishTable.chains(for: [udp, rule])[0].rules.count == 2)
    }

    @Test func ingressPortsAndInterfacesAreChecked() throws {
        let port = IngressPort(transport: .udp, published: 53, backends: [IngressBackend(address: ip("10.255.0.7"), port: 5353)])
        let chains = try IngressTable.chains(inbound: "shin0", overlayBridge: "shbr0", ports: [port])
        #expect(chains[0].rules == [NftablesRule([.inputInterface("shin0"), .transportProtocol(.udp), .destinationPort(53)],
                                            .balanceDestinations([NatDestination(address: ip("10.255.0.7"), port: 5353)]))])
        #expect(chains[1].rules == [NftablesRule([.outputInterface("shbr0"), .destinationTranslated], .masquerade)])
        #expect(throws: LoadBalancerError("inbound interface name \"sixteen-letters0\" is not one: use 1-15 bytes without / or NUL")) {
            try IngressTable.chains(inbound: "sixteen-letters0", overlayBridge: "shbr0", ports: [port])
        }
        let badTarget = IngressPort(transport: .tcp, published: 80, backends: [IngressBackend(address: ip("10.255.0.7"), port: -1)])
        #expect(throws: LoadBalancerError("target port -1 of port 80/tcp is not a port: use 1-65535")) {
            try IngressTable.chains(inbound: "shin0", overlayBridge: "shbr0", ports: [badTarget])
        }
        let empty = IngressPort(transport: .tcp, published: 80, backends: [])
        #expect(try IngressTable.chains(inbound: "shin0", overlayBridge: "shbr0", ports: [empty])[0].rules
            == [NftablesRule([.inputInterface("shin0"), .transportProtocol(.tcp), .destinationPort(80)], .rejectWithReset)])
    }
}

@Suite struct LoadBalancerBackendChoiceTests {
    private struct ProbeFailed: Error, CustomStringConvertible {
        var description: String { "no socket" }
    }

    @Test func autoTakesIPVSOnlyWhereTheKernelHasIt() throws {
        #expect(try LoadBalancerBackend.choose(requested: .auto, probe: { true }).backend == .ipvs)
        let without = try LoadBalancerBackend.choose(requested: .auto, probe: { false })
        #expect(without.backend == .nftables)
        #expect(without.reason == "nftables: the kernel has no IPVS (--lb auto)")
        #expect(try LoadBalancerBackend.choose(requested: .auto, probe: { throw ProbeFailed() }).backend == .nftables)
    }

    @Test func askingForIPVSWithoutItIsAnErrorAndNftablesNeedsNoProbe() throws {
        #expect(throws: LoadBalancerError(
            "--lb ipvs: this kernel has no IPVS (no generic netlink family IPVS; load ip_vs): use --lb nftables or auto")) {
            try LoadBalancerBackend.choose(requested: .ipvs, probe: { false })
        }
        #expect(try LoadBalancerBackend.choose(requested: .ipvs, probe: { true }).backend == .ipvs)
        #expect(try LoadBalancerBackend.choose(requested: .nftables, probe: { throw ProbeFailed() }).backend == .nftables)
    }
}

/// The probe against the kernel, in a namespace the test makes.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"))
struct LoadBalancerBackendProbeTests {
    @Test func theProbeFindsIPVSExactlyWhenTheKernelHasIt() throws {
        // /proc/net/ip_vs exists iff ip_vs is in the kernel (it is not on these machines).
        let kernelHasIPVS = access("/proc/net/ip_vs", F_OK) == 0
        try ThrowawayNamespaces("shoal-lb-probe-test").with(["node"]) { (paths: [String]) throws in
            #expect(try LoadBalancerBackend.ipvsAvailable(inNamespace: paths[0]) == kernelHasIPVS)
            let choice = try LoadBalancerBackend.choose(requested: .auto) {
                try LoadBalancerBackend.ipvsAvailable(inNamespace: paths[0])
            }
            #expect(choice.backend == (kernelHasIPVS ? .ipvs : .nftables))
        }
    }
}

/// The largest tables the limits allow fit in one nftables batch (built, not sent).
@Suite struct LoadBalancerBatchSizeTests {
    private static let addresses = (0..<LoadBalancerLimits.backendsPerTable).map { IPv4Address(0x0a70_0000 + UInt32($0)) }
    private static let perEntry = LoadBalancerLimits.backendsPerTable / LoadBalancerLimits.entriesPerTable

    /// Entry `entry`'s share of the table's backends.
    private static func backends(of entry: Int) -> ArraySlice<IPv4Address> { addresses[(entry * perEntry)..<((entry + 1) * perEntry)] }

    /// The table `name` at the limits: every entry, every backend, the longest interface name.
    private static func largest(_ name: String) throws -> [NftablesChain] {
        let entries = 0..<LoadBalancerLimits.entriesPerTable
        switch name {
        case VirtualIPTable.name:
            return try VirtualIPTable.chains(for: entries.map {
                VirtualIPService(vip: IPv4Address(0x0a60_0000 + UInt32($0)), backends: Array(backends(of: $0)))
            })
        case IngressTable.name:
            return try IngressTable.chains(inbound: "shingress-veth0", overlayBridge: "shbr0", ports: entries.map { entry in
                IngressPort(transport: entry % 2 == 0 ? .tcp : .udp, published: 1 + entry / 2,
                            backends: backends(of: entry).map { IngressBackend(address: $0, port: 65535) })
            })
        default:
            return try PublishTable.chains(for: entries.map { entry in
                PublishRule(transport: entry % 2 == 0 ? .tcp : .udp, port: 1 + entry / 2, destination: addresses[entry], destinationPort: 65535)
            })
        }
    }

    @Test(arguments: [VirtualIPTable.name, IngressTable.name, PublishTable.name])
    func theLargestTableFitsInABatch(_ name: String) throws {
        let batch = NetfilterSocket.batch(try NetfilterSocket.replacement(of: name, chains: Self.largest(name)), firstSequence: 1)
        #expect(batch.bytes.count <= NetfilterSocket.maximumBatchBytes)
    }

    @Test func oneEntryOrBackendMoreIsRefusedBeforeAnythingIsBuilt() throws {
        let services = (0..<LoadBalancerLimits.entriesPerTable).map {
            VirtualIPService(vip: IPv4Address(0x0a60_0000 + UInt32($0)), backends: Array(Self.backends(of: $0)))
        }
        #expect(throws: LoadBalancerError.self) {
            try VirtualIPTable.chains(for: services + [VirtualIPService(vip: IPv4Address(0x0b00_0000), backends: [])])
        }
        let oneMore = VirtualIPService(vip: services[0].vip, backends: services[0].backends + [IPv4Address(0x0b00_0000)])
        #expect(throws: LoadBalancerError.self) { try VirtualIPTable.chains(for: [oneMore] + services.dropFirst()) }
    }
}
