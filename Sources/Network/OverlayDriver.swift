#if canImport(Glibc)
import Glibc
#endif
import Addressing
import NIOConcurrencyHelpers
import Netlink
import ShoalAPI

/// An overlay network as the node's driver needs it.
public struct OverlayNetwork: Hashable, Sendable {
    public let id: String
    public let vni: UInt32
    public let subnet: IPv4Network
    public let gateway: IPv4Address
    /// Of the VXLAN device, the bridge and every task interface (the underlay's − 50).
    public let mtu: Int

    public init(id: String, vni: UInt32, subnet: IPv4Network, gateway: IPv4Address, mtu: Int) {
        self.id = id
        self.vni = vni
        self.subnet = subnet
        self.gateway = gateway
        self.mtu = mtu
    }
}

/// A task on an overlay network, at the node whose VXLAN endpoint is `vtep`.
public struct RemoteEndpoint: Hashable, Sendable {
    public let address: IPv4Address
    public let vtep: IPv4Address

    public init(address: IPv4Address, vtep: IPv4Address) {
        self.address = address
        self.vtep = vtep
    }
}

/// One of a task's overlay interfaces: the network and the task's address on it (with the subnet's prefix).
public struct OverlayAttachment: Sendable {
    public let network: OverlayNetwork
    public let address: IPv4Network

    public init(network: OverlayNetwork, address: IPv4Network) {
        self.network = network
        self.address = address
    }
}

/// The node's side of overlay networks, as docker's overlay driver: each
/// network gets a network namespace of its own (pinned at
/// `<data-dir>/networks/1-<id10>.netns`) holding a bridge and a VXLAN device
/// whose UDP socket stays in the node's namespace. Tasks get a veth onto the
/// bridge; remote tasks are static forwarding and neighbour entries on the
/// VXLAN device, so nothing is learnt or flooded.
///
/// Every call is a few blocking netlink round trips: call from a thread that
/// may block (as the task launch does), not from the cooperative pool. Calls
/// are serialised. Everything is read back from the kernel, so a restarted
/// daemon converges without a record of its own.
public final class OverlayDriver: Sendable {
    static let bridgeName = "shbr0"
    static let vxlanName = "shvx0"
    static let vxlanPort: UInt16 = 4789
    /// lo is 1 in a fresh namespace; a task's overlay interfaces ask for 2, 3, ….
    static let firstTaskInterfaceIndex: Int32 = 2

    /// Where the network namespaces are pinned.
    public let directory: String
    /// This node's VXLAN endpoint: its address on the underlay.
    public let vtep: IPv4Address
    /// The MTU of the overlay's links: the underlay's less VXLAN's 50 bytes of
    /// headers, since larger frames would be dropped silently.
    public let mtu: Int
    /// The node's network namespace, pinned at this path; nil: the daemon's own.
    private let nodeNamespace: String?
    private let serial = NIOLock()

    /// Reads the MTU of the link holding `vtep` (1500 when it cannot be found).
    public init(dataDirectory: String, vtep: IPv4Address, nodeNamespace: String? = nil) {
        directory = dataDirectory + "/networks"
        self.vtep = vtep
        self.nodeNamespace = nodeNamespace
        mtu = (Self.underlayMTU(holding: vtep, inNamespace: nodeNamespace) ?? 1500) - Self.vxlanOverhead
    }

    /// Outer Ethernet, IPv4, UDP and VXLAN headers.
    static let vxlanOverhead = 50

    /// The MTU of the link that holds `address`.
    static func underlayMTU(holding address: IPv4Address, inNamespace path: String?) -> Int? {
        guard let socket = try? path.map(RouteSocket.open(inNamespace:)) ?? RouteSocket(),
              let link = try? socket.ipv4Addresses().first(where: { $0.address.address == address })?.link
        else { return nil }
        return try? socket.link(named: link)?.mtu
    }

    /// The pin of network `id`'s namespace.
    public func namespacePath(of id: String) -> String { "\(directory)/1-\(id.prefix(10)).netns" }

    // MARK: Networks

    /// Makes sure `network`'s namespace, bridge and VXLAN device exist with its
    /// settings: reuses them when they match, rebuilds them when not. Returns
    /// whether it built anything.
    @discardableResult
    public func ensure(_ network: OverlayNetwork) throws -> Bool {
        try serial.withLock { try ensureLocked(network) }
    }

    private func ensureLocked(_ network: OverlayNetwork) throws -> Bool {
        let path = namespacePath(of: network.id)
        if Namespace.isPinned(at: path), (try? matches(network, at: path)) == true { return false }
        try tearDown(path)
        try FileSystem.makeDirectory(directory, mode: 0o700)
        try Namespace.create(.network, at: path)
        do {
            try build(network, at: path)
        } catch {
            try? tearDown(path)
            throw error
        }
        return true
    }

    /// Removes the network namespace pinned at `path`. The kernel ends an
    /// unpinned namespace in the background, and until then its VXLAN device
    /// holds the VNI in the node's namespace: delete that device now, so the
    /// VNI is free for a network built right after.
    private func tearDown(_ path: String) throws {
        if Namespace.isPinned(at: path) { try? RouteSocket.open(inNamespace: path).deleteLink(Self.vxlanName) }
        try Namespace.remove(at: path)
    }

    private func matches(_ network: OverlayNetwork, at path: String) throws -> Bool {
        let socket = try RouteSocket.open(inNamespace: path)
        guard let bridge = try socket.link(named: Self.bridgeName), bridge.kind == "bridge",
              let vxlan = try socket.link(named: Self.vxlanName), vxlan.kind == "vxlan" else { return false }
        return vxlan.vni == network.vni && vxlan.local == vtep && vxlan.mtu == network.mtu && bridge.mtu == network.mtu
            && vxlan.master == bridge.index
    }

    private func build(_ network: OverlayNetwork, at path: String) throws {
        let socket = try RouteSocket.open(inNamespace: path)
        try socket.setUp(index: 1, named: "lo")
        try socket.addBridge(named: Self.bridgeName, mtu: network.mtu)
        if let gateway = IPv4Network(address: network.gateway, prefixLength: network.subnet.prefixLength) {
            try socket.addAddress(gateway, to: Self.bridgeName)
        }
        try socket.setUp(Self.bridgeName)
        // Bridged overlay frames would otherwise pass the namespace's IPv4 netfilter hooks.
        try Namespace.run(inNetworkNamespace: path) { try Self.disableBridgeNetfilter() }
        try nodeSocket().addVXLAN(named: Self.vxlanName, vni: network.vni, local: vtep, port: Self.vxlanPort,
                                  mtu: network.mtu, intoNamespace: path)
        try socket.enslave(index: try socket.index(of: Self.vxlanName), toBridge: try socket.index(of: Self.bridgeName))
    }

    private static func disableBridgeNetfilter() throws {
        // A kernel without br_netfilter has no such hook.
        try setSysctl("net/bridge/bridge-nf-call-iptables", "0", missingIsFine: true)
    }

    private func nodeSocket() throws -> RouteSocket {
        try nodeNamespace.map { try RouteSocket.open(inNamespace: $0) } ?? RouteSocket()
    }

    /// Removes network `id`'s namespace, which takes its bridge, VXLAN device
    /// (and UDP socket) and task veths with it. A missing one is fine.
    public func remove(networkID id: String) throws {
        try serial.withLock { try tearDown(namespacePath(of: id)) }
    }

    /// Removes the namespace of every network not in `keeping` (ids).
    public func converge(keeping: Set<String>) throws {
        let kept = Set(keeping.map(namespacePath(of:)))
        try serial.withLock {
            for path in pinnedPaths() where !kept.contains(path) { try tearDown(path) }
        }
    }

    /// The namespace pins left from an earlier run (their file names, `1-<id10>.netns`).
    public func recover() -> [String] {
        serial.withLock { pinnedPaths().map { String($0.dropFirst(directory.count + 1)) }.sorted() }
    }

    private func pinnedPaths() -> [String] {
        FileSystem.list(directory).filter { $0.hasPrefix("1-") && $0.hasSuffix(".netns") }.map { "\(directory)/\($0)" }
    }

    // MARK: Tasks

    /// Gives the task whose network namespace is `taskNamespace` (a pin or
    /// `/proc/PID/ns/net`) `eth0`, `eth1`, … on `attachments` in order: MAC
    /// from its address, the network's MTU, its address and connected route.
    /// The veths go away with the task's namespace.
    public func attach(taskID: String, namespace taskNamespace: String, to attachments: [OverlayAttachment]) throws {
        try serial.withLock {
            let task = try RouteSocket.open(inNamespace: taskNamespace)
            try task.setUp(index: 1, named: "lo")
            for (position, attachment) in attachments.enumerated() {
                let network = attachment.network
                let name = "eth\(position)"
                let index = Self.firstTaskInterfaceIndex + Int32(position)
                _ = try ensureLocked(network)
                let socket = try RouteSocket.open(inNamespace: namespacePath(of: network.id))
                try socket.addVethPair(named: "shve" + taskID.prefix(11), peerName: name, peerNamespace: taskNamespace,
                                       master: try socket.index(of: Self.bridgeName), up: true, peerIndex: index,
                                       mtu: network.mtu, peerMAC: MACAddress(derivedFrom: attachment.address.address))
                try task.setUp(index: index, named: name)
                try task.addAddress(attachment.address, toIndex: index, named: name)
            }
        }
    }

    // MARK: Remote endpoints

    /// Makes `network`'s forwarding and neighbour entries exactly those of
    /// `endpoints` on other nodes (this node's own are on the bridge). The
    /// network must have been ensured.
    public func sync(_ network: OverlayNetwork, endpoints: [RemoteEndpoint]) throws {
        let remote = endpoints.filter { $0.vtep != vtep }
        try serial.withLock {
            let path = namespacePath(of: network.id)
            guard Namespace.isPinned(at: path) else {
                throw SystemError("update the endpoints of network \(network.id)", reason: "the network is not set up on this node")
            }
            let socket = try RouteSocket.open(inNamespace: path)
            let vxlan = try socket.index(of: Self.vxlanName)
            let forwarding = EntryChanges(current: try socket.forwardingEntries(onIndex: vxlan),
                                          desired: remote.map { ForwardingEntry(mac: MACAddress(derivedFrom: $0.address), vtep: $0.vtep) })
            let neighbours = EntryChanges(current: try socket.neighbours(onIndex: vxlan),
                                          desired: remote.map { NeighbourEntry(address: $0.address, mac: MACAddress(derivedFrom: $0.address)) })
            // Deletions first: a moved entry is deleted at its old place, then added at the new.
            for entry in forwarding.deleted { try socket.deleteForwardingEntry(entry, onIndex: vxlan) }
            for entry in neighbours.deleted { try socket.deleteNeighbour(entry, onIndex: vxlan) }
            for entry in forwarding.added { try socket.addForwardingEntry(entry, onIndex: vxlan) }
            for entry in neighbours.added { try socket.addNeighbour(entry, onIndex: vxlan) }
        }
    }
}

/// What turns the entries there are into the ones wanted.
struct EntryChanges<Entry: Hashable> {
    let added: [Entry]
    let deleted: [Entry]

    init(current: [Entry], desired: [Entry]) {
        let have = Set(current)
        let want = Set(desired)
        added = desired.filter { !have.contains($0) }.uniqued()
        deleted = current.filter { !want.contains($0) }.uniqued()
    }
}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
