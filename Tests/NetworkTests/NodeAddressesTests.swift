import Addressing
import Testing
@testable import Network

@Suite struct NodeAddressesTests {
    @Test func theResolversAreTheNameserverLinesAndALocalStubIsReplacedByItsUpstreams() {
        let stub = "# managed\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lab\n"
        let upstreams = "nameserver 10.255.255.53\nnameserver\t192.0.2.1\nnameserver fe80::1\n"
        #expect(NodeAddresses.nameservers(resolvConf: stub, upstreamResolvConf: upstreams).map(\.description)
                == ["10.255.255.53", "192.0.2.1"])
        let plain = "nameserver 192.0.2.53\n#nameserver 10.0.0.1\nnameserver bogus\n"
        #expect(NodeAddresses.nameservers(resolvConf: plain, upstreamResolvConf: upstreams).map(\.description) == ["192.0.2.53"])
        #expect(NodeAddresses.nameservers(resolvConf: "", upstreamResolvConf: "").isEmpty)
    }
}
