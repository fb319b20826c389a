#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Netlink
import Testing
import TestSupport
@testable import Network

private func ip(_ text: String) -> IPv4Address { IPv4Address(text) ?? IPv4Address(0) }
private func network(_ text: String) throws -> IPv4Network { try #require(IPv4Network(text)) }

/// Starts a server per address and transport in `namespace`; stops them after `body`.
private func withServers(in namespace: String, _ addresses: [IPv4Address], port: UInt16, _ body: () throws -> Void) throws {
    var servers: [AddressServer] = []
    defer { servers.forEach { $0.stop() } }
    for address in addresses {
        for transport in TransportProtocol.allCases {
            servers.append(try AddressServer(inNamespace: namespace, transport, address, port: port))
        }
    }
    try body()
}

/// Reads or writes IPv4 forwarding in the namespace pinned at `path`.
private func forwarding(in path: String, set value: String? = nil) throws -> String {
    try Namespace.run(inNetworkNamespace: path) {
        let fd = open("/proc/sys/net/ipv4/ip_forward", value == nil ? O_RDONLY : O_WRONLY)
        guard fd >= 0 else { throw SystemError.errno("open ip_forward") }
        defer { close(fd) }
        if let value { _ = write(fd, value, value.utf8.count) }
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, 0)
        return value ?? String(decoding: [byte], as: UTF8.self)
    }
}

/// Service VIPs inside a task's namespace, with real connections: a "task"
/// namespace and a "backends" namespace joined by a veth, the backends'
/// servers answering with their own address.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct VirtualIPTrafficTests {
    private let namespaces: ThrowawayNamespaces
    private let vip = ip("10.77.0.100")
    private let backends = [ip("10.77.0.2"), ip("10.77.0.3")]

    init() throws { namespaces = try ThrowawayNamespaces("shoal-vip-test") }

    private func withTask(_ body: (_ task: String) throws -> Void) throws {
        try namespaces.with(["task", "backends"]) { paths in
            let task = try RouteSocket.open(inNamespace: paths[0])
            try task.addVethPair(named: "eth0", peerName: "eth0", peerNamespace: paths[1])
            try task.setUp(index: 1, named: "lo")
            try task.addAddress(try network("10.77.0.1/24"), to: "eth0")
            try task.setUp("eth0")
            let peer = try RouteSocket.open(inNamespace: paths[1])
            try peer.setUp(index: 1, named: "lo")
            for backend in backends { try peer.addAddress(try #require(IPv4Network(address: backend, prefixLength: 24)), to: "eth0") }
            try peer.setUp("eth0")
            try withServers(in: paths[1], backends, port: 80) { try body(paths[0]) }
        }
    }

    @Test func tcpAndUDPToAVIPGoRoundRobinAndPingGetsNothing() throws {
        try withTask { task in
            try VirtualIPTable.replace(inNamespace: task, services: [VirtualIPService(vip: vip, backends: backends)])
            let even = Dictionary(uniqueKeysWithValues: backends.map { ("\($0)", 5) })
            #expect(try spread(of: 10, from: task, .tcp, vip, port: 80) == even)
            #expect(try spread(of: 10, from: task, .udp, vip, port: 80) == even)
            #expect(runQuietly(inNetworkNamespace: task, ["ping", "-c", "1", "-W", "1", "-q", "\(vip)"]) != 0)
        }
    }

    @Test func aRemovedBackendGetsNoNewConnectionButAnOpenOneKeepsItsBackend() throws {
        try withTask { task in
            try VirtualIPTable.replace(inNamespace: task, services: [VirtualIPService(vip: vip, backends: backends)])
            let open = try Connection(from: task, .tcp, to: vip, port: 80)
            let first = try open.receive().trimmingNewline()
            let remaining = try #require(backends.first { "\($0)" != first })
            try VirtualIPTable.replace(inNamespace: task, services: [VirtualIPService(vip: vip, backends: [remaining])])
            #expect(try spread(of: 6, from: task, .tcp, vip, port: 80) == ["\(remaining)": 6])
            #expect(try spread(of: 6, from: task, .udp, vip, port: 80) == ["\(remaining)": 6])
            try open.send("still there")
            #expect(try open.receive() == "still there")
        }
    }

    @Test func aVIPWithoutBackendsRefusesAtOnce() throws {
        try withTask { task in
            try VirtualIPTable.replace(inNamespace: task, services: [VirtualIPService(vip: vip, backends: [])])
            let start = now()
            let tcp = #expect(throws: SystemError.self) { try Connection(from: task, .tcp, to: vip, port: 80) }
            #expect(tcp?.reason == "Connection refused")
            // The task's own datagram is refused on its way out: sending it fails.
            let udp = #expect(throws: SystemError.self) { try whoAnswers(from: task, .udp, vip, port: 80) }
            #expect(udp?.description == "send: Operation not permitted")
            #expect(now() - start < 0.5)
        }
    }

    @Test func replacingTwiceGivesTheSameTableAndRemoveLeavesNone() throws {
        try withTask { task in
            let services = [VirtualIPService(vip: vip, backends: backends), VirtualIPService(vip: ip("10.77.0.101"), backends: [])]
            try VirtualIPTable.replace(inNamespace: task, services: services)
            let listed = nftablesListing(ofTable: VirtualIPTable.name, inNetworkNamespace: task)
            try VirtualIPTable.replace(inNamespace: task, services: services.reversed())
            #expect(nftablesListing(ofTable: VirtualIPTable.name, inNetworkNamespace: task) == listed)
            #expect(listed.contains("type nat hook output priority -100; policy accept;"), "\(listed)")
            #expect(listed.contains("meta l4proto != tcp meta l4proto != udp return"), "\(listed)")
            #expect(listed.contains("ip daddr 10.77.0.100 dnat to numgen inc mod 2 map { 0 : 10.77.0.2, 1 : 10.77.0.3 }"), "\(listed)")
            #expect(listed.contains("type filter hook output priority filter; policy accept;"), "\(listed)")
            #expect(listed.contains("ip daddr 10.77.0.101 reject with tcp reset"), "\(listed)")
            #expect(listed.contains("ip daddr 10.77.0.101 meta l4proto udp reject"), "\(listed)")

            try VirtualIPTable.remove(inNamespace: task)
            #expect(nftablesListing(ofTable: VirtualIPTable.name, inNetworkNamespace: task).contains("No such file or directory"))
            try VirtualIPTable.remove(inNamespace: task)
        }
    }

    @Test func aTableOfAThousandVIPsIsAppliedWhole() throws {
        // A quarter of the limits (the kernel takes about 2 s for the whole); `LoadBalancerBatchSizeTests` checks those.
        try namespaces.with(["task"]) { paths in
            let services = (0..<1024).map { service in
                VirtualIPService(vip: IPv4Address(0x0a60_0000 + UInt32(service)),
                                 backends: (0..<4).map { IPv4Address(0x0a70_0000 + UInt32(service * 4 + $0)) })
            }
            try VirtualIPTable.replace(inNamespace: paths[0], services: services)
            let listed = nftablesListing(ofTable: VirtualIPTable.name, inNetworkNamespace: paths[0])
            #expect(listed.split(separator: "dnat to numgen inc mod 4 map", omittingEmptySubsequences: false).count == 1025)
            #expect(listed.contains("ip daddr 10.96.3.255 dnat to numgen inc mod 4 map { 0 : 10.112.15.252, 1 : 10.112.15.253, "))
        }
    }
}

/// The routing mesh with real connections: a client on the "underlay", the
/// node ("host") publishing port 80 towards its ingress sandbox, the sandbox
/// balancing over a bridge (the ingress overlay) to two tasks. The tasks
/// have no route back to the client: replies return only through the sandbox's masquerade.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct RoutingMeshTrafficTests {
    private let namespaces: ThrowawayNamespaces
    private let nodeAddress = ip("10.78.0.2")
    private let sandboxAddress = ip("10.79.0.2")
    private let tasks = [ip("10.80.0.5"), ip("10.80.0.6")]

    init() throws { namespaces = try ThrowawayNamespaces("shoal-mesh-test") }

    /// Also a "peer" on the bridge: a container of the ingress network at 10.80.0.7 with its own server on port 80.
    private func withMesh(_ body: (_ client: String, _ host: String, _ sandbox: String, _ tasks: String) throws -> Void) throws {
        try namespaces.with(["client", "host", "sandbox", "tasks", "peer"]) { paths in
            let (client, host, sandbox, tasksNamespace, peer) = (paths[0], paths[1], paths[2], paths[3], paths[4])
            let hostSocket = try RouteSocket.open(inNamespace: host)
            try hostSocket.setUp(index: 1, named: "lo")
            try hostSocket.addVethPair(named: "up0", peerName: "up0", peerNamespace: client)
            try hostSocket.addAddress(try network("10.78.0.2/24"), to: "up0")
            try hostSocket.setUp("up0")
            try hostSocket.addVethPair(named: "shin0", peerName: "in0", peerNamespace: sandbox)
            try hostSocket.addAddress(try network("10.79.0.1/24"), to: "shin0")
            try hostSocket.setUp("shin0")

            let clientSocket = try RouteSocket.open(inNamespace: client)
            try clientSocket.setUp(index: 1, named: "lo")
            try clientSocket.addAddress(try network("10.78.0.1/24"), to: "up0")
            try clientSocket.setUp("up0")

            let sandboxSocket = try RouteSocket.open(inNamespace: sandbox)
            try sandboxSocket.setUp(index: 1, named: "lo")
            try sandboxSocket.addAddress(try network("10.79.0.2/24"), to: "in0")
            try sandboxSocket.setUp("in0")
            try sandboxSocket.addDefaultRoute(via: ip("10.79.0.1"), onIndex: try sandboxSocket.index(of: "in0"))
            try sandboxSocket.addBridge(named: "shbr0")
            try sandboxSocket.addAddress(try network("10.80.0.1/24"), to: "shbr0")
            try sandboxSocket.setUp("shbr0")
            try sandboxSocket.addVethPair(named: "ep0", peerName: "eth0", peerNamespace: tasksNamespace,
                                          master: try sandboxSocket.index(of: "shbr0"), up: true)

            let taskSocket = try RouteSocket.open(inNamespace: tasksNamespace)
            try taskSocket.setUp(index: 1, named: "lo")
            for task in tasks { try taskSocket.addAddress(try #require(IPv4Network(address: task, prefixLength: 24)), to: "eth0") }
            try taskSocket.setUp("eth0")
            try sandboxSocket.addVethPair(named: "ep1", peerName: "eth0", peerNamespace: peer,
                                          master: try sandboxSocket.index(of: "shbr0"), up: true)
            let peerSocket = try RouteSocket.open(inNamespace: peer)
            try peerSocket.setUp(index: 1, named: "lo")
            try peerSocket.addAddress(try network("10.80.0.7/24"), to: "eth0")
            try peerSocket.setUp("eth0")
            // The tables must turn forwarding on themselves.
            for path in [host, sandbox] { _ = try forwarding(in: path, set: "0") }
            try withServers(in: tasksNamespace, tasks, port: 8080) {
                try withServers(in: peer, [ip("10.80.0.7")], port: 80) { try body(client, host, sandbox, tasksNamespace) }
            }
        }
    }

    @Test func aPublishedPortAnswersFromEveryTaskThroughTheSandbox() throws {
        try withMesh { client, host, sandbox, _ in
            try PublishTable.replace(inNamespace: host, rules: [
                PublishRule(transport: .tcp, port: 80, destination: sandboxAddress, destinationPort: 80),
                PublishRule(transport: .udp, port: 80, destination: sandboxAddress, destinationPort: 80),
                // As mode=host does: another port, translated.
                PublishRule(transport: .tcp, port: 81, destination: sandboxAddress, destinationPort: 80),
            ], leavingBy: "shin0")
            let backends = tasks.map { IngressBackend(address: $0, port: 8080) }
            try IngressTable.replace(inNamespace: sandbox, inbound: "in0", overlayBridge: "shbr0", ports: [
                IngressPort(transport: .tcp, published: 80, backends: backends),
                IngressPort(transport: .udp, published: 80, backends: backends),
            ])
            #expect(try forwarding(in: host) == "1")
            #expect(try forwarding(in: sandbox) == "1")

            let even = Dictionary(uniqueKeysWithValues: tasks.map { ("\($0)", 5) })
            #expect(try spread(of: 10, from: client, .tcp, nodeAddress, port: 80) == even)
            #expect(try spread(of: 10, from: client, .udp, nodeAddress, port: 80) == even)
            #expect(Set(tasks.map(\.description)).contains(try whoAnswers(from: client, .tcp, nodeAddress, port: 81)))
            // The node's own processes reach its published port too.
            #expect(Set(tasks.map(\.description)).contains(try whoAnswers(from: host, .tcp, nodeAddress, port: 80)))
            #expect(Set(tasks.map(\.description)).contains(try whoAnswers(from: host, .tcp, ip("127.0.0.1"), port: 80)),
                    "and at 127.0.0.1, as docker's mesh")

            let publish = nftablesListing(ofTable: PublishTable.name, inNetworkNamespace: host)
            #expect(publish.contains("fib daddr type local tcp dport 80 dnat to 10.79.0.2:80"), "\(publish)")
            let ingress = nftablesListing(ofTable: IngressTable.name, inNetworkNamespace: sandbox)
            #expect(ingress.contains("iifname \"in0\" tcp dport 80 dnat ip to numgen inc mod 2 map { 0 : 10.80.0.5 . 8080, 1 : 10.80.0.6 . 8080 }"),
                    "\(ingress)")
            #expect(ingress.contains("oifname \"shbr0\" ct status dnat masquerade"), "\(ingress)")
        }
    }

    @Test func aPortWithoutTasksRefusesAtOnceAndRemovedTablesAnswerNothing() throws {
        try withMesh { client, host, sandbox, _ in
            try PublishTable.replace(inNamespace: host, rules: [
                PublishRule(transport: .tcp, port: 80, destination: sandboxAddress, destinationPort: 80),
            ], leavingBy: "shin0")
            try IngressTable.replace(inNamespace: sandbox, inbound: "in0", overlayBridge: "shbr0", ports: [
                IngressPort(transport: .tcp, published: 80, backends: []),
            ])
            let start = now()
            let refused = #expect(throws: SystemError.self) { try Connection(from: client, .tcp, to: nodeAddress, port: 80) }
            #expect(refused?.reason == "Connection refused")
            #expect(now() - start < 0.5)

            try PublishTable.remove(inNamespace: host)
            try IngressTable.remove(inNamespace: sandbox)
            #expect(nftablesListing(ofTable: PublishTable.name, inNetworkNamespace: host).contains("No such file or directory"))
            #expect(nftablesListing(ofTable: IngressTable.name, inNetworkNamespace: sandbox).contains("No such file or directory"))
        }
    }

    @Test func trafficBridgedBetweenContainersIsNotCaughtByTheSandbox() throws {
        try withMesh { _, _, sandbox, tasksNamespace in
            let backends = tasks.map { IngressBackend(address: $0, port: 8080) }
            try IngressTable.replace(inNamespace: sandbox, inbound: "in0", overlayBridge: "shbr0", ports: [
                IngressPort(transport: .tcp, published: 80, backends: backends),
                IngressPort(transport: .udp, published: 80, backends: backends),
            ])
            // Bridged packets cross the sandbox's IPv4 hooks (the trap NETLINK-NOTES.md describes).
            try Namespace.run(inNetworkNamespace: sandbox) {
                let fd = open("/proc/sys/net/bridge/bridge-nf-call-iptables", O_WRONLY)
                guard fd >= 0, write(fd, "1", 1) == 1 else { throw SystemError.errno("turn bridge-nf-call-iptables on") }
                close(fd)
            }
            // A container's own port 80 on the ingress network is its own, not the published port.
            #expect(try spread(of: 4, from: tasksNamespace, .tcp, ip("10.80.0.7"), port: 80) == ["10.80.0.7": 4])
            #expect(try spread(of: 4, from: tasksNamespace, .udp, ip("10.80.0.7"), port: 80) == ["10.80.0.7": 4])
        }
    }
}
