import FoundationEssentials
import ShoalAPI
import Testing

@Suite struct ListFilterTests {
    private let epoch = Date(timeIntervalSince1970: 0)

    private func node(_ id: String, _ hostname: String, role: String) -> NodeSummary {
        NodeSummary(id: id, hostname: hostname, isSelf: false, status: "ready", availability: "active", role: role,
                    managerStatus: role == "manager" ? "leader" : "", engineVersion: "0.1.0", address: "10.0.0.1:2377")
    }

    private func service(_ id: String, _ name: String, replicas: Int?) -> ServiceDetail {
        ServiceDetail(id: id, version: 1, createdAt: epoch, updatedAt: epoch,
                      spec: ServiceSpecRequest(name: name, replicas: replicas, command: ["sleep", "1000"]),
                      running: 0, desired: replicas ?? 3, endpoint: ServiceEndpoint(virtualIPs: []))
    }

    private func task(_ id: String, slot: Int, node: String, nodeID: String, desired: String) -> TaskSummary {
        TaskSummary(id: id, name: "web.\(slot).\(id)", serviceID: "s", serviceName: "web", slot: slot, nodeID: nodeID, node: node,
                    command: ["sleep"], desiredState: desired, state: desired, stateSince: epoch, message: "", error: "",
                    exitCode: nil, address: nil, createdAt: epoch)
    }

    @Test func unknownKeysAndBadFormsAreRefusedInDockersWords() {
        #expect(throws: ShoalError("invalid filter 'foo'", hint: "use one of id, label, mode, name")) {
            try ListFilter(["foo=bar"], keys: ListFilter.serviceKeys)
        }
        #expect(throws: ShoalError("bad format of filter (expected name=value)", hint: "use --filter KEY=VALUE, e.g. name=web")) {
            try ListFilter(["name"], keys: ListFilter.serviceKeys)
        }
    }

    @Test func sameKeyIsOrDifferentKeysAreAnd() throws {
        let services = [service("aaa111", "web", replicas: 2), service("bbb222", "api", replicas: nil),
                        service("ccc333", "webhook", replicas: 1)]
        func names(_ filters: [String]) throws -> [String] {
            let filter = try ListFilter(filters, keys: ListFilter.serviceKeys)
            return services.filter(filter.accepts).map(\.spec.name)
        }
        #expect(try names([]) == ["web", "api", "webhook"])
        #expect(try names(["name=web"]) == ["web", "webhook"], "a name is a prefix, as docker's")
        #expect(try names(["name=api", "name=webhook"]) == ["api", "webhook"])
        #expect(try names(["name=web", "mode=replicated", "id=ccc"]) == ["webhook"])
        #expect(try names(["mode=global"]) == ["api"])
        #expect(try names(["label=tier"]) == [])
    }

    @Test func nodesByRoleNameIdLabelAndMembership() throws {
        let nodes = [node("n1aaaa", "lab-1", role: "manager"), node("n2bbbb", "lab-2", role: "worker"), node("n3cccc", "lab-3", role: "worker")]
        func hostnames(_ filters: [String], labels: [String: [String: String]] = [:]) throws -> [String] {
            let filter = try ListFilter(filters, keys: ListFilter.nodeKeys)
            return nodes.filter { filter.accepts($0, labels: labels[$0.id] ?? [:]) }.map(\.hostname)
        }
        #expect(try hostnames(["role=worker"]) == ["lab-2", "lab-3"])
        #expect(try hostnames(["role=worker", "name=lab-3"]) == ["lab-3"])
        #expect(try hostnames(["name=lab"]) == [], "a node name matches whole, as docker's")
        #expect(try hostnames(["id=n2"]) == ["lab-2"])
        #expect(try hostnames(["membership=accepted"]).count == 3)
        #expect(try hostnames(["membership=pending"]) == [])
        #expect(try hostnames(["node.label=zone=a"], labels: ["n1aaaa": ["zone": "a"], "n2bbbb": ["zone": "b"]]) == ["lab-1"])
        #expect(try hostnames(["node.label=zone"], labels: ["n1aaaa": ["zone": "a"], "n2bbbb": ["zone": "b"]]) == ["lab-1", "lab-2"])
    }

    @Test func tasksByDesiredStateNodeNameAndId() throws {
        let tasks = [task("t1", slot: 1, node: "lab-2", nodeID: "n2bbbb", desired: "running"),
                     task("t2", slot: 1, node: "lab-3", nodeID: "n3cccc", desired: "shutdown"),
                     task("t3", slot: 2, node: "lab-3", nodeID: "n3cccc", desired: "running")]
        func ids(_ filters: [String]) throws -> [String] {
            let filter = try ListFilter(filters, keys: ListFilter.taskKeys)
            return tasks.filter(filter.accepts).map(\.id)
        }
        #expect(try ids(["desired-state=running"]) == ["t1", "t3"])
        #expect(try ids(["desired-state=running", "node=lab-3"]) == ["t3"])
        #expect(try ids(["node=n2b"]) == ["t1"], "a node by id prefix")
        #expect(try ids(["name=web.1"]) == ["t1", "t2"])
        #expect(try ids(["id=t2", "id=t3"]) == ["t2", "t3"])
        #expect(throws: ShoalError.self) { try ListFilter(["mode=global"], keys: ListFilter.taskKeys) }
    }

    @Test func networksByDriverNameLabelAndScope() throws {
        let config = NetworkDetail.IPAM(config: [])
        let networks = [
            NetworkDetail(name: "ingress", id: "1qc6vhwhaeqn", created: epoch, driver: "overlay", ipam: config, attachable: false,
                          ingress: true, containers: nil, options: [:], labels: [:], peers: nil),
            NetworkDetail(name: "backend", id: "kq7sc5qu1wle", created: epoch, driver: "overlay", ipam: config, attachable: true,
                          ingress: false, containers: nil, options: [:], labels: ["tier": "db"], peers: nil),
        ]
        func names(_ filters: [String]) throws -> [String] {
            let filter = try ListFilter(filters, keys: ListFilter.networkKeys)
            return networks.filter(filter.accepts).map(\.name)
        }
        #expect(try names(["name=back"]) == ["backend"], "a network name matches a part, as docker's")
        #expect(try names(["label=tier=db"]) == ["backend"])
        #expect(try names(["label=tier=web"]) == [])
        #expect(try names(["driver=overlay", "scope=swarm"]) == ["ingress", "backend"])
        #expect(try names(["scope=local"]) == [])
        #expect(try names(["id=1qc"]) == ["ingress"])
    }
}
