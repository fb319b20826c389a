import ShoalAPI
import Testing

/// docker's units for `--limit-*` and `--reserve-*`, and how inspect prints them.
struct ResourcesTests {
    @Test func memoryTakesDockersUnits() throws {
        #expect(try ResourceUnits.memoryBytes("32M", option: "--limit-memory") == 32 << 20)
        #expect(try ResourceUnits.memoryBytes("1g", option: "--limit-memory") == 1 << 30)
        #expect(try ResourceUnits.memoryBytes("1048576", option: "--limit-memory") == 1 << 20)
        #expect(throws: ShoalError.self) { try ResourceUnits.memoryBytes("32Q", option: "--limit-memory") }
        #expect(throws: ShoalError.self) { try ResourceUnits.memoryBytes("-1", option: "--limit-memory") }
    }

    @Test func cpusAreDecimalsOfAtMostNineDigits() throws {
        #expect(try ResourceUnits.nanoCPUs("0.5", option: "--limit-cpu") == 500_000_000)
        #expect(try ResourceUnits.nanoCPUs("2", option: "--limit-cpu") == 2_000_000_000)
        #expect(try ResourceUnits.nanoCPUs(".25", option: "--limit-cpu") == 250_000_000)
        #expect(try ResourceUnits.nanoCPUs("1.000000001", option: "--limit-cpu") == 1_000_000_001)
        for bad in ["", ".", "1.0000000001", "-1", "1e3", "0x10", "99999"] {
            #expect(throws: ShoalError.self, "\(bad)") { try ResourceUnits.nanoCPUs(bad, option: "--limit-cpu") }
        }
    }

    @Test func valuesPrintAsDockersInspectPrintsThem() {
        #expect(ResourceUnits.cpuText(500_000_000) == "0.5" && ResourceUnits.cpuText(2_000_000_000) == "2")
        #expect(ResourceUnits.cpuText(1_000_000_001) == "1.000000001")
        #expect(ResourceUnits.memoryText(32 << 20) == "32MiB" && ResourceUnits.memoryText(1 << 30) == "1GiB")
        #expect(ResourceUnits.memoryText(1536) == "1.5KiB" && ResourceUnits.memoryText(100) == "100B")
        #expect(ResourceUnits.memoryText(25_276_510_208) == "23.54GiB")
        #expect(ResourceUnits.memoryText(0) == "0B")
    }

    @Test func inspectShowsResourcesAsDocker() {
        let resources = Resources(limitNanoCPUs: 500_000_000, limitMemoryBytes: 32 << 20, limitPids: 20, reservedNanoCPUs: 250_000_000,
                                  reservedMemoryBytes: 16 << 20)
        #expect(resources.prettyLines == ["Resources:", " Reservations:", "  CPU:\t\t0.25", "  Memory:\t16MiB", " Limits:",
                                          "  CPU:\t\t0.5", "  Memory:\t32MiB", "  PIDs:\t\t20"])
        #expect(Resources(limitPids: 5).prettyLines == ["Resources:", " Limits:", "  PIDs:\t\t5"])
        #expect(Resources().prettyLines.isEmpty)
    }

    @Test func aNodeReportsWhatItHas() {
        #expect(NodeResources.host.isValid)
        #expect(!NodeResources(nanoCPUs: 0, memoryBytes: 1).isValid && !NodeResources(nanoCPUs: 1, memoryBytes: -1).isValid)
    }
}
