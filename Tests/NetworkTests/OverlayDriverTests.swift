#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Netlink
import Testing
import TestSupport
@testable import Network

/// Two "nodes" (network namespaces joined by a veth, the underlay), each with
/// a driver and a task namespace; everything is made and removed by the test.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct OverlayDriverTests {
    private let folder: String
    private let vteps = [IPv4Address(0x6447_fb01), IPv4Address(0x6447_fb02)]  // 100.71.251.1 and .2
    private let network: OverlayNetwork
    private let taskAddresses = [IPv4Address(0xac1e_0002), IPv4Address(0xac1e_0003)]  // 172.30.0.2 and .3

    init() throws {
        network = OverlayNetwork(id: "n4kx2lq9wz0abcdef", vni: 4200, subnet: try #require(IPv4Network("172.30.0.0/24")),
                                 gateway: IPv4Address(0xac1e_0001), mtu: 1450)
        var template = Array("/tmp/shoal-overlay-driver-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError.errno("mkdtemp") }
        folder = String(cString: made)
    }

    private struct Node {
        let namespace: String
        let task: String
        let driver: OverlayDriver
    }

    /// Both nodes, their underlay up; every namespace and file goes afterwards.
    private func withTwoNodes(_ body: ([Node]) throws -> Void) throws {
        var pins: [String] = []
        var drivers: [OverlayDriver] = []
        defer {
            for driver in drivers { try? driver.converge(keeping: []) }
            for path in pins { try? Namespace.remove(at: path) }
            for node in 0..<2 { rmdir("\(folder)/data\(node)/networks"); rmdir("\(folder)/data\(node)") }
            rmdir(folder)
        }
        var nodes: [Node] = []
        for node in 0..<2 {
            let namespace = "\(folder)/node\(node)"
            let task = "\(folder)/task\(node)"
            for path in [namespace, task] {
                try Namespace.create(.network, at: path)
                pins.append(path)
            }
            mkdir("\(folder)/data\(node)", 0o700)
            let driver = OverlayDriver(dataDirectory: "\(folder)/data\(node)", vtep: vteps[node], nodeNamespace: namespace)
            drivers.append(driver)
            nodes.append(Node(namespace: namespace, task: task, driver: driver))
        }
        try RouteSocket.open(inNamespace: nodes[0].namespace).addVethPair(named: "under", peerName: "under",
                                                                          peerNamespace: nodes[1].namespace)
        for (node, vtep) in zip(nodes, vteps) {
            let socket = try RouteSocket.open(inNamespace: node.namespace)
            try socket.setUp(index: 1, named: "lo")
            try socket.addAddress(try #require(IPv4Network(address: vtep, prefixLength: 24)), to: "under")
            try socket.setUp("under")
        }
        try body(nodes)
    }

    private func attachTasks(_ nodes: [Node]) throws {
        for (position, node) in nodes.enumerated() {
            let address = try #require(IPv4Network(address: taskAddresses[position], prefixLength: 24))
            try node.driver.attach(taskID: "task\(position)xxxxxxxxxxxx", namespace: node.task,
                                   to: [OverlayAttachment(network: network, address: address)])
        }
        let endpoints = zip(taskAddresses, vteps).map { RemoteEndpoint(address: $0, vtep: $1) }
        for node in nodes { try node.driver.sync(network, endpoints: endpoints) }
    }

    private func ping(from node: Node, _ address: IPv4Address, size: Int? = nil) -> Bool {
        let sizing = size.map { ["-M", "do", "-s", "\($0)"] } ?? []
        return runQuietly(inNetworkNamespace: node.task, ["ping", "-c", "1", "-W", "1", "-q"] + sizing + ["\(address)"]) == 0
    }

    @Test func tasksOnTwoNodesReachEachOtherUntilTheirEndpointsGo() throws {
        try withTwoNodes { nodes in
            try attachTasks(nodes)
            let eth0 = try #require(try RouteSocket.open(inNamespace: nodes[0].task).link(named: "eth0"))
            #expect(eth0.mtu == 1450)
            #expect(eth0.mac == MACAddress(derivedFrom: taskAddresses[0]))

            #expect(ping(from: nodes[0], taskAddresses[1]))
            #expect(ping(from: nodes[1], taskAddresses[0]))
            #expect(ping(from: nodes[0], taskAddresses[1], size: 1422))
            #expect(!ping(from: nodes[0], taskAddresses[1], size: 1423))

            try nodes[0].driver.sync(network, endpoints: [])
            let vxlan = try RouteSocket.open(inNamespace: nodes[0].driver.namespacePath(of: network.id))
            let index = try vxlan.index(of: OverlayDriver.vxlanName)
            #expect(try vxlan.forwardingEntries(onIndex: index).isEmpty)
            #expect(try vxlan.neighbours(onIndex: index).isEmpty)
            #expect(!ping(from: nodes[0], taskAddresses[1]))
        }
    }

    @Test func syncConvergesToExactlyTheRemoteEndpoints() throws {
        try withTwoNodes { nodes in
            let driver = nodes[0].driver
            try driver.ensure(network)
            let stale = RemoteEndpoint(address: IPv4Address(0xac1e_0009), vtep: vteps[1])
            let moving = RemoteEndpoint(address: taskAddresses[1], vtep: IPv4Address(0x6447_fb07))
            try driver.sync(network, endpoints: [stale, moving])
            let kept = RemoteEndpoint(address: taskAddresses[1], vtep: vteps[1])
            let local = RemoteEndpoint(address: taskAddresses[0], vtep: vteps[0])
            try driver.sync(network, endpoints: [kept, local])

            let socket = try RouteSocket.open(inNamespace: driver.namespacePath(of: network.id))
            let index = try socket.index(of: OverlayDriver.vxlanName)
            let mac = MACAddress(derivedFrom: kept.address)
            #expect(try socket.forwardingEntries(onIndex: index) == [ForwardingEntry(mac: mac, vtep: kept.vtep)])
            #expect(try socket.neighbours(onIndex: index) == [NeighbourEntry(address: kept.address, mac: mac)])
        }
    }

    @Test func ensuringTwiceCreatesNothingNewAndAChangedNetworkIsRebuilt() throws {
        try withTwoNodes { nodes in
            let driver = nodes[0].driver
            let path = driver.namespacePath(of: network.id)
            #expect(path.hasSuffix("/networks/1-n4kx2lq9wz.netns"))
            #expect(try driver.ensure(network))
            let identity = try Namespace.identity(at: path)
            let links = try RouteSocket.open(inNamespace: path).linkNames().sorted()
            #expect(links == ["lo", "shbr0", "shvx0"])
            #expect(!(try driver.ensure(network)))
            // A restarted daemon finds what the last one built.
            let restarted = OverlayDriver(dataDirectory: "\(folder)/data0", vtep: vteps[0], nodeNamespace: nodes[0].namespace)
            #expect(!(try restarted.ensure(network)))
            #expect(try Namespace.identity(at: path) == identity)
            #expect(try RouteSocket.open(inNamespace: path).linkNames().sorted() == links)

            let changed = OverlayNetwork(id: network.id, vni: 4201, subnet: network.subnet, gateway: network.gateway, mtu: network.mtu)
            #expect(try driver.ensure(changed))
            #expect(try RouteSocket.open(inNamespace: path).link(named: OverlayDriver.vxlanName)?.vni == 4201)
            #expect(try RouteSocket.open(inNamespace: path).linkNames().sorted() == links)
        }
    }

    @Test func aNetworkRebuiltOrRecreatedAtOnceKeepsItsVNI() throws {
        try withTwoNodes { nodes in
            let driver = nodes[0].driver
            let path = driver.namespacePath(of: network.id)
            try driver.ensure(network)
            // The old VXLAN device must be gone before the new one takes the same VNI in the node's namespace.
            let smaller = OverlayNetwork(id: network.id, vni: network.vni, subnet: network.subnet, gateway: network.gateway, mtu: 1400)
            #expect(try driver.ensure(smaller))
            #expect(try RouteSocket.open(inNamespace: path).link(named: OverlayDriver.vxlanName)?.mtu == 1400)
            try driver.remove(networkID: network.id)
            #expect(try driver.ensure(network))
        }
    }

    @Test func removingANetworkLeavesNoLinkNamespaceOrSocket() throws {
        try withTwoNodes { nodes in
            try attachTasks(nodes)
            let node = nodes[0]
            #expect(try udpPorts(in: node.namespace).contains(4789))
            try node.driver.remove(networkID: network.id)
            #expect(access(node.driver.namespacePath(of: network.id), F_OK) != 0)
            #expect(node.driver.recover().isEmpty)
            // The kernel tears a namespace down in the background.
            var gone = false
            for _ in 0..<100 where !gone {
                gone = try !udpPorts(in: node.namespace).contains(4789)
                    && RouteSocket.open(inNamespace: node.task).linkNames() == ["lo"]
                if !gone { usleep(20_000) }
            }
            #expect(gone)
            #expect(try RouteSocket.open(inNamespace: node.namespace).linkNames().sorted() == ["lo", "under"])
        }
    }

    @Test func convergeKeepsOnlyTheNetworksStillNeeded() throws {
        try withTwoNodes { nodes in
            let driver = nodes[0].driver
            let other = OverlayNetwork(id: "z9other0000000", vni: 4300, subnet: network.subnet, gateway: network.gateway, mtu: 1450)
            try driver.ensure(network)
            try driver.ensure(other)
            #expect(driver.recover() == ["1-n4kx2lq9wz.netns", "1-z9other000.netns"])
            try driver.converge(keeping: [other.id])
            #expect(driver.recover() == ["1-z9other000.netns"])
        }
    }

    /// The local UDP ports open in the network namespace pinned at `path`.
    private func udpPorts(in path: String) throws -> Set<UInt16> {
        let table = try Namespace.run(inNetworkNamespace: path) { () -> String in
            let fd = open("/proc/thread-self/net/udp", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError.errno("open /proc/thread-self/net/udp") }
            defer { close(fd) }
            var text: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while case let count = read(fd, &buffer, buffer.count), count > 0 { text += buffer[..<count] }
            return String(decoding: text, as: UTF8.self)
        }
        // "  0: 00000000:12B5 00000000:0000 07 …": the local address, then the port in hex.
        return Set(table.split(separator: "\n").dropFirst().compactMap { line in
            line.split(separator: " ").dropFirst().first?.split(separator: ":").last.flatMap { UInt16($0, radix: 16) }
        })
    }

    @Test func theOverlaysMTUIsTheUnderlaysLessVXLANsHeaders() throws {
        try ThrowawayNamespaces("shoal-overlay-mtu-test").with(["node", "peer"]) { paths in
            let socket = try RouteSocket.open(inNamespace: paths[0])
            try socket.addVethPair(named: "under", peerName: "under", peerNamespace: paths[1], mtu: 9000)
            try socket.addAddress(try #require(IPv4Network(address: vteps[0], prefixLength: 24)), to: "under")
            #expect(OverlayDriver(dataDirectory: folder, vtep: vteps[0], nodeNamespace: paths[0]).mtu == 8950)
            #expect(OverlayDriver(dataDirectory: folder, vtep: vteps[1], nodeNamespace: paths[0]).mtu == 1450,
                    "an address the node does not hold: a 1500-byte underlay is assumed")
        }
        rmdir(folder)
    }
}

@Suite struct EntryChangesTests {
    @Test func whatIsMissingIsAddedAndWhatIsNotWantedDeleted() {
        let changes = EntryChanges(current: [1, 2, 2, 5], desired: [2, 3, 3, 4])
        #expect(changes.added == [3, 4])
        #expect(changes.deleted == [1, 5])
        #expect(EntryChanges(current: [7], desired: [7]).added.isEmpty)
        #expect(EntryChanges(current: [7], desired: [Int]()).deleted == [7])
    }
}
