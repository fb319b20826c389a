import Addressing
import Testing
@testable import Netlink
@testable import Network

private func ip(_ text: String) -> IPv4Address { IPv4Address(text) ?? IPv4Address(0) }

/// What the IPVS backend wants a namespace to hold, and the way there from
/// what its IPVS holds (no kernel: the VM test runs them against ip_vs).
@Suite struct IPVSPlanTests {
    @Test func aVIPIsMarkedWithItselfAndBalancedOverItsBackendsPortKept() throws {
        let web = VirtualIPService(vip: ip("10.0.1.2"), backends: [ip("10.0.1.9"), ip("10.0.1.5"), ip("10.0.1.9")])
        let idle = VirtualIPService(vip: ip("10.0.1.3"), backends: [])
        let plan = try IPVSPlan.virtualIPs([idle, web])
        #expect(try IPVSPlan.virtualIPs([web, idle]) == plan)
        let mark: UInt32 = 0x0a00_0102
        #expect(plan.services == [mark: [IPVSDestination(address: ip("10.0.1.5")), IPVSDestination(address: ip("10.0.1.9"))]])
        #expect(plan.chains.map(\.name) == ["mark", "refuse"])
        #expect(plan.chains.map(\.kind) == [.filter, .filter])
        #expect(plan.chains.map(\.hook) == [.output, .output])
        // Marked before IPVS takes locally sent packets (NF_IP_PRI_NAT_DST + 2).
        #expect(plan.chains[0].priority == -150)
        #expect(plan.chains[0].rules == [
            NftablesRule([.destinationAddress(web.vip), .transportProtocol(.tcp)], .setMark(mark)),
            NftablesRule([.destinationAddress(web.vip), .transportProtocol(.udp)], .setMark(mark)),
        ])
        // A VIP without backends is refused as the nftables backend refuses it.
        #expect(plan.chains[1] == VirtualIPTable.refusals(for: try VirtualIPTable.validated([idle])))
        #expect(plan.chains[1].rules.count == 2)
    }

    @Test func theVIPPlanRefusesWhatTheNftablesTableRefuses() {
        let twice = [VirtualIPService(vip: ip("10.0.1.2"), backends: []), VirtualIPService(vip: ip("10.0.1.2"), backends: [])]
        #expect(throws: LoadBalancerError("VIP 10.0.1.2 is given twice: give each VIP once with all its backends")) {
            try IPVSPlan.virtualIPs(twice)
        }
    }

    @Test func aPublishedPortIsMarkedOnTheWayInAndMasqueradedOnTheWayOut() throws {
        let web = IngressPort(transport: .tcp, published: 8080, backends: [
            IngressBackend(address: ip("10.255.0.7"), port: 80), IngressBackend(address: ip("10.255.0.5"), port: 80),
        ])
        let dns = IngressPort(transport: .udp, published: 8080, backends: [IngressBackend(address: ip("10.255.0.5"), port: 53)])
        let idle = IngressPort(transport: .tcp, published: 9090, backends: [])
        let plan = try IPVSPlan.ingress(inbound: "eth1", overlayBridge: "eth0", ports: [idle, dns, web])
        let tcpMark: UInt32 = 8080, udpMark: UInt32 = 0x1_0000 | 8080
        #expect(plan.services == [
            tcpMark: [IPVSDestination(address: ip("10.255.0.5"), port: 80), IPVSDestination(address: ip("10.255.0.7"), port: 80)],
            udpMark: [IPVSDestination(address: ip("10.255.0.5"), port: 53)],
        ])
        #expect(plan.chains.map(\.name) == ["mark", "refuse", "postrouting"])
        #expect(plan.chains.map(\.kind) == [.filter, .filter, .nat])
        #expect(plan.chains.map(\.hook) == [.prerouting, .prerouting, .postrouting])
        #expect(plan.chains.map(\.priority) == [-150, 0, 100])
        #expect(plan.chains[0].rules == [
            NftablesRule([.inputInterface("eth1"), .transportProtocol(.tcp), .destinationPort(8080)], .setMark(tcpMark)),
            NftablesRule([.inputInterface("eth1"), .transportProtocol(.udp), .destinationPort(8080)], .setMark(udpMark)),
        ])
        #expect(plan.chains[1].rules == [
            NftablesRule([.inputInterface("eth1"), .transportProtocol(.tcp), .destinationPort(9090)], .rejectWithReset),
        ])
        #expect(plan.chains[2].rules == [
            NftablesRule([.outputInterface("eth0"), .mark(tcpMark)], .masquerade),
            NftablesRule([.outputInterface("eth0"), .mark(udpMark)], .masquerade),
        ])
    }

    @Test func theIngressPlanRefusesWhatTheNftablesTableRefuses() {
        let bad = IngressPort(transport: .tcp, published: 70000, backends: [])
        #expect(throws: LoadBalancerError("published port 70000 is not a port: use 1-65535")) {
            try IPVSPlan.ingress(inbound: "eth1", overlayBridge: "eth0", ports: [bad])
        }
        #expect(throws: LoadBalancerError("inbound interface name \"\" is not one: use 1-15 bytes without / or NUL")) {
            try IPVSPlan.ingress(inbound: "", overlayBridge: "eth0", ports: [])
        }
    }
}

@Suite struct IPVSChangesTests {
    private let a = IPVSDestination(address: ip("10.0.1.5")), b = IPVSDestination(address: ip("10.0.1.6"))
    private let c = IPVSDestination(address: ip("10.0.1.7"))

    @Test func anEmptyKernelGetsEveryServiceThenItsDestinations() {
        let changes = IPVSChanges(from: [:], to: [20: [b, a], 10: [c]])
        #expect(changes.additions == [
            .addService(fwmark: 10), .addDestination(c, fwmark: 10),
            .addService(fwmark: 20), .addDestination(a, fwmark: 20), .addDestination(b, fwmark: 20),
        ])
        #expect(changes.removals.isEmpty)
    }

    @Test func whatTheKernelAlreadyHoldsIsLeftAlone() {
        // A restarted daemon finds its services: nothing to do.
        let changes = IPVSChanges(from: [10: [a: 1, b: 1]], to: [10: [a, b]])
        #expect(changes.additions.isEmpty)
        #expect(changes.removals.isEmpty)
    }

    @Test func aDepartingDestinationFirstGetsWeightZeroThenIsDeleted() {
        let changes = IPVSChanges(from: [10: [a: 1, b: 1]], to: [10: [a, c]])
        #expect(changes.additions == [.addDestination(c, fwmark: 10)])
        #expect(changes.removals == [.setWeight(0, b, fwmark: 10), .deleteDestination(b, fwmark: 10)])
    }

    @Test func aDestinationLeftAtWeightZeroIsWeighedAgain() {
        let changes = IPVSChanges(from: [10: [a: 0]], to: [10: [a]])
        #expect(changes.additions == [.setWeight(1, a, fwmark: 10)])
        #expect(changes.removals.isEmpty)
    }

    @Test func aServiceNoLongerWantedGoesAfterItsDestinations() {
        let changes = IPVSChanges(from: [10: [a: 1], 20: [b: 1]], to: [20: [b]])
        #expect(changes.additions.isEmpty)
        #expect(changes.removals == [.deleteService(fwmark: 10)])
        #expect(IPVSChanges(from: [10: [a: 1]], to: [:]).removals == [.deleteService(fwmark: 10)])
    }
}
