#if canImport(Glibc)
import Glibc
#endif
import Addressing
import ClusterStore
import ClusterWire
import CShoalSystem
import FoundationEssentials
import DNS
import Logging
import Metrics
import NameServer
import Netlink
import Network
import ShoalAPI

/// A node's executor: runs the tasks the managers assign to it, each as a
/// `shoal task-init` process in namespaces of its own, and reports how
/// they fare. Output goes to `<data-dir>/tasks/<id>/output.log`, capped
/// and rotated as `outputLimits` says.
public actor TaskAgent {
    /// How long a task has to stop after SIGTERM before it gets SIGKILL.
    public static let stopGracePeriod = Duration.seconds(10)

    private struct Running {
        var task: TaskObject
        var child: ProcessSupervisor.Child?
        var address: IPv4Network?
        var stopping = false
        /// Runs its health check, when it has one, from the moment its command started.
        var healthMonitor: Task<Void, Never>?
        /// Stopped because its health check failed `retries` times in a row.
        var unhealthy = false
    }

    /// The most bytes of output one `logs` call reads (and answers with).
    public static let logChunkBytes = 1 << 20

    private let dataDirectory: String
    private let tasksDirectory: String
    private let outputLimits: RotatingLog.Limits
    private let executable: String
    private let networkNamespace: String?
    /// What no task may see of the node: hidden in every task's mount namespace.
    private let coveredPaths: [String]
    private let logger: Logger
    private let supervisor: ProcessSupervisor
    /// Where each task gets its cgroup (nil: the host mounts none).
    private let cgroups: CgroupTree?
    private var bridge: GatewayBridge?
    private var running: [String: Running] = [:]
    /// The managers' latest assignments, by id: what `shoal exec` can name here.
    private var assigned: [String: TaskObject] = [:]
    /// The overlay networks the managers' latest assignments name, by id.
    private var networks: [String: ClusterProtocol.Network] = [:]
    /// Where the cluster's overlays take their subnets (the latest assignments say).
    private var overlayAddressSpace: [IPv4Network] = []
    /// Who else is on this node's networks, for `network inspect` (the latest assignments say).
    private var networkPeers: (endpoints: [ClusterProtocol.Endpoint], peers: [ClusterProtocol.Peer], vtep: IPv4Address?,
                               ingressNetworkID: String?) = ([], [], nil, nil)
    /// Builds them; made once the managers said which address is this node's VTEP.
    private var overlay: OverlayDriver?
    /// The networks and endpoints the driver was last told, and the work telling it (one at a time).
    private var overlaysApplied: (networks: [ClusterProtocol.Network], endpoints: [ClusterProtocol.Endpoint])?
    /// The services of the latest assignments: the VIPs tasks balance, the ports the node publishes.
    private var services: [ClusterProtocol.Service] = []
    /// The VIPs each started task's namespace balances, as last programmed, and the work programming them.
    private var virtualIPsApplied: [String: [VirtualIPService]] = [:]
    private var virtualIPWork: Task<Void, Never>?
    /// The node's entry into the routing mesh, what it and the node's published ports were last set to, and the work setting them.
    private let ingressSandbox: IngressSandbox
    private var meshApplied: Mesh?
    private var meshWork: Task<Void, Never>?
    private var overlayWork: Task<Void, Never>?
    /// Answers the tasks' DNS queries at 127.0.0.11 (nil: tasks use the node's resolvers).
    private let nameServer: NameServer?
    /// What programs the VIPs of the tasks' namespaces and the ingress sandbox's ports.
    private let loadBalancer: LoadBalancerBackend
    /// The networks and services the name server was last given.
    private var namesApplied: (networks: [ClusterProtocol.Network], services: [ClusterProtocol.Service])?
    /// The last status of every task this node was told about.
    private var statuses: [String: TaskStatus] = [:]
    private var reporter: (@Sendable ([TaskReport]) -> Void)?
    private var unreported: Set<String> = []
    private var flushScheduled = false
    private var stopped = false
    private static let reportCoalescing = Duration.milliseconds(10)

    /// `executable` is this binary: tasks start as its `task-init`, and a
    /// command `shoal` means it too. The gateway bridge goes into the network
    /// namespace pinned at `networkNamespace` (nil: the daemon's own).
    /// `coveredPaths` are hidden from every task (see `daemonPaths`).
    public init(dataDirectory: String, executable: String = "/proc/self/exe", networkNamespace: String? = nil,
                coveredPaths: [String] = [], outputLimits: RotatingLog.Limits = .standard, nameServer: NameServer? = nil,
                loadBalancer: LoadBalancerBackend = .nftables, logger: Logger) throws {
        self.nameServer = nameServer
        self.loadBalancer = loadBalancer
        ingressSandbox = IngressSandbox(dataDirectory: dataDirectory)
        self.dataDirectory = dataDirectory
        self.coveredPaths = coveredPaths
        tasksDirectory = "\(dataDirectory)/tasks"
        self.outputLimits = outputLimits
        self.executable = executable
        self.networkNamespace = networkNamespace
        self.logger = logger
        supervisor = try ProcessSupervisor()
        try FileSystem.makeDirectory(tasksDirectory, mode: 0o700)
        cgroups = CgroupTree.detect(dataDirectory: dataDirectory)
        // Tasks do not outlive the daemon that ran them: whatever cgroups a previous one left are empty.
        if let cgroups { for id in cgroups.taskIDs() { cgroups.remove(taskID: id) } }
    }

    /// Where reports go as soon as something changes (the session to the managers).
    public func setReporter(_ reporter: @escaping @Sendable ([TaskReport]) -> Void) {
        self.reporter = reporter
    }

    /// Nodes, networks and pools a swarm may list for one node: more is not a manager's doing.
    static let maximumListedObjects = 4096

    /// Every status this node knows, for the periodic full report.
    public func reports() -> [TaskReport] {
        statuses.map { TaskReport(taskID: $0.key, status: $0.value) }.sorted { $0.taskID < $1.taskID }
    }

    /// The managers' complete list of what this node must act on: its tasks
    /// (started, kept or stopped to match), and the overlay networks they
    /// use, whose remote endpoints the driver then installs.
    public func apply(_ assignments: ClusterProtocol.Assignments) {
        guard !stopped else { return }
        var assignments = assignments
        // Network ids name files here: what no manager would send never reaches the file system.
        let invalid = assignments.networks.filter { !$0.isValid }
        if !invalid.isEmpty {
            logger.warning("ignored \(invalid.count) assigned networks that are not valid", metadata: [
                "network_id": "\(invalid.first.map { $0.id.prefix(64) } ?? "")"])
            assignments.networks.removeAll { !$0.isValid }
        }
        let known = Set(assignments.networks.map(\.id))
        assignments.endpoints.removeAll { !known.contains($0.networkID) }
        // Service names become DNS names: only what a manager could have made is answered.
        assignments.services.removeAll { !$0.isValid }
        // Peers' names are printed by network inspect; the address space is compared with every candidate subnet.
        assignments.peers.removeAll { !Limits.isPlainToken($0.name, maximumBytes: 255) }
        if assignments.peers.count > Self.maximumListedObjects { assignments.peers = [] }
        if assignments.overlayAddressSpace.count > Self.maximumListedObjects { assignments.overlayAddressSpace = [] }
        if let ingress = assignments.ingress,
           !assignments.networks.contains(where: { $0.id == ingress.networkID && $0.subnet.contains(ingress.address.address) }) {
            logger.warning("ignored an ingress address outside the assigned ingress network", metadata: ["address": "\(ingress.address)"])
            assignments.ingress = nil
        }
        networks = Dictionary(assignments.networks.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        overlayAddressSpace = assignments.overlayAddressSpace
        networkPeers = (assignments.endpoints, assignments.peers, assignments.vtep, assignments.ingress?.networkID)
        if let vtep = assignments.vtep, overlay?.vtep != vtep {
            overlay = OverlayDriver(dataDirectory: dataDirectory, vtep: vtep, nodeNamespace: networkNamespace)
        }
        apply(assignments.tasks, retained: assignments.retained)
        syncOverlays(assignments)
        services = assignments.services
        syncVirtualIPs()
        syncMesh(assignments)
        if let nameServer, namesApplied.map({ $0.networks != assignments.networks || $0.services != assignments.services }) ?? true {
            namesApplied = (assignments.networks, assignments.services)
            // The ingress network routes published ports; it names nothing (as in docker).
            let named = assignments.networks.filter { $0.id != assignments.ingress?.networkID }
            nameServer.update(DNSDirectory(networks: named, services: assignments.services))
        }
    }

    /// The tasks part of `apply`: what this node must run, and the ids of
    /// every task of this node the managers still keep (whose logs stay).
    func apply(_ assignments: [TaskObject], retained: Set<String>) {
        guard !stopped else { return }
        // Ids name directories: one that is not an id never reaches the file system.
        let assignments = assignments.filter { task in
            guard ObjectID.isValid(task.meta.id) else {
                logger.warning("ignored an assignment with an invalid task id", metadata: ["task_id": "\(task.meta.id.prefix(64))"])
                return false
            }
            return true
        }
        let retained = retained.filter(ObjectID.isValid)
        let assigned = Set(assignments.map(\.meta.id))
        self.assigned = Dictionary(assignments.map { ($0.meta.id, $0) }, uniquingKeysWith: { $1 })
        for task in assignments {
            if var current = running[task.meta.id] {
                current.task = task
                running[task.meta.id] = current
                if task.desiredState > .running { stop(task.meta.id) }
            } else if statuses[task.meta.id]?.state.isTerminal == true {
                continue  // ended here already; the managers will hear it with the next report
            } else if task.desiredState <= .running && task.status.state < .running {
                start(task)
            } else if !task.status.state.isTerminal {
                // Running by the managers' record, but not here: this agent restarted and stopped it then.
                report(task.meta.id, TaskStatus(
                    state: task.desiredState > .running ? .shutdown : .failed, timestamp: Date(),
                    message: "task lost", error: task.desiredState > .running ? "" : "the node's agent restarted"))
            }
        }
        for (id, _) in running where !assigned.contains(id) { stop(id) }
        statuses = statuses.filter { assigned.contains($0.key) || running[$0.key] != nil }
        removeLogs(keeping: retained.union(running.keys))
        if let cgroups { for id in cgroups.taskIDs() where running[id] == nil { cgroups.remove(taskID: id) } }
    }

    /// `service logs`: whole lines of a task's output from logical byte
    /// `offset` (at most `logChunkBytes` of them), or with `tail` the last
    /// `tail` lines; the offset to ask from next time, and whether more is
    /// there already. Offsets and tails from anywhere are clamped to what the
    /// log holds; an id that is not one reads nothing.
    public func logs(of taskID: String, from offset: Int, tail: Int?) -> TaskOutput {
        guard ObjectID.isValid(taskID) else { return TaskOutput(lines: [], next: max(offset, 0), more: false) }
        let path = "\(logDirectory(taskID))/output.log"
        let held = RotatingLog.range(path)
        if let tail {
            let window = RotatingLog.read(path, from: max(held.lowerBound, held.upperBound - Self.logChunkBytes),
                                          maximumBytes: Self.logChunkBytes)
            let (whole, consumed) = Self.wholeLines(window.bytes)
            var lines = whole[...]
            // A window that starts inside the log starts inside a line: that line is not whole.
            if window.start > held.lowerBound { lines = lines.dropFirst() }
            let count = min(max(tail, 0), Limits.logTailLines.upperBound)
            return TaskOutput(lines: Array(lines.suffix(count)), next: window.start + consumed, more: false)
        }
        let chunk = RotatingLog.read(path, from: offset, maximumBytes: Self.logChunkBytes)
        var (lines, consumed) = Self.wholeLines(chunk.bytes)
        if consumed == 0, chunk.bytes.count == Self.logChunkBytes {
            // One line longer than a chunk: it comes in pieces rather than never.
            (lines, consumed) = ([String(decoding: chunk.bytes, as: UTF8.self)], chunk.bytes.count)
        }
        return TaskOutput(lines: lines, next: chunk.start + consumed, more: chunk.bytes.count == Self.logChunkBytes)
    }

    /// The lines ending in a newline, and how many bytes they take; a partial last line waits for its newline.
    static func wholeLines(_ bytes: [UInt8]) -> (lines: [String], consumed: Int) {
        guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return ([], 0) }
        let lines = bytes[..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        return (lines, lastNewline + 1)
    }

    /// `shoal exec`: the task `reference` names among this node's tasks, with
    /// the process whose namespaces are the task's.
    public func execTarget(_ reference: String) throws(SwarmError) -> ExecTarget {
        let tasks = assigned.values.map { assignment in
            var task = running[assignment.meta.id]?.task ?? assignment
            if let status = statuses[task.meta.id] { task.status = status }
            return task
        }
        let task: TaskObject
        switch TaskLookup.resolve(reference, in: tasks) {
        case .found(let found): task = found
        case .ambiguous(let matches): throw SwarmError("task \(reference) is ambiguous (\(matches) matches found)")
        case .notFound: throw SwarmError("no such task on this node: \(reference)", kind: .notFound)
        }
        return try execTarget(task)
    }

    /// `shoal dig --network NET`: a running task of this node attached to
    /// the network `reference` names (its name or id), to ask from inside it.
    /// `network inspect` on a node that is not a manager: the networks this node's
    /// tasks use, as docker's workers know them, with the tasks here and the nodes
    /// that have tasks on them.
    public func networkDetail(_ reference: String) throws(SwarmError) -> NetworkDetail {
        let network = try NamedReference.resolve(reference, in: networks.values.sorted { $0.id < $1.id }, kind: "network",
                                                 id: \.id, name: \.name)
        let local = assigned.values.filter(\.isActive).sorted { $0.meta.id < $1.meta.id }.compactMap { task in
            task.networks.first { $0.networkID == network.id }.map { NetworkDetail.LocalTask(id: task.meta.id, name: task.name, address: $0.address) }
        }
        var vteps = Set(networkPeers.endpoints.filter { $0.networkID == network.id }.map(\.vtep))
        if !local.isEmpty, let own = networkPeers.vtep { vteps.insert(own) }
        let peers = networkPeers.peers.filter { vteps.contains($0.vtep) }.map { NetworkDetail.Peer(name: $0.name, ip: $0.vtep.description) }
        return NetworkDetail(name: network.name, id: network.id, created: network.created, driver: "overlay", subnet: network.subnet,
                             gateway: network.gateway, vni: network.vni, attachable: network.attachable,
                             ingress: network.id == networkPeers.ingressNetworkID, labels: network.labels, local: local, peers: peers)
    }

    public func execTarget(onNetwork reference: String) throws(SwarmError) -> ExecTarget {
        guard let network = networks.values.first(where: { $0.name == reference || $0.id == reference }) else {
            throw SwarmError("no task on network \(reference) runs on this node: run it on a node that has one (shoal network inspect \(reference) lists them)",
                             kind: .notFound)
        }
        let attached = running.values.filter { !$0.stopping && $0.child != nil && $0.task.networks.contains { $0.networkID == network.id } }
        guard let task = attached.map(\.task).min(by: { $0.meta.id < $1.meta.id }) else {
            throw SwarmError("no task on network \(reference) runs on this node: run it on a node that has one (shoal network inspect \(reference) lists them)",
                             kind: .notFound)
        }
        var current = task
        if let status = statuses[task.meta.id] { current.status = status }
        return try execTarget(current)
    }

    private func execTarget(_ task: TaskObject) throws(SwarmError) -> ExecTarget {
        let id = task.meta.id
        guard task.isRunning, running[id]?.stopping == false, let child = running[id]?.child else {
            throw SwarmError(TaskLookup.notRunning(task, now: Date()), kind: .conflict)
        }
        var namespace = stat()
        guard stat("/proc/\(child.pid)/ns/net", &namespace) == 0 else {
            throw SwarmError(TaskLookup.notRunning(task, now: Date()), kind: .conflict)
        }
        return ExecTarget(taskID: id, name: task.slotName, pid: child.pid, netNamespaceInode: UInt64(namespace.st_ino),
                          env: Self.environment(task.spec.env, hostname: Self.hostname(of: id)), workdir: task.spec.workdir,
                          capabilityAdd: task.spec.capabilityAdd, capabilityDrop: task.spec.capabilityDrop,
                          securityOptions: task.spec.securityOptions, user: task.spec.user,
                          cgroups: cgroups?.layout.directories(of: id).filter { FileSystem.exists($0) } ?? [])
    }

    /// Stops every task (SIGTERM, then SIGKILL after the grace period) and waits for them.
    public func shutdown() async {
        stopped = true
        for id in running.keys { stop(id) }
        let deadline = ContinuousClock.now + Self.stopGracePeriod + .seconds(2)
        while !running.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        nameServer?.stopAll()
        // The node's cgroup parents go too, once the last task's cgroup has (an emptied one stays until the next start).
        if let cgroups { for parent in cgroups.layout.parents { rmdir(parent) } }
        // No task is left to use them: a clean stop leaves no overlay namespace behind.
        await meshWork?.value
        let (sandbox, bridge, node) = (ingressSandbox, bridge, networkNamespace)
        await Task.detached {
            sandbox.remove(bridge: bridge)
            try? PublishTable.remove(inNamespace: node)
        }.value
        await overlayWork?.value
        if let overlay {
            await Task.detached { try? overlay.converge(keeping: []) }.value
        }
    }

    // MARK: Overlay networks

    /// The task's overlay interfaces, in its spec's order.
    private func overlayAttachments(of task: TaskObject) throws -> [OverlayAttachment] {
        try task.networks.map { attachment in
            guard let network = networks[attachment.networkID] else {
                throw TaskFailure(rejected: "network \(attachment.networkID) is not among this node's assignments")
            }
            return OverlayAttachment(network: Self.overlayNetwork(network, mtu: overlay?.mtu), address: attachment.address)
        }
    }

    /// `mtu`: the driver's (nil before it exists: no overlay interface is made then).
    private static func overlayNetwork(_ network: ClusterProtocol.Network, mtu: Int?) -> OverlayNetwork {
        OverlayNetwork(id: network.id, vni: network.vni, subnet: network.subnet, gateway: network.gateway, mtu: mtu ?? 1450)
    }

    /// Brings the node's overlay networks to the assignments: each one built
    /// with exactly its remote endpoints, every other removed. Runs after the
    /// work before it, off the actor; a failure is logged and retried with
    /// the next assignments (the managers re-send them every second).
    private func syncOverlays(_ assignments: ClusterProtocol.Assignments) {
        guard let overlay else { return }
        guard overlaysApplied.map({ $0.networks != assignments.networks || $0.endpoints != assignments.endpoints }) ?? true
        else { return }
        overlaysApplied = (assignments.networks, assignments.endpoints)
        let previous = overlayWork
        let logger = self.logger
        overlayWork = Task.detached {
            await previous?.value
            do {
                for network in assignments.networks {
                    let overlayNetwork = Self.overlayNetwork(network, mtu: overlay.mtu)
                    try overlay.ensure(overlayNetwork)
                    try overlay.sync(overlayNetwork, endpoints: assignments.endpoints.filter { $0.networkID == network.id }.map {
                        RemoteEndpoint(address: $0.address, vtep: $0.vtep)
                    })
                }
                try overlay.converge(keeping: Set(assignments.networks.map(\.id)))
            } catch {
                logger.error("cannot set up this node's overlay networks: \(error)")
                await self.forgetOverlays()
            }
        }
    }

    private func forgetOverlays() { overlaysApplied = nil }

    /// What a Prometheus scrape of this node learns of its load balancing:
    /// the tasks each service's VIPs and published ports are balanced over.
    public func metricFamilies() -> [MetricFamily] {
        [
            MetricFamily("swarm_lb_backends", help: "Tasks this node balances a service's virtual IPs and published ports over.",
                         kind: .gauge, samples: services.sorted { $0.name < $1.name }.map {
                             Sample(Double($0.tasks.count), labels: [Label("service", $0.name)])
                         }),
        ]
    }

    // MARK: Virtual IPs

    /// What `task`'s namespace balances: the VIP of every service on each of
    /// its networks, over that service's tasks on the same network.
    static func virtualIPs(for task: TaskObject, services: [ClusterProtocol.Service]) -> [VirtualIPService] {
        let networks = Set(task.networks.map(\.networkID))
        return services.flatMap { service in
            service.virtualIPs.filter { networks.contains($0.networkID) }.map { vip in
                VirtualIPService(vip: vip.address.address, backends: service.tasks.compactMap { backend in
                    backend.addresses.first { $0.networkID == vip.networkID }?.address.address
                })
            }
        }
    }

    /// Brings every started task's VIP table to the latest services, off the
    /// actor and one change after the other; a task that fails is tried again
    /// with the next assignments.
    private func syncVirtualIPs() {
        var changed: [(id: String, pid: pid_t, services: [VirtualIPService])] = []
        var applied: [String: [VirtualIPService]] = [:]
        for (id, task) in running where !task.stopping && task.address != nil {
            guard let pid = task.child?.pid else { continue }
            let wanted = Self.virtualIPs(for: task.task, services: services)
            applied[id] = wanted
            if virtualIPsApplied[id] != wanted { changed.append((id, pid, wanted)) }
        }
        virtualIPsApplied = applied
        guard !changed.isEmpty else { return }
        let (previous, loadBalancer, logger) = (virtualIPWork, loadBalancer, logger)
        virtualIPWork = Task.detached {
            await previous?.value
            for change in changed {
                do {
                    try loadBalancer.balanceVirtualIPs(inNamespace: "/proc/\(change.pid)/ns/net", change.services)
                } catch {
                    logger.warning("cannot balance the virtual IPs of task \(change.id): \(error)")
                    await self.forgetVirtualIPs(of: change.id)
                }
            }
        }
    }

    private func forgetVirtualIPs(of id: String) { virtualIPsApplied[id] = nil }

    // MARK: Published ports

    /// What the node publishes: through the mesh (the ingress network, this
    /// node's address on it, each port balanced over its service's tasks
    /// there) and straight to its own tasks (mode=host).
    struct Mesh: Equatable {
        var ingress: ClusterProtocol.Ingress?
        var network: ClusterProtocol.Network?
        var ingressPorts: [IngressPort]
        var hostRules: [PublishRule]
    }

    /// The mesh the latest assignments ask of this node.
    private func mesh(_ assignments: ClusterProtocol.Assignments) -> Mesh {
        let ingressID = assignments.ingress?.networkID
        let ingressPorts = services.flatMap { service in
            service.ports.filter { $0.mode == .ingress }.compactMap { port -> IngressPort? in
                guard let transport = TransportProtocol(rawValue: port.protocol.rawValue) else { return nil }
                return IngressPort(transport: transport, published: Int(port.published), backends: service.tasks.compactMap { task in
                    task.addresses.first { $0.networkID == ingressID }.map { IngressBackend(address: $0.address.address, port: Int(port.target)) }
                })
            }
        }
        // A task with a health check is published once healthy, as the managers gate the mesh's backends.
        // Two tasks here publishing one host port: the first by id keeps it (the scheduler keeps them apart).
        var hostRules: [PublishRule] = []
        var taken = Set<String>()
        let publishing = running.values.filter { local in
            !local.stopping && (local.task.spec.healthCheck == nil || statuses[local.task.meta.id]?.health?.status == .healthy)
        }
        for local in publishing.sorted(by: { $0.task.meta.id < $1.task.meta.id }) {
            guard let address = local.address, let service = services.first(where: { $0.id == local.task.serviceID }) else { continue }
            for port in service.ports where port.mode == .host {
                guard let transport = TransportProtocol(rawValue: port.protocol.rawValue) else { continue }
                guard taken.insert("\(port.published)/\(transport)").inserted else { continue }
                hostRules.append(PublishRule(transport: transport, port: Int(port.published), destination: address.address,
                                             destinationPort: Int(port.target)))
            }
        }
        return Mesh(ingress: assignments.ingress, network: assignments.networks.first { $0.id == ingressID },
                    ingressPorts: ingressPorts, hostRules: hostRules)
    }

    /// The node's gateway bridge, made on first need.
    private func gatewayBridge() throws -> GatewayBridge {
        if let bridge { return bridge }
        let made = try GatewayBridge.prepare(inNamespace: networkNamespace, avoiding: networks.values.map(\.subnet),
                                             overlayAddressSpace: overlayAddressSpace)
        bridge = made
        return made
    }

    /// Brings the ingress sandbox and the node's published ports to the
    /// assignments, off the actor, one change after the other; a failure is
    /// logged and tried again with the next assignments.
    private func syncMesh(_ assignments: ClusterProtocol.Assignments) {
        let wanted = mesh(assignments)
        guard wanted != meshApplied else { return }
        meshApplied = wanted
        if wanted.ingress != nil, bridge == nil {
            do {
                _ = try gatewayBridge()
            } catch {
                logger.error("cannot set up the gateway bridge for the routing mesh: \(error)")
                meshApplied = nil
                return
            }
        }
        let (previous, overlays, sandbox, bridge, overlay, node, loadBalancer, logger) = (
            meshWork, overlayWork, ingressSandbox, bridge, overlay, networkNamespace, loadBalancer, logger)
        meshWork = Task.detached {
            await previous?.value
            await overlays?.value  // the ingress network's endpoints first
            do {
                var rules = wanted.hostRules
                if let ingress = wanted.ingress, let network = wanted.network, let overlay, let bridge {
                    let entry = try sandbox.ensure(network: Self.overlayNetwork(network, mtu: overlay.mtu), address: ingress.address,
                                                   overlay: overlay, bridge: bridge)
                    try sandbox.balance(wanted.ingressPorts, with: loadBalancer)
                    rules += wanted.ingressPorts.map {
                        PublishRule(transport: $0.transport, port: $0.published, destination: entry, destinationPort: $0.published)
                    }
                } else {
                    sandbox.remove(bridge: bridge)
                }
                if rules.isEmpty { try PublishTable.remove(inNamespace: node) } else { try PublishTable.replace(inNamespace: node, rules: rules) }
            } catch {
                logger.error("cannot publish this node's ports: \(error)")
                await self.forgetMesh()
            }
        }
    }

    private func forgetMesh() { meshApplied = nil }

    // MARK: Lifecycle

    private func start(_ task: TaskObject) {
        let id = task.meta.id
        running[id] = Running(task: task)
        report(id, TaskStatus(state: .accepted, timestamp: Date(), message: "accepted"))
        report(id, TaskStatus(state: .preparing, timestamp: Date(), message: "preparing"))
        Task { await self.launch(task) }
    }

    private func launch(_ task: TaskObject) async {
        let id = task.meta.id
        guard running[id]?.stopping == false else {
            running[id] = nil
            return report(id, TaskStatus(state: .shutdown, timestamp: Date(), message: "shutdown"))
        }
        do {
            guard let command = task.spec.command.first else { throw TaskFailure(rejected: "the task has no command") }
            guard let program = resolve(command, path: Self.searchPath(task.spec.env)) else {
                throw TaskFailure(rejected: "task: exec \"\(command)\": executable file not found in $PATH")
            }
            let bridge = try gatewayBridge()
            let handshake = try Handshake()
            let directory = logDirectory(id)
            try FileSystem.makeDirectory(directory, mode: 0o700)
            let output = try RotatingLog(path: "\(directory)/output.log", limits: outputLimits)
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            defer { close(null) }
            guard null >= 0 else { throw SystemError.errno("open /dev/null for task \(id)") }
            report(id, TaskStatus(state: .starting, timestamp: Date(), message: "starting"))
            let hostname = Self.hostname(of: id)
            // The task's own /etc/resolv.conf (its DNS server is the daemon's, at 127.0.0.11) and /etc/hostname.
            let hostResolvConf = String(decoding: FileSystem.read("/etc/resolv.conf") ?? [], as: UTF8.self)
            try FileSystem.writeAtomically("\(directory)/resolv.conf", Array(TaskResolvConf.text(hostResolvConf: hostResolvConf).utf8),
                                           mode: 0o644)
            try FileSystem.writeAtomically("\(directory)/hostname", Array("\(hostname)\n".utf8), mode: 0o644)
            let cgroupDirectories = try makeCgroups(for: task)
            let arguments: [String]
            do {
                let mounts = try task.spec.mounts.map { text throws(ShoalError) in try TaskMount(parsing: text) }
                arguments = ["shoal"] + TaskInit.Options(
                    hostname: hostname, program: program, workdir: task.spec.workdir,
                    resolvConf: nameServer == nil ? nil : "\(directory)/resolv.conf", hostnameFile: "\(directory)/hostname",
                    covers: Self.covers(coveredPaths, under: mounts, resolving: Self.realPath), readOnly: task.spec.readOnly,
                    mounts: mounts, confinement: try Confinement(task.spec), cgroups: cgroupDirectories,
                    command: task.spec.command).arguments
            } catch {
                throw TaskFailure(rejected: "\(error)")
            }
            let child = try await supervisor.spawn(
                ProcessSupervisor.Launch(executable: executable, arguments: arguments,
                                         environment: Self.environment(task.spec.env, hostname: hostname),
                                         descriptors: [0: null, 3: handshake.readyWrite, 4: handshake.goRead], output: output),
                exited: { [weak self] code in Task { await self?.exited(id, code: code) } })
            running[id]?.child = child
            let attachments = try overlayAttachments(of: task)
            let overlay = self.overlay
            let nameServer = self.nameServer
            let virtualIPs = Self.virtualIPs(for: task, services: services)
            let loadBalancer = self.loadBalancer
            // Blocking calls, off the actor: other tasks start meanwhile.
            let address = try await Task.detached {
                try handshake.awaitReady()
                if !attachments.isEmpty {
                    guard let overlay else { throw TaskFailure(rejected: "the managers did not name this node's VXLAN address") }
                    try overlay.attach(taskID: id, namespace: "/proc/\(child.pid)/ns/net", to: attachments)
                }
                // Before the command runs: its first connection to a VIP is balanced too.
                if !virtualIPs.isEmpty { try loadBalancer.balanceVirtualIPs(inNamespace: "/proc/\(child.pid)/ns/net", virtualIPs) }
                let address = try bridge.attach(processID: child.pid, linkName: "veth" + id.prefix(11), position: attachments.count)
                try await nameServer?.serve(taskID: id, inNetworkNamespace: "/proc/\(child.pid)/ns/net",
                                            networks: attachments.map(\.network.id))
                return address
            }.value
            // It ended while starting: nothing is left to answer.
            if running[id] == nil { nameServer?.stop(taskID: id) }
            running[id]?.address = address
            if running[id] != nil { virtualIPsApplied[id] = virtualIPs }
            try handshake.go()
            // Stopped while it started: now that its process runs, stop it like any other.
            guard running[id]?.stopping == false else { return terminate(child) }
            report(id, TaskStatus(state: .running, timestamp: Date(), message: "started",
                                  address: address.address.description))
            if let check = task.spec.healthCheck {
                running[id]?.healthMonitor = Task { await self.monitorHealth(id, check: check, startedAt: Date()) }
            }
        } catch let failure as TaskFailure {
            running[id]?.child?.signal(SIGKILL)
            if running[id]?.child == nil { running[id] = nil }
            report(id, TaskStatus(state: .rejected, timestamp: Date(), message: "rejected", error: failure.reason))
        } catch {
            logger.error("task \(id) did not start: \(error)")
            running[id]?.child?.signal(SIGKILL)
            if running[id]?.child == nil { running[id] = nil }
            report(id, TaskStatus(state: .failed, timestamp: Date(), message: "failed to start", error: "\(error)"))
        }
    }

    /// The task's cgroups, with its limits: the directories task-init joins. A
    /// task without limits still runs when the host's cgroups cannot be written
    /// (a read-only cgroupfs); one with limits does not run unlimited.
    private func makeCgroups(for task: TaskObject) throws -> [String] {
        let limited = task.spec.resources.hasLimits
        guard let cgroups else {
            if limited {
                throw TaskFailure(rejected: "this node mounts no cgroups to limit the task: mount cgroup2 or the v1 memory, cpu and pids controllers")
            }
            return []
        }
        do {
            return try cgroups.create(taskID: task.meta.id, resources: task.spec.resources)
        } catch {
            cgroups.remove(taskID: task.meta.id)
            if limited { throw TaskFailure(rejected: "cannot limit the task: \(error)") }
            logger.warning("task \(task.meta.id) runs in the daemon's cgroup: \(error)")
            return []
        }
    }

    /// Removes a task's cgroups once its last process is gone (the kernel may
    /// take a moment to free them); what stays is removed by a later `apply`.
    private func removeCgroups(of id: String) {
        guard let cgroups, !cgroups.remove(taskID: id) else { return }
        Task {
            for _ in 0..<10 {
                try? await Task.sleep(for: .milliseconds(100))
                if cgroups.remove(taskID: id) { return }
            }
        }
    }

    private func stop(_ id: String) {
        guard var current = running[id], !current.stopping else { return }
        current.stopping = true
        current.healthMonitor?.cancel()
        running[id] = current
        // A task still starting is stopped by its launch, once its process exists.
        if let child = current.child { terminate(child) }
    }

    private func terminate(_ child: ProcessSupervisor.Child) {
        child.signal(SIGTERM)
        Task {
            try? await Task.sleep(for: Self.stopGracePeriod)
            child.signal(SIGKILL)
        }
    }

    private func exited(_ id: String, code: Int32) {
        guard let ended = running.removeValue(forKey: id) else { return }
        ended.healthMonitor?.cancel()
        nameServer?.stop(taskID: id)
        if let address = ended.address { bridge?.release(address) }
        let oomKilled = code != 0 && cgroups?.oomKilled(taskID: id) == true
        removeCgroups(of: id)
        report(id, Self.exitStatus(code: code, stopping: ended.stopping, unhealthy: ended.unhealthy ? statuses[id]?.health : nil,
                                   oomKilled: oomKilled, now: Date()))
    }

    /// How a task that ended is reported: docker's words, and whether its health check or the OOM killer ended it.
    static func exitStatus(code: Int32, stopping: Bool, unhealthy health: TaskHealth? = nil, oomKilled: Bool, now: Date) -> TaskStatus {
        if let health {
            // docker's words for a task its health check ended; its health stays to say why.
            TaskStatus(state: .failed, timestamp: now, message: "started",
                       error: "task: non-zero exit (\(code)): dockerexec: unhealthy container", exitCode: code, health: health)
        } else if stopping {
            TaskStatus(state: .shutdown, timestamp: now, message: "shutdown", exitCode: code, oomKilled: oomKilled ? true : nil)
        } else if code == 0 {
            TaskStatus(state: .complete, timestamp: now, message: "finished", exitCode: 0)
        } else if oomKilled {
            // swarmkit's exit error with its cause, the name docker's inspect gives it.
            TaskStatus(state: .failed, timestamp: now, message: "started", error: "task: non-zero exit (\(code)): OOMKilled",
                       exitCode: code, oomKilled: true)
        } else {
            TaskStatus(state: .failed, timestamp: now, message: "started", error: "task: non-zero exit (\(code))", exitCode: code)
        }
    }

    // MARK: Health checks

    /// Probes the task every interval while it runs; a change of health goes to
    /// the managers with its status at once (they gate its traffic on it).
    /// Unhealthy: the task is stopped and fails, to be replaced.
    private func monitorHealth(_ id: String, check: HealthCheck, startedAt: Date) async {
        var tracker = HealthTracker(check: check, startedAt: startedAt)
        recordHealth(id, tracker.health)
        let interval = Duration.milliseconds(Int64((check.intervalSeconds * 1000).rounded()))
        while (try? await Task.sleep(for: interval)) != nil {
            guard let current = running[id], !current.stopping else { return }
            var task = current.task
            if let status = statuses[id] { task.status = status }
            let target: ExecTarget
            do {
                target = try execTarget(task)
            } catch {
                return  // it no longer runs: its exit is reported
            }
            let probe = await HealthProbe.run(check, in: target, supervisor: supervisor, executable: executable,
                                              outputPath: "\(logDirectory(id))/health.out")
            guard !Task.isCancelled, running[id]?.stopping == false else { return }
            let health = tracker.record(probe)
            recordHealth(id, health)
            if health.status == .unhealthy {
                logger.warning("task \(id) is unhealthy: stopping it", metadata: ["failing_streak": "\(health.failingStreak)"])
                running[id]?.unhealthy = true
                return stop(id)
            }
        }
    }

    /// Reports what changes the task's fate: a new health status or failing
    /// streak, with the probes that led to it. A probe that changes neither is
    /// not worth a write to the managers' store (every passing probe would be).
    private func recordHealth(_ id: String, _ health: TaskHealth) {
        guard var status = statuses[id], status.state == .running else { return }
        if let reported = status.health, reported.status == health.status, reported.failingStreak == health.failingStreak { return }
        status.health = health
        report(id, status)
    }

    /// Records a status; reports go out together a moment later, so a burst
    /// of starts or stops reaches the leader as a few batches, not one frame each.
    private func report(_ id: String, _ status: TaskStatus) {
        var status = status
        if status.address == nil, !status.state.isTerminal { status.address = statuses[id]?.address }
        statuses[id] = status
        unreported.insert(id)
        guard !flushScheduled else { return }
        flushScheduled = true
        Task {
            try? await Task.sleep(for: Self.reportCoalescing)
            self.flushReports()
        }
    }

    private func flushReports() {
        flushScheduled = false
        let batch = unreported.compactMap { id in statuses[id].map { TaskReport(taskID: id, status: $0) } }
        unreported = []
        if !batch.isEmpty { reporter?(batch) }
    }

    // MARK: Files and environment

    /// The daemon's state a task must not reach: its data dir (the node's key,
    /// on a manager the Raft log with the root CA's key), the API socket's
    /// directory (the socket alone when it lies in a directory others share)
    /// and the lab root (`labRoot`: every lab node's state when the daemon
    /// runs in `shoal lab`). Deepest first: a cover hides what lies below it.
    public static func daemonPaths(dataDirectory: String, socketPath: String, labRoot: String) -> [String] {
        let socketDirectory = socketPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let shared: Set<String> = ["", "/tmp", "/run", "/var/run", "/var/tmp", "/dev/shm", "/var/lib"]
        let paths = [dataDirectory, shared.contains(socketDirectory) ? socketPath : socketDirectory, labRoot]
            .filter { !shared.contains($0) && $0.hasPrefix("/") }
        return withoutRepeats(paths).sorted { $0.count > $1.count }
    }

    /// Each path once, in the order first given.
    private static func withoutRepeats(_ paths: [String]) -> [String] {
        var unique: [String] = []
        for path in paths where !unique.contains(path) { unique.append(path) }
        return unique
    }

    private func logDirectory(_ id: String) -> String { "\(tasksDirectory)/\(id)" }

    private func removeLogs(keeping kept: Set<String>) {
        for entry in FileSystem.list(tasksDirectory) where !kept.contains(entry) {
            FileSystem.removeTree("\(tasksDirectory)/\(entry)")
        }
    }

    /// The daemon's paths as a task sees them: where they are, and again
    /// wherever a bind mount shows them (binds are recursive: `--mount
    /// type=bind,source=/,target=/host` shows the data dir at /host/var/lib/shoal).
    /// Sources are compared as `resolve` finds them (symbolic links followed).
    static func covers(_ paths: [String], under mounts: [TaskMount], resolving resolve: (String) -> String) -> [String] {
        var covers = paths
        for mount in mounts where mount.kind == .bind {
            guard let given = mount.source else { continue }
            let source = resolve(given)
            let target = mount.target.hasSuffix("/") ? String(mount.target.dropLast()) : mount.target
            for path in paths.map(resolve) {
                if source == "/" {
                    covers.append(target + path)
                } else if path == source || path.hasPrefix(source + "/") {
                    covers.append(target + path.dropFirst(source.count))
                } else if source.hasPrefix(path + "/") {
                    covers.append(target)  // the bind shows a part of the daemon's state: all of it is covered
                }
            }
        }
        return withoutRepeats(covers)
    }

    /// `path` with its symbolic links followed; as given when it cannot be resolved (a cover of it is skipped then).
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A task's hostname, as docker's container hostnames: the first 12 characters of its id.
    static func hostname(of id: String) -> String { DNSDirectory.hostname(ofTask: id) }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func searchPath(_ env: [String]) -> String {
        env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? defaultPath
    }

    /// docker's base environment, then the service's `--env`.
    static func environment(_ env: [String], hostname: String) -> [String] {
        var result = ["PATH=\(defaultPath)", "HOSTNAME=\(hostname)", "HOME=/root"]
        for entry in env {
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            result.removeAll { $0.hasPrefix("\(key)=") }
            result.append(entry)
        }
        return result
    }

    /// The program to run: a path as given, a name looked up in PATH; `shoal` is this binary when not installed.
    private func resolve(_ command: String, path: String) -> String? {
        if command.contains("/") { return access(command, X_OK) == 0 ? command : nil }
        for directory in path.split(separator: ":") where access("\(directory)/\(command)", X_OK) == 0 {
            return "\(directory)/\(command)"
        }
        return command == "shoal" ? executable : nil
    }
}

private struct TaskFailure: Error {
    let reason: String
    init(rejected reason: String) { self.reason = reason }
}

/// The two pipes between the agent and `task-init`: it says when its
/// namespaces exist; the agent says when the network inside is ready.
/// Used by one start at a time (hence unchecked Sendable).
private final class Handshake: @unchecked Sendable {
    private(set) var readyRead: Int32 = -1, readyWrite: Int32 = -1, goRead: Int32 = -1, goWrite: Int32 = -1

    init() throws {
        var ready: [Int32] = [0, 0]
        var go: [Int32] = [0, 0]
        guard shoal_pipe2(&ready, O_CLOEXEC) == 0 else { throw SystemError.errno("create a task pipe") }
        (readyRead, readyWrite) = (ready[0], ready[1])
        guard shoal_pipe2(&go, O_CLOEXEC) == 0 else { throw SystemError.errno("create a task pipe") }
        (goRead, goWrite) = (go[0], go[1])
    }

    deinit { [readyRead, readyWrite, goRead, goWrite].filter { $0 >= 0 }.forEach { close($0) } }

    /// Blocks until task-init is in its namespaces (or has died).
    func awaitReady() throws {
        // Only the child holds these ends now, so its death shows as end of file.
        close(readyWrite)
        close(goRead)
        (readyWrite, goRead) = (-1, -1)
        var entry = pollfd(fd: readyRead, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        guard poll(&entry, 1, 10_000) == 1, read(readyRead, &byte, 1) == 1 else {
            throw SystemError("start the task", reason: "task-init did not set up its namespaces")
        }
    }

    func go() throws {
        var byte: UInt8 = 1
        guard write(goWrite, &byte, 1) == 1 else { throw SystemError.errno("start the task") }
    }
}
