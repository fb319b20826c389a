#if canImport(Glibc)
import Glibc
#endif
import Addressing
import FoundationEssentials
import Netlink
import ShoalAPI

/// `shoal lab`: several shoal nodes on one machine. Each node is a network
/// namespace (plus a UTS namespace holding its host name) cabled by a veth
/// to a bridge that lives in a switch namespace of its own, so a lab never
/// touches the host's links or routes. Each node runs one `shoal daemon`.
public struct Lab: Sendable {
    public let layout: LabLayout

    public init(name: String, root: String = Lab.root) {
        layout = LabLayout(name: name, root: root)
    }

    /// The lab root: `SHOAL_LAB_ROOT`, or /var/lib/shoal-lab.
    public static var root: String { Defaults.labRootInEffect }

    /// Lab names end up in host names and file names: keep them plain.
    public static func validate(name: String) throws {
        let allowed = name.utf8.allSatisfy { ("a"..."z").contains(Character(Unicode.Scalar($0))) ||
            ("0"..."9").contains(Character(Unicode.Scalar($0))) || $0 == UInt8(ascii: "-") }
        guard (1...20).contains(name.count), allowed, name.first != "-" else {
            throw ShoalError("invalid lab name '\(name)'",
                             hint: "use 1 to 20 lowercase letters, digits or dashes")
        }
    }

    // MARK: up

    /// Creates the switch and `count` nodes, and starts a daemon in each.
    /// On failure, removes whatever it had made.
    /// `dnsUpstreams` go to every daemon as `--dns-upstream`, `loadBalancer` as `--lb`, `metricsAddress` as `--metrics-addr`.
    public func up(nodes count: Int, executable: String, dnsUpstreams: [String] = [], loadBalancer: String? = nil,
                   metricsAddress: String? = nil) throws -> LabState {
        try Self.validate(name: layout.name)
        guard (1...32).contains(count) else {
            throw ShoalError("a lab has 1 to 32 nodes, not \(count)", hint: "pick --nodes between 1 and 32")
        }
        guard !FileSystem.exists(layout.directory) else {
            throw ShoalError("lab '\(layout.name)' is already up",
                             hint: "see 'shoal lab ls', or remove it with 'shoal lab down --name \(layout.name)'")
        }
        let hostNetworks = try RouteSocket().ipv4RouteDestinations() + RouteSocket().ipv4Addresses().map(\.address)
        guard let subnet = LabSubnet.choose(avoiding: hostNetworks) else {
            throw ShoalError("every lab subnet overlaps a route of this host", hint: "remove some routes and retry")
        }
        try FileSystem.makeDirectory(layout.directory, mode: 0o700)
        var state = LabState(name: layout.name, subnet: subnet.description,
                             switchNamespace: layout.switchNamespace, nodes: [],
                             dnsUpstreams: dnsUpstreams.isEmpty ? nil : dnsUpstreams, loadBalancer: loadBalancer,
                             metricsAddress: metricsAddress)
        do {
            for index in 1...count {
                let name = layout.nodeName(index)
                state.nodes.append(.init(name: name, address: subnet.host(UInt32(index)), pid: nil,
                                         socketPath: layout.socketPath(name), dataDirectory: layout.dataDirectory(name),
                                         networkNamespace: layout.networkNamespace(name),
                                         utsNamespace: layout.utsNamespace(name)))
            }
            try save(state)
            try buildNetwork(state, prefixLength: subnet.prefixLength)
            for index in state.nodes.indices {
                state.nodes[index].pid = try startDaemon(state.nodes[index], executable: executable, options: state.daemonOptions)
                try save(state)
            }
            return state
        } catch {
            try? down()
            throw error
        }
    }

    private func buildNetwork(_ state: LabState, prefixLength: Int) throws {
        try Namespace.create(.network, at: layout.switchNamespace)
        let switchSocket = try RouteSocket.open(inNamespace: layout.switchNamespace)
        try switchSocket.addBridge(named: LabLayout.switchBridge)
        try switchSocket.setUp(LabLayout.switchBridge)
        for (offset, node) in state.nodes.enumerated() {
            let port = layout.switchPort(offset + 1)
            try FileSystem.makeDirectory(layout.nodeDirectory(node.name), mode: 0o700)
            try FileSystem.makeDirectory(node.dataDirectory, mode: 0o700)
            try Namespace.create(.network, at: node.networkNamespace)
            try Namespace.create(.uts, at: node.utsNamespace, hostname: node.name)
            try switchSocket.addVethPair(named: port, peerName: LabLayout.nodeInterface,
                                         peerNamespace: node.networkNamespace)
            try switchSocket.setMaster(of: port, to: LabLayout.switchBridge)
            try switchSocket.setUp(port)
            let nodeSocket = try RouteSocket.open(inNamespace: node.networkNamespace)
            try nodeSocket.setUp("lo")
            try nodeSocket.setUp(LabLayout.nodeInterface)
            guard let address = IPv4Network(address: node.address, prefixLength: prefixLength) else { continue }
            try nodeSocket.addAddress(address, to: LabLayout.nodeInterface)
        }
    }

    private func startDaemon(_ node: LabState.Node, executable: String, options: [String]) throws -> Int32 {
        let launcher = DaemonLauncher(
            arguments: [executable, "ns-exec", "--net", node.networkNamespace, "--uts", node.utsNamespace, "--",
                        executable, "daemon", "--data-dir", node.dataDirectory, "--socket", node.socketPath,
                        "--advertise-addr", node.address.description] + options,
            socketPath: node.socketPath,
            logPath: node.dataDirectory + "/" + Defaults.daemonLogName)
        do {
            return try launcher.start()
        } catch let error as ShoalError {
            throw ShoalError("node \(node.name): \(error.message)")
        }
    }

    /// Starts node `name`'s daemon again after it stopped or was killed; it
    /// comes back with its data dir, so it rejoins its swarm on its own.
    public static func start(node name: String, executable: String, root: String = Lab.root) throws -> Int32 {
        guard var state = all(root: root).first(where: { $0.nodes.contains { $0.name == name } }),
              let index = state.nodes.firstIndex(where: { $0.name == name }) else {
            throw ShoalError("no lab node named '\(name)'", hint: "see 'shoal lab ls' for the nodes")
        }
        if let pid = state.nodes[index].pid, ProcessTable.isAlive(pid) {
            throw ShoalError("node \(name) is already running (pid \(pid))", hint: "stop it first, e.g. kill \(pid)")
        }
        let lab = Lab(name: state.name, root: root)
        state.nodes[index].pid = try lab.startDaemon(state.nodes[index], executable: executable, options: state.daemonOptions)
        try lab.save(state)
        return state.nodes[index].pid ?? 0
    }

    // MARK: down

    /// Stops every process inside the lab's namespaces (daemons and whatever
    /// they started), then removes the namespaces, links and files.
    public func down() throws {
        guard FileSystem.exists(layout.directory) else {
            throw ShoalError("no lab named '\(layout.name)' is up", hint: "start one with 'shoal lab up --nodes 3'")
        }
        let state = try? load()
        let namespaces = [layout.switchNamespace] + (state?.nodes ?? []).flatMap {
            [$0.networkNamespace, $0.utsNamespace]
        }
        let identities = Set(namespaces.compactMap { Namespace.isPinned(at: $0) ? try? Namespace.identity(at: $0) : nil })
        ProcessTable.terminate(ProcessTable.processes(inNamespaces: identities), graceSeconds: 10)
        for path in namespaces + overlayNamespaces() { try Namespace.remove(at: path) }
        FileSystem.removeTree(layout.directory)
        rmdir(layout.root)  // only when no other lab is left in it
    }

    /// The overlay networks' namespaces the nodes' daemons pinned
    /// (`<data>/networks/*.netns`): a mounted file cannot be removed.
    private func overlayNamespaces() -> [String] {
        FileSystem.list("\(layout.directory)/nodes").flatMap { node in
            let networks = "\(layout.dataDirectory(node))/networks"
            return FileSystem.list(networks).filter { $0.hasSuffix(".netns") }.map { "\(networks)/\($0)" }
        }
    }

    // MARK: state

    public func load() throws -> LabState {
        guard let bytes = FileSystem.read(layout.stateFile) else {
            throw ShoalError("no lab named '\(layout.name)' is up", hint: "start one with 'shoal lab up --nodes 3'")
        }
        do {
            return try JSONDecoder().decode(LabState.self, from: Data(bytes))
        } catch {
            throw ShoalError("\(layout.stateFile) is damaged", hint: "remove the lab with 'shoal lab down --name \(layout.name)'")
        }
    }

    private func save(_ state: LabState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileSystem.writeAtomically(layout.stateFile, Array(try encoder.encode(state)))
    }

    /// Every lab under `root` that has a state file.
    public static func all(root: String = Lab.root) -> [LabState] {
        guard let directory = opendir(root) else { return [] }
        defer { closedir(directory) }
        var labs: [LabState] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard !name.hasPrefix("."), let state = try? Lab(name: name, root: root).load() else { continue }
            labs.append(state)
        }
        return labs.sorted { $0.name < $1.name }
    }

    /// The node called `name` in any lab, e.g. "lab-2".
    public static func node(named name: String, root: String = Lab.root) -> LabState.Node? {
        all(root: root).lazy.flatMap(\.nodes).first { $0.name == name }
    }
}
