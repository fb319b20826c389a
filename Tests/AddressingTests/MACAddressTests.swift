import Testing
@testable import Addressing

@Suite struct MACAddressTests {
    @Test func aTaskMACIsDerivedFromItsIPAsDockerDoes() throws {
        let address = try #require(IPv4Address("10.0.1.2"))
        let mac = MACAddress(derivedFrom: address)
        #expect(mac.bytes == [0x02, 0x42, 10, 0, 1, 2])
        #expect(mac.description == "02:42:0a:00:01:02")
        #expect(MACAddress(derivedFrom: try #require(IPv4Address("172.30.255.254"))).description == "02:42:ac:1e:ff:fe")
    }

    @Test func parsesWhatItPrints() throws {
        let mac = try #require(MACAddress("02:42:AC:1e:00:02"))
        #expect(mac.description == "02:42:ac:1e:00:02")
        #expect(MACAddress(bytes: mac.bytes) == mac)
    }

    @Test(arguments: ["", "02:42:ac:1e:00", "02:42:ac:1e:00:02:03", "2:42:ac:1e:00:02", "02:42:ac:1e:00:zz", "02-42-ac-1e-00-02"])
    func refusesMalformedAddresses(_ text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test func onlySixBytesMakeAnAddress() {
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5]) == nil)
    }
}
