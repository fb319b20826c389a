import ClusterWire
import Testing
@testable import Manager

@Suite struct AdvertiseAddressTests {
    private let lab = [AdvertiseAddress.InterfaceAddress(interface: "lo", address: "127.0.0.1"),
                       AdvertiseAddress.InterfaceAddress(interface: "eth0", address: "172.31.240.2")]
    private let twoNetworks = [AdvertiseAddress.InterfaceAddress(interface: "lo", address: "127.0.0.1"),
                               AdvertiseAddress.InterfaceAddress(interface: "eth0", address: "10.0.0.2"),
                               AdvertiseAddress.InterfaceAddress(interface: "eth1", address: "10.1.0.2")]

    @Test func theOnlyAddressOutsideLoopbackIsChosen() throws {
        #expect(try AdvertiseAddress.resolve(nil, defaultPort: 2377, interfaces: lab) == "172.31.240.2:2377")
    }

    @Test func severalAddressesNeedAChoiceInDockersWords() {
        #expect(throws: SwarmError("could not choose an IP address to advertise since this system has multiple addresses on different interfaces (10.0.0.2 on eth0 and 10.1.0.2 on eth1) - specify one with --advertise-addr")) {
            try AdvertiseAddress.resolve(nil, defaultPort: 2377, interfaces: twoNetworks)
        }
    }

    @Test func anInterfaceNameOrAnIPWithOrWithoutAPort() throws {
        #expect(try AdvertiseAddress.resolve("eth1", defaultPort: 2377, interfaces: twoNetworks) == "10.1.0.2:2377")
        #expect(try AdvertiseAddress.resolve("eth1:4000", defaultPort: 2377, interfaces: twoNetworks) == "10.1.0.2:4000")
        #expect(try AdvertiseAddress.resolve("192.168.99.100", defaultPort: 2377, interfaces: twoNetworks) == "192.168.99.100:2377")
    }

    @Test(arguments: ["eth9", "0.0.0.0", "10.0.0.2:0", "10.0.0.2:99999", "10.0.0.2:x", "300.1.1.1"])
    func badFlagsAreRefused(_ flag: String) {
        #expect(throws: SwarmError.self) { try AdvertiseAddress.resolve(flag, defaultPort: 2377, interfaces: twoNetworks) }
    }
}
