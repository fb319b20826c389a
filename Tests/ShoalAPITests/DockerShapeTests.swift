import FoundationEssentials
import ShoalAPI
import Testing

/// `--format json` rows and `inspect` objects carry docker's keys.
@Suite struct DockerShapeTests {
    private let epoch = Date(timeIntervalSince1970: 0)

    private func json<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private var service: ServiceDetail {
        ServiceDetail(id: "lo6p4xrhlz3nnlo06yg5yn1jy", version: 7, createdAt: epoch, updatedAt: epoch,
                      spec: ServiceSpecRequest(name: "web", replicas: 3, command: ["shoal", "whoami", "--port", "8080"],
                                               env: ["A=1"], ports: [PortConfig(targetPort: 8080, publishedPort: 80)]),
                      running: 2, desired: 3,
                      endpoint: ServiceEndpoint(virtualIPs: [.init(networkID: "n1", addr: "10.0.1.2/24")]))
    }

    @Test func serviceRowsHaveDockersKeys() throws {
        #expect(try json(ServiceRow(service)) == #"{"Command":"shoal whoami --port 8080","ID":"lo6p4xrhlz3n","Mode":"replicated","Name":"web","Ports":"*:80->8080/tcp","Replicas":"2/3"}"#)
        #expect(ServiceRow(service, fullID: true).id == "lo6p4xrhlz3nnlo06yg5yn1jy")
        #expect(ServiceRow.titles["Replicas"] == "REPLICAS")
    }

    @Test func hostModePortsAreTheTasksNotTheServiceLists() throws {
        var spec = service.spec
        spec.ports = [PortConfig(targetPort: 8080, publishedPort: 80),
                      PortConfig(protocol: "udp", targetPort: 53, publishedPort: 5353, publishMode: "host")]
        var detail = service
        detail.spec = spec
        #expect(ServiceRow(detail).ports == "*:80->8080/tcp")

        func task(state: String, hostPorts: [PortConfig]?) -> TaskSummary {
            TaskSummary(id: "t1", name: "web.1.t1", serviceID: "s", serviceName: "web", slot: 1, nodeID: "n1", node: "swarm02",
                        command: ["dns"], desiredState: "running", state: state, stateSince: epoch, message: "", error: "",
                        exitCode: nil, address: nil, createdAt: epoch, hostPorts: hostPorts)
        }
        let hostPorts = spec.ports.filter(\.isHostMode)
        #expect(TaskFormatting.taskRows([task(state: "running", hostPorts: hostPorts)], now: epoch).first?.ports == "*:5353->53/udp")
        #expect(TaskFormatting.taskRows([task(state: "pending", hostPorts: nil)], now: epoch).first?.ports == "")
    }

    @Test func aTasksRowCarriesItsWholeHealthWhereInspectHasIt() throws {
        let probe = TaskHealth.Probe(start: epoch, end: epoch + 1, exitCode: 1, output: "no /mnt/ok")
        let health = TaskHealth(status: .unhealthy, failingStreak: 2, log: [probe])
        let task = TaskSummary(id: "t1", name: "web.1.t1", serviceID: "s", serviceName: "web", slot: 1, nodeID: "n1", node: "swarm02",
                               command: ["web"], desiredState: "shutdown", state: "failed", stateSince: epoch, message: "",
                               error: "task: unhealthy", exitCode: nil, address: nil, createdAt: epoch, health: health)
        let row = try #require(TaskFormatting.taskRows([task], now: epoch).first)
        let encoded = try json(row)
        #expect(encoded.contains(#""Health":"unhealthy""#))
        #expect(encoded.contains(#""State":{"Health":{"FailingStreak":2,"Log":[{"End":"1970-01-01T00:00:01Z","ExitCode":1,"Output":"no /mnt/ok","Start":"1970-01-01T00:00:00Z"}],"Status":"unhealthy"}}"#))
    }

    @Test func nodeRowsHaveDockersKeys() throws {
        let node = NodeSummary(id: "3kru4v3w3lezys0tc9cnoczou", hostname: "swarm00", isSelf: true, status: "ready", availability: "active",
                               role: "manager", managerStatus: "leader", engineVersion: "0.1.0", address: "10.0.0.2:2377")
        #expect(try json(NodeRow(node)) == #"{"Availability":"Active","EngineVersion":"0.1.0","Hostname":"swarm00","ID":"3kru4v3w3lezys0tc9cnoczou","ManagerStatus":"Leader","Self":true,"Status":"Ready","TLSStatus":"Ready"}"#)
        #expect(NodeRow(node).cells.first == "3kru4v3w3lezys0tc9cnoczou *")
        #expect(NodeRow.titles["ManagerStatus"] == "MANAGER STATUS")
        #expect(NodeRow.titles["EngineVersion"] == "ENGINE VERSION")
    }

    @Test func taskRowsHaveDockersKeysAndNoTruncKeepsErrorsWhole() throws {
        let task = TaskSummary(id: "lmeet488s78q0000000000000", name: "web.1.lmeet488s78q0000000000000", serviceID: "s", serviceName: "web",
                               slot: 1, nodeID: "n1", node: "swarm02", command: ["sleep", "9"], desiredState: "shutdown", state: "failed",
                               stateSince: epoch, message: "", error: "task: non-zero exit (137) after a long while",
                               exitCode: 137, address: nil, createdAt: epoch)
        let row = try #require(TaskFormatting.taskRows([task], now: epoch + 1).first)
        #expect(try json(row) == #"{"Command":"sleep 9","CurrentState":"Failed 1 second ago","DesiredState":"Shutdown","Error":"\"task: non-zero exit (137) aft…\"","ID":"lmeet488s78q","Name":"web.1","Node":"swarm02","Ports":""}"#)
        let whole = try #require(TaskFormatting.taskRows([task], now: epoch + 1, untruncated: true).first)
        #expect(whole.id == "lmeet488s78q0000000000000")
        #expect(whole.error == "\"task: non-zero exit (137) after a long while\"")
        #expect(TaskRow.titles["DesiredState"] == "DESIRED STATE")
    }

    @Test func networkRowsHaveDockersKeys() throws {
        let network = NetworkDetail(name: "backend", id: "kq7sc5qu1wle0000000000000", created: epoch, driver: "overlay",
                                    ipam: .init(config: []), attachable: true, ingress: false, containers: nil, options: [:],
                                    labels: ["b": "2", "a": "1"], peers: nil)
        #expect(try json(NetworkRow(network)) == #"{"CreatedAt":"1970-01-01 00:00:00 +0000 UTC","Driver":"overlay","ID":"kq7sc5qu1wle","IPv6":"false","Internal":"false","Labels":"a=1,b=2","Name":"backend","Scope":"swarm"}"#)
        #expect(NetworkRow.titles["ID"] == "NETWORK ID")
    }

    @Test func serviceInspectHasTheEngineAPIsShape() throws {
        let text = try json(DockerService(service))
        #expect(text.contains(#""ID":"lo6p4xrhlz3nnlo06yg5yn1jy""#))
        #expect(text.contains(#""Version":{"Index":7}"#))
        #expect(text.contains(#""Mode":{"Replicated":{"Replicas":3}}"#))
        #expect(text.contains(#""ContainerSpec":{"Args":["whoami","--port","8080"],"CapabilityAdd":[],"CapabilityDrop":[],"Command":["shoal"],"Env":["A=1"],"Mounts":[],"ReadOnly":false,"SecurityOpt":[]}"#))
        #expect(text.contains(#""VirtualIPs":[{"Addr":"10.0.1.2/24","NetworkID":"n1"}]"#))
        #expect(text.contains(#""Ports":[{"Protocol":"tcp","PublishMode":"ingress","PublishedPort":80,"TargetPort":8080}]"#))
        #expect(text.contains(#""RestartPolicy":{"Condition":"any","Delay":1000000000,"MaxAttempts":0}"#))
        var global = service
        global.spec.replicas = nil
        #expect(try json(DockerService(global)).contains(#""Mode":{"Global":{}}"#))
    }

    @Test func nodeInspectHasTheEngineAPIsShape() throws {
        let detail = NodeDetail(id: "n1", version: 4, createdAt: epoch, updatedAt: epoch, hostname: "lab-1", role: "manager",
                                availability: "active", labels: [:], state: "ready", stateMessage: "", address: "10.0.0.2:2377",
                                managerStatus: "leader", engineVersion: "0.1.0")
        let text = try json(DockerNode(detail))
        #expect(text.contains(#""Status":{"Addr":"10.0.0.2","Message":"","State":"ready"}"#))
        #expect(text.contains(#""ManagerStatus":{"Addr":"10.0.0.2:2377","Leader":true,"Reachability":"reachable"}"#))
        #expect(text.contains(#""Description":{"Engine":{"EngineVersion":"0.1.0"},"Hostname":"lab-1","Platform":{"Architecture":"x86_64","OS":"linux"}}"#))
        #expect(text.contains(#""Spec":{"Availability":"active","Labels":{},"Role":"manager"}"#))
        var worker = detail
        (worker.role, worker.managerStatus) = ("worker", "")
        #expect(!(try json(DockerNode(worker))).contains("ManagerStatus"))
        worker.managerStatus = "reachable"
        #expect(try json(DockerNode(worker)).contains(#""ManagerStatus":{"Addr":"10.0.0.2:2377","Reachability":"reachable"}"#))
    }
}
