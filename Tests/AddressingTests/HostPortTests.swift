import Addressing
import Testing

@Suite struct HostPortTests {
    @Test func splitsAtTheLastColon() throws {
        let address = try HostPort(parsing: "10.0.0.1:2377")
        #expect(address.host == "10.0.0.1")
        #expect(address.port == 2377)
        #expect(address.description == "10.0.0.1:2377")
        #expect(HostPort("manager-1:1")?.host == "manager-1")
        #expect(HostPort("h:65535")?.port == 65535)
        #expect(HostPort("h:0080")?.port == 80)
    }

    @Test func aBareHostTakesTheDefaultPortWhenThereIsOne() throws {
        #expect(try HostPort(parsing: "10.0.0.1", defaultPort: 2377) == HostPort("10.0.0.1:2377"))
        #expect(try HostPort(parsing: "eth0:4000", defaultPort: 2377).port == 4000)
        #expect(throws: HostPort.ParseError.invalidPort) { try HostPort(parsing: "10.0.0.1") }
        #expect(throws: HostPort.ParseError.emptyHost) { try HostPort(parsing: "", defaultPort: 2377) }
    }

    @Test(arguments: ["10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:99999999999999999999999",
                      "10.0.0.1:x", "10.0.0.1:8o", "10.0.0.1:+80", "10.0.0.1:-1", "10.0.0.1: 80", ":", ""])
    func refusesAMissingOrBadPort(_ text: String) {
        #expect(throws: HostPort.ParseError.invalidPort) { try HostPort(parsing: text) }
        if text.contains(":") {  // a default port stands in only for a missing colon
            #expect(throws: HostPort.ParseError.invalidPort) { try HostPort(parsing: text, defaultPort: 2377) }
        }
    }

    @Test func refusesAnEmptyHostOnceThePortIsFine() {
        #expect(throws: HostPort.ParseError.emptyHost) { try HostPort(parsing: ":2377") }
        #expect(throws: HostPort.ParseError.emptyHost) { try HostPort(parsing: ":2377", defaultPort: 1) }
        #expect(HostPort(":2377") == nil)
    }

    @Test func ipv6LookingTextSplitsAtTheLastColonAndIsNoIPv4Host() throws {
        // As before the parser was shared: the last colon separates the port.
        let bracketed = try HostPort(parsing: "[::1]:2377")
        #expect(bracketed.host == "[::1]")
        #expect(!bracketed.hasIPv4Host)
        #expect(try HostPort(parsing: "::1").host == ":")
    }

    @Test func knowsADottedQuadHost() {
        #expect(HostPort("0.0.0.0:2377")?.hasIPv4Host == true)
        #expect(HostPort("172.31.240.2:1")?.hasIPv4Host == true)
        #expect(HostPort("eth0:2377")?.hasIPv4Host == false)
        #expect(HostPort("1.2.3:2377")?.hasIPv4Host == false)
        #expect(HostPort("256.1.1.1:2377")?.hasIPv4Host == false)
    }
}
