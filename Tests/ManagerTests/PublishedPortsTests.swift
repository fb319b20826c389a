import ClusterStore
import ClusterWire
import ShoalAPI
import Testing
@testable import Manager

/// `--publish` as the manager decides it: docker's ranges, one owner per ingress port, its words when refused.
@Suite struct PublishedPortsTests {
    private let web = ServiceObject(meta: ObjectMeta(id: String(repeating: "w", count: 25)), name: "web",
                                    mode: .replicated(replicas: 1), spec: TaskSpec(command: ["sleep", "1"]),
                                    ports: [PublishedPort(protocol: .tcp, target: 8080, published: 80, mode: .ingress)])

    private func decide(_ texts: [String], endpointMode: EndpointMode = .vip) throws -> [PublishedPort] {
        try ControlAPI.publishedPorts(texts.map { try PortConfig(parsing: $0) }, service: "new", endpointMode: endpointMode,
                                      among: [web])
    }

    @Test func bothFormsOfPublishGiveThePortsAsked() throws {
        #expect(try decide(["8080:80", "53:53/udp", "published=8443,target=443,mode=host"]) == [
            PublishedPort(protocol: .tcp, target: 80, published: 8080, mode: .ingress),
            PublishedPort(protocol: .udp, target: 53, published: 53, mode: .ingress),
            PublishedPort(protocol: .tcp, target: 443, published: 8443, mode: .host),
        ])
    }

    @Test func anIngressPortWithoutAPublishedOneGetsTheLowestFreeOfDockersRange() throws {
        #expect(try decide(["8080", "9090"]).map(\.published) == [30000, 30001])
    }

    @Test func aPortAnotherServicePublishesIsRefusedInDockersWords() throws {
        #expect(throws: SwarmError("port '80' is already in use by service 'web' (\(web.meta.id)) as an ingress port", kind: .conflict)) {
            try decide(["80:9000"])
        }
        _ = try decide(["80:9000/udp"])  // another protocol is another port
        #expect(throws: SwarmError.self) { try decide(["81:80", "81:90"]) }
    }

    @Test func ingressWithDnsrrAndValuesOutOfRangeAreRefused() throws {
        #expect(throws: SwarmError.self) { try decide(["80:8080"], endpointMode: .dnsrr) }
        _ = try decide(["published=8081,target=80,mode=host"], endpointMode: .dnsrr)
        for text in ["0:80", "80:70000", "80:80/sctp", "published=1,target=2,mode=bridge", "target=80,mode=host", "a:b", "1:2:3"] {
            #expect(throws: ShoalError.self, "\(text)") { _ = try PortConfig(parsing: text).problem.map { throw ShoalError($0) } }
        }
    }

    @Test func portsShowAsDockerShowsThem() throws {
        #expect(try PortConfig(parsing: "80:8080").summary == "*:80->8080/tcp")
    }

    @Test func publishRmTakesATargetOrAWholePublishValueAsDockerDoes() throws {
        let ports = try ["8080:80", "9090:80", "53:53/udp", "published=5353,target=53,protocol=udp,mode=host"].map(PortConfig.init(parsing:))
        func left(_ removal: String) throws -> [String] {
            let removal = try PortConfig(parsing: removal)
            return ports.filter { !$0.isRemoved(by: removal) }.map(\.summary)
        }
        #expect(try left("80") == ["*:53->53/udp", "*:5353->53/udp"])
        #expect(try left("9090:80") == ["*:8080->80/tcp", "*:53->53/udp", "*:5353->53/udp"])
        #expect(try left("published=5353,target=53,protocol=udp") == ["*:8080->80/tcp", "*:9090->80/tcp", "*:53->53/udp"])
        #expect(try left("53") == ports.map(\.summary))  // tcp: no such port
    }
}
