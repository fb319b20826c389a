import Testing
@testable import Lab

/// What `lab up` passes on to every node's daemon.
@Suite struct LabStateTests {
    private func state(dnsUpstreams: [String]?, loadBalancer: String?) -> LabState {
        LabState(name: "lab", subnet: "172.31.240.0/24", switchNamespace: "/x/switch.netns", nodes: [],
                 dnsUpstreams: dnsUpstreams, loadBalancer: loadBalancer)
    }

    @Test func theDaemonsGetTheLabsDNSUpstreamsAndLoadBalancer() {
        #expect(state(dnsUpstreams: ["127.0.0.1:5353"], loadBalancer: "ipvs").daemonOptions
            == ["--dns-upstream", "127.0.0.1:5353", "--lb", "ipvs"])
        #expect(state(dnsUpstreams: nil, loadBalancer: nil).daemonOptions.isEmpty)
    }
}
