import FoundationEssentials
import ShoalAPI
import Testing

/// The pure parts of `shoal run` on the client's side.
@Suite struct OneOffModelTests {
    @Test func theDaemonRefusesAOneOffRequestItCannotStore() {
        #expect(throws: Never.self) { try OneOffRequest(name: "probe", network: "dig_default", env: ["K=V"]).validate() }
        for bad in [OneOffRequest(network: ""), OneOffRequest(network: String(repeating: "n", count: 257)),
                    OneOffRequest(name: "", network: "net"), OneOffRequest(network: "net", env: ["K=a\u{0}b"])] {
            #expect(throws: ShoalError.self) { try bad.validate() }
        }
    }

    @Test func theExitStatusIsTheCommandsOr128PlusTheSignalThatKilledIt() {
        #expect(OneOff.exitStatus(waitStatus: 0) == 0)
        #expect(OneOff.exitStatus(waitStatus: 3 << 8) == 3)
        #expect(OneOff.exitStatus(waitStatus: 255 << 8) == 255)
        #expect(OneOff.exitStatus(waitStatus: 9) == 137)  // SIGKILL
        #expect(OneOff.exitStatus(waitStatus: 2 | 0x80) == 130)  // SIGINT, core dumped
    }

    @Test func generatedNamesAreFreeAndValidAndNumberedOnceThePlainOnesAreTaken() {
        var taken = Set<String>()
        var random = 0
        for _ in 0..<50 {
            random = (random * 7 + 13) % 1_000
            let name = OneOff.generatedName(taken: taken, random: { [random] in random % $0 })
            #expect(!taken.contains(name) && ObjectName.isValid(name) && name.contains("_"))
            taken.insert(name)
        }
        let plain = OneOff.generatedName(taken: [], random: { _ in 0 })
        let everyPlain = Set((0..<10_000).map { index in OneOff.generatedName(taken: [], random: { _ in index }) })
        let numbered = OneOff.generatedName(taken: everyPlain, random: { _ in 0 })
        #expect(numbered == plain + "2")
    }

    @Test func aOneOffsLabelShowsInInspectAndFiltersAndAnOlderDaemonsAnswerStillDecodes() throws {
        let epoch = Date(timeIntervalSince1970: 0)
        let detail = ServiceDetail(id: "s1", version: 1, createdAt: epoch, updatedAt: epoch,
                                   spec: ServiceSpecRequest(name: "probe", replicas: 1, command: OneOff.holderCommand),
                                   running: 1, desired: 1, endpoint: ServiceEndpoint(virtualIPs: []),
                                   labels: [OneOff.nodeLabel: "node1"])
        #expect(DockerService(detail).spec.labels == [OneOff.nodeLabel: "node1"])
        #expect(try ListFilter(["label=\(OneOff.nodeLabel)=node1"], keys: ListFilter.serviceKeys).accepts(detail))
        #expect(try !ListFilter(["label=\(OneOff.nodeLabel)=node2"], keys: ListFilter.serviceKeys).accepts(detail))
        var older = detail
        older.labels = nil
        let decoded = try JSONDecoder().decode(ServiceDetail.self, from: JSONEncoder().encode(older))
        #expect(decoded.labels == nil && DockerService(decoded).spec.labels == [:])
    }
}

extension OneOffModelTests {
    @Test func shoalIsThisBinaryWhenTheTasksPathHasNone() {
        let environment = ["PATH=/usr/bin:/bin", "HOME=/root"]
        #expect(OneOff.command(["shoal", "dig", "whoami"], environment: environment, executable: "/opt/shoal",
                               isExecutable: { _ in false }) == ["/opt/shoal", "dig", "whoami"])
        #expect(OneOff.command(["shoal", "dig"], environment: environment, executable: "/opt/shoal",
                               isExecutable: { $0 == "/bin/shoal" }) == ["shoal", "dig"])
        #expect(OneOff.command(["dig", "shoal"], environment: environment, executable: "/opt/shoal",
                               isExecutable: { _ in false }) == ["dig", "shoal"])
    }
}
