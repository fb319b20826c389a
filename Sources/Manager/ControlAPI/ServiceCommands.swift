import Addressing
import ClusterCA
import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI
import Transport

/// The service commands: each a write the orchestrator then acts on, or a read.
extension ControlAPI {
    /// `service create`.
    public func createService(_ request: ServiceSpecRequest) async throws -> ServiceCreated {
        try await createService(request, oneOff: nil, in: manager.store.snapshot)
    }

    /// `service create`, or the service `shoal run` makes (`oneOff` set).
    func createService(_ request: ServiceSpecRequest, oneOff: ServiceObject.OneOff?, in snapshot: Store) async throws -> ServiceCreated {
        var spec = try Self.validate(request, networks: snapshot.networks)
        let endpointMode = try Self.endpointMode(request.endpointMode)
        guard !snapshot.services.contains(where: { $0.name == request.name }) else {
            throw SwarmError("service \(request.name) already exists: choose another --name, or remove it first", kind: .conflict)
        }
        let id = Base36.objectID()
        let ports = try Self.publishedPorts(request.ports, service: id, endpointMode: endpointMode, among: snapshot.services)
        spec.networks = try Self.attachingIngress(spec.networks, ports: ports, in: snapshot)
        let service = ServiceObject(meta: ObjectMeta(id: id), name: request.name,
                                    mode: request.replicas.map { .replicated(replicas: $0) } ?? .global, spec: spec,
                                    endpointMode: endpointMode, ports: ports, oneOff: oneOff)
        try Self.checkCapacity(snapshot.services + [service], nodes: snapshot.nodes)
        _ = try await manager.propose([.create(.service(service))])
        return ServiceCreated(id: service.meta.id)
    }

    /// `service ls`.
    public func services() async throws -> [ServiceDetail] {
        let snapshot = try await manager.linearizableSnapshot()
        return snapshot.services.sorted { $0.name < $1.name }.map { Self.detail($0, in: snapshot) }
    }

    /// `service inspect`.
    public func inspectService(_ reference: String) async throws -> ServiceDetail {
        let snapshot = try await manager.linearizableSnapshot()
        return Self.detail(try Self.resolveService(reference, in: snapshot.services), in: snapshot)
    }

    /// `service update` and `service scale`: a changed task spec starts a rolling replacement.
    public func updateService(_ request: ServiceUpdateRequest) async throws -> ServiceCreated {
        try await retryingOutOfSequence { try await updateServiceOnce(request) }
    }

    private func updateServiceOnce(_ request: ServiceUpdateRequest) async throws -> ServiceCreated {
        let snapshot = manager.store.snapshot
        var service = try Self.resolveService(request.service, in: snapshot.services)
        if let replicas = request.replicas {
            guard case .replicated = service.mode else {
                throw SwarmError("scale can only be used with replicated mode: \(service.name) is a global service")
            }
            service.mode = .replicated(replicas: replicas)
        }
        if let endpointMode = request.endpointMode { service.endpointMode = try Self.endpointMode(endpointMode) }
        var spec = service.spec
        if let command = request.command { spec.command = command }
        let removedKeys = Set(request.envRemove.map { Self.envKey($0) } + request.envAdd.map { Self.envKey($0) })
        spec.env = spec.env.filter { !removedKeys.contains(Self.envKey($0)) } + request.envAdd
        spec.constraints = spec.constraints.filter { !request.constraintRemove.contains($0) }
            + request.constraintAdd.filter { !spec.constraints.contains($0) }
        let removedNetworks = try Set(request.networkRemove.map { reference throws(SwarmError) in
            try Self.resolveNetwork(reference, in: snapshot.networks).meta.id
        })
        let ingress = snapshot.networks.first(where: \.ingress)?.meta.id
        let keptNetworks = spec.networks.filter { !removedNetworks.contains($0) && $0 != ingress }
        do {
            spec.healthCheck = try request.healthCheck(updating: spec.healthCheck)
        } catch {
            throw SwarmError(error.message)
        }
        spec.healthCheck = try Self.validated(spec.healthCheck)
        (spec.capabilityAdd, spec.capabilityDrop) = try Self.updatedCapabilities(
            add: spec.capabilityAdd, drop: spec.capabilityDrop, adding: request.capabilityAdd, dropping: request.capabilityDrop)
        var check = Self.request(from: service, networks: snapshot.networks)
        (check.command, check.env, check.constraints) = (spec.command, spec.env, spec.constraints)
        (check.capabilityAdd, check.capabilityDrop) = (spec.capabilityAdd, spec.capabilityDrop)
        check.networks = keptNetworks + request.networkAdd
        if let readOnly = request.readOnly { check.readOnly = readOnly }
        check.mounts = try Self.updatedMounts(spec.mounts, adding: request.mountAdd, removing: request.mountRemove)
        if let user = request.user { check.user = user }
        check.resources = request.resources.applied(to: spec.resources)
        let checked = try Self.validate(check, networks: snapshot.networks)
        (spec.networks, spec.readOnly, spec.mounts) = (checked.networks, checked.readOnly, checked.mounts)
        (spec.user, spec.resources) = (checked.user, checked.resources)
        var ports = Self.portConfigs(service.ports)
        for text in request.publishRemove {
            let removal: PortConfig
            do { removal = try PortConfig(parsing: text) } catch { throw SwarmError(error.message) }
            ports.removeAll { $0.isRemoved(by: removal) }
        }
        for added in request.publishAdd {
            // docker's --publish-add replaces the port published on the same port and protocol.
            ports.removeAll { $0.protocol == added.protocol && $0.publishedPort == added.publishedPort && added.publishedPort != nil }
            ports.append(added)
        }
        service.ports = try Self.publishedPorts(ports, service: service.meta.id, endpointMode: service.endpointMode,
                                                among: snapshot.services)
        spec.networks = try Self.attachingIngress(spec.networks, ports: service.ports, in: snapshot)
        if spec != service.spec {
            service.spec = spec
            service.generation += 1
        }
        try Self.checkCapacity(snapshot.services.filter { $0.meta.id != service.meta.id } + [service], nodes: snapshot.nodes)
        _ = try await manager.propose([.update(.service(service))])
        return ServiceCreated(id: service.meta.id)
    }

    /// `service rm`: the orchestrator stops and removes its tasks.
    public func removeService(_ reference: String) async throws {
        try await retryingOutOfSequence {
            let service = try Self.resolveService(reference, in: manager.store.snapshot.services)
            _ = try await manager.propose([.delete(.service, id: service.meta.id, expectedVersion: service.meta.version)])
        }
    }

    /// `service ps SERVICE` (`service` set) and `node ps NODE` (`node` set).
    public func tasks(service: String?, node: String?) async throws -> [TaskSummary] {
        let snapshot = try await manager.linearizableSnapshot()
        var tasks = snapshot.tasks
        if let service {
            let id = try Self.resolveService(service, in: snapshot.services).meta.id
            tasks = tasks.filter { $0.serviceID == id }
        }
        if let node {
            let id = try NodeReference.resolve(node, in: snapshot.nodes).meta.id
            tasks = tasks.filter { $0.nodeID == id }
        }
        let hostnames = Dictionary(uniqueKeysWithValues: snapshot.nodes.map { ($0.meta.id, $0.hostname) })
        let hostPorts = Dictionary(uniqueKeysWithValues: snapshot.services.map { ($0.meta.id, Self.portConfigs($0.ports).filter(\.isHostMode)) })
        return tasks.sorted(by: TaskPlan.newestFirst).map { task in
            TaskSummary(id: task.meta.id, name: task.name, serviceID: task.serviceID, serviceName: task.serviceName,
                        slot: task.slot, nodeID: task.nodeID, node: task.nodeID.flatMap { hostnames[$0] },
                        command: task.spec.command, desiredState: task.desiredState.rawValue,
                        state: task.status.state.rawValue, stateSince: task.status.timestamp,
                        message: task.status.message, error: task.status.error, exitCode: task.status.exitCode,
                        address: task.status.address, createdAt: task.meta.createdAt, health: Self.health(of: task),
                        hostPorts: task.status.state == .running ? hostPorts[task.serviceID] : nil)
        }
    }

    /// `shoal inspect TASK`: the task with id `taskID`, as docker shows one.
    public func inspectTask(_ taskID: String) async throws -> TaskDetail {
        let snapshot = try await manager.linearizableSnapshot()
        guard let task = snapshot.tasks.first(where: { $0.meta.id == taskID }) else {
            throw SwarmError("no such task: \(taskID)", kind: .notFound)
        }
        let names = Dictionary(uniqueKeysWithValues: snapshot.networks.map { ($0.meta.id, $0.name) })
        return TaskDetail(
            id: task.meta.id, version: .init(index: task.meta.version), createdAt: task.meta.createdAt,
            updatedAt: task.meta.updatedAt,
            spec: .init(containerSpec: .init(command: task.spec.command, env: task.spec.env),
                        networks: task.spec.networks.map { .init(target: $0) }),
            serviceID: task.serviceID, slot: task.slot, nodeID: task.nodeID,
            status: .init(timestamp: task.status.timestamp, state: task.status.state.rawValue, message: task.status.message,
                          err: task.status.error.isEmpty ? nil : task.status.error,
                          containerStatus: task.status.exitCode.map { .init(exitCode: $0, oomKilled: task.status.oomKilled == true) }),
            desiredState: task.desiredState.rawValue,
            networksAttachments: task.networks.map {
                .init(networkID: $0.networkID, networkName: names[$0.networkID] ?? $0.networkID, address: $0.address.description)
            }, state: Self.health(of: task).map { TaskDetail.State(health: $0) })
    }

    /// `service logs`: output of a service's tasks (or one task), from every node that ran them.
    public func logs(_ request: LogsRequest) async throws -> LogsResponse {
        let snapshot = manager.store.snapshot
        let tasks: [TaskObject]
        if let task = snapshot.tasks.first(where: { $0.meta.id == request.target || $0.name == request.target }) {
            tasks = [task]
        } else {
            let service = try Self.resolveService(request.target, in: snapshot.services)
            tasks = snapshot.tasks.filter { $0.serviceID == service.meta.id }.sorted { ($0.slot, $0.meta.createdAt) < ($1.slot, $1.meta.createdAt) }
        }
        var response = LogsResponse(lines: [], cursor: request.cursor)
        for (nodeID, onNode) in Dictionary(grouping: tasks.filter { $0.nodeID != nil }, by: { $0.nodeID ?? "" }) {
            guard let node = snapshot.nodes.first(where: { $0.meta.id == nodeID }) else { continue }
            let offsets = Dictionary(uniqueKeysWithValues: onNode.map { ($0.meta.id, request.cursor[$0.meta.id] ?? 0) })
            guard let answer = await fetchLogs(ClusterProtocol.LogsRequest(offsets: offsets, tail: request.tail),
                                               from: node) else { continue }
            for task in onNode {
                let prefix = "\(task.slotName).\(task.meta.id.prefix(12))"
                for line in answer.lines[task.meta.id] ?? [] {
                    response.lines.append(LogsResponse.Line(task: prefix, node: node.hostname, text: line))
                }
                response.cursor[task.meta.id] = answer.offsets[task.meta.id] ?? offsets[task.meta.id]
                if answer.more?.contains(task.meta.id) == true { response.more = true }
            }
        }
        return response
    }

    // MARK: Helpers

    /// A task's health as `service ps` and `inspect` show it: starting until its agent has said more; none without a check.
    static func health(of task: TaskObject) -> TaskHealth? {
        task.spec.healthCheck == nil ? nil : task.status.health ?? TaskHealth()
    }

    /// Asks `node` for the output of its tasks; nil when it cannot be reached.
    private func fetchLogs(_ request: ClusterProtocol.LogsRequest, from node: NodeObject) async -> ClusterProtocol.LogsAnswer? {
        if node.meta.id == manager.identity.nodeID { return await manager.agent.logs(request) }
        guard let peer = HostPort(node.advertiseAddress),
              let frame = try? await Request.send(ClusterProtocol.frame(ClusterProtocol.logs, request), host: peer.host, port: peer.port,
                                                  trustedRootDER: nil, credentials: manager.identity.credentials, group: manager.group,
                                                  timeout: .seconds(10)) else { return nil }
        return ClusterProtocol.decode(ClusterProtocol.LogsAnswer.self, from: frame)
    }

    static func resolveService(_ reference: String, in services: [ServiceObject]) throws(SwarmError) -> ServiceObject {
        try NamedReference.resolve(reference, in: services, kind: "service", id: \.meta.id, name: \.name)
    }

    /// Checks a spec as `service create` takes it, its networks among `networks`; the first problem is the error.
    static func validate(_ request: ServiceSpecRequest, networks: [NetworkObject]) throws(SwarmError) -> TaskSpec {
        guard ObjectName.isValid(request.name) else { throw SwarmError(ObjectName.problem(request.name, kind: "service")) }
        guard let command = request.command.first, !command.isEmpty else {
            throw SwarmError("service \(request.name) has no command: put it after --, e.g. shoal service create --name web -- shoal whoami")
        }
        if let replicas = request.replicas, replicas < 0 || replicas > StoreLimits.maximumReplicas {
            throw SwarmError("invalid replicas value \(replicas): use 0 to \(StoreLimits.maximumReplicas), the limit per service")
        }
        for constraint in request.constraints { _ = try Constraint(parsing: constraint) }
        for entry in request.env where entry.hasPrefix("=") || entry.isEmpty {
            throw SwarmError("invalid environment variable \"\(entry)\": use KEY=VALUE")
        }
        guard let condition = RestartPolicy.Condition(rawValue: request.restartCondition) else {
            throw SwarmError("invalid restart condition \(request.restartCondition): use none, on-failure or any")
        }
        guard Limits.durationSeconds.contains(request.restartDelaySeconds),
              Limits.restartMaxAttempts.contains(request.restartMaxAttempts) else {
            throw SwarmError("invalid restart policy: the delay must be 0 to \(Durations.text(Limits.durationSeconds.upperBound)) and the attempts 0 to \(Limits.restartMaxAttempts.upperBound)")
        }
        let spec = TaskSpec(command: request.command, env: request.env, workdir: request.workdir, constraints: request.constraints,
                            restart: RestartPolicy(condition: condition, delaySeconds: request.restartDelaySeconds,
                                                   maxAttempts: request.restartMaxAttempts),
                            networks: try attachedNetworks(request.networks, among: networks),
                            capabilityAdd: try normalizedCapabilities(request.capabilityAdd, option: "--cap-add"),
                            capabilityDrop: try normalizedCapabilities(request.capabilityDrop, option: "--cap-drop"),
                            securityOptions: try securityOptions(request.securityOptions), readOnly: request.readOnly,
                            mounts: try mounts(request.mounts), user: try user(request.user),
                            healthCheck: try validated(request.healthCheck), resources: try resources(request.resources))
        let bytes = encodedSize(spec)
        guard bytes <= StoreLimits.maximumSpecBytes else {
            throw SwarmError("the spec of service \(request.name) is \(bytes) bytes encoded, over the limit of \(StoreLimits.maximumSpecBytes): shorten its command, environment or constraints")
        }
        return spec
    }

    /// Checks that `services`, as they would be after a write, stay within what the swarm can replicate:
    /// every desired task is a stored copy of its service's spec.
    static func checkCapacity(_ services: [ServiceObject], nodes: [NodeObject]) throws(SwarmError) {
        var tasks = 0
        var specBytes = 0
        for service in services {
            let desired = switch service.mode {
            case .replicated(let replicas): replicas
            case .global: nodes.count
            }
            tasks += desired
            specBytes += desired * encodedSize(service.spec)
        }
        guard tasks <= StoreLimits.maximumDesiredTasks else {
            throw SwarmError("the services would ask for \(tasks) tasks, over the swarm's limit of \(StoreLimits.maximumDesiredTasks): use fewer replicas or remove a service")
        }
        guard specBytes <= StoreLimits.maximumDesiredSpecBytes else {
            throw SwarmError("the services' tasks would hold \(specBytes >> 20) MiB of specs (replicas x spec size), over the swarm's limit of \(StoreLimits.maximumDesiredSpecBytes >> 20) MiB: use fewer replicas or a smaller spec")
        }
    }

    static func endpointMode(_ text: String) throws(SwarmError) -> EndpointMode {
        guard let mode = EndpointMode(rawValue: text) else {
            throw SwarmError("invalid endpoint mode \"\(text.prefix(64))\": use vip or dnsrr")
        }
        return mode
    }

    /// The ids of the networks `references` name, in their order.
    private static func attachedNetworks(_ references: [String], among networks: [NetworkObject]) throws(SwarmError) -> [String] {
        guard Limits.networksPerService.contains(references.count) else {
            throw SwarmError("a service is attached to \(Limits.networksPerService.upperBound) networks at most, not \(references.count)")
        }
        var ids: [String] = []
        for reference in references {
            let network: NetworkObject
            do {
                network = try resolveNetwork(reference, in: networks)
            } catch {
                throw SwarmError("network \(reference) not found: see shoal network ls", kind: .notFound)
            }
            guard !network.ingress else {
                throw SwarmError("service cannot be explicitly attached to the ingress network \"\(network.name)\"")
            }
            guard !ids.contains(network.meta.id) else { throw SwarmError("network \(network.name) is given twice") }
            ids.append(network.meta.id)
        }
        return ids
    }

    /// docker's names as docker stores them (CAP_NET_ADMIN, ALL).
    private static func normalizedCapabilities(_ names: [String], option: String) throws(SwarmError) -> [String] {
        do {
            return try Capabilities.normalize(names, option: option)
        } catch {
            throw SwarmError(error.message)
        }
    }

    private static func securityOptions(_ options: [String]) throws(SwarmError) -> [String] {
        do {
            try SecurityOptions.validate(options)
        } catch {
            throw SwarmError(error.message)
        }
        return Array(Set(options)).sorted()
    }

    /// Each `--mount` as the daemon stores it (docker's canonical field names).
    private static func mounts(_ texts: [String]) throws(SwarmError) -> [String] {
        var result: [String] = []
        for text in texts {
            do {
                result.append(try TaskMount(parsing: text).text)
            } catch {
                throw SwarmError(error.message)
            }
        }
        return result
    }

    static func validated(_ check: HealthCheck?) throws(SwarmError) -> HealthCheck? {
        do {
            try check?.validate()
        } catch {
            throw SwarmError(error.message)
        }
        return check
    }

    private static func resources(_ resources: Resources) throws(SwarmError) -> Resources {
        do {
            try resources.validate()
        } catch {
            throw SwarmError(error.message)
        }
        return resources
    }

    /// `service update --mount-add/--mount-rm`, as docker's: a mount is removed
    /// by its target, and one added replaces the mount on the same target.
    static func updatedMounts(_ mounts: [String], adding: [String], removing: [String]) throws(SwarmError) -> [String] {
        func target(_ text: String) throws(SwarmError) -> String {
            do {
                return Self.normalizedTarget(try TaskMount(parsing: text).target)
            } catch {
                throw SwarmError(error.message)
            }
        }
        let removed = Set(removing.map(Self.normalizedTarget))
        var result: [(target: String, text: String)] = []
        for mount in mounts {
            let existing = try target(mount)
            if !removed.contains(existing) { result.append((existing, mount)) }
        }
        for mount in adding {
            let added = try target(mount)
            result.removeAll { $0.target == added }
            result.append((added, mount))
        }
        return result.map(\.text)
    }

    private static func normalizedTarget(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    private static func user(_ text: String?) throws(SwarmError) -> String? {
        guard let text else { return nil }
        do {
            return try TaskUser(parsing: text).text
        } catch {
            throw SwarmError(error.message)
        }
    }

    /// `service update --cap-add/--cap-drop`, as docker's: a capability added
    /// leaves the drop list and one dropped leaves the add list.
    static func updatedCapabilities(add: [String], drop: [String], adding: [String],
                                    dropping: [String]) throws(SwarmError) -> (add: [String], drop: [String]) {
        let adding = try normalizedCapabilities(adding, option: "--cap-add")
        let dropping = try normalizedCapabilities(dropping, option: "--cap-drop")
        let newAdd = add.filter { !dropping.contains($0) } + adding.filter { !add.contains($0) }
        let newDrop = drop.filter { !adding.contains($0) } + dropping.filter { !drop.contains($0) }
        return (newAdd, newDrop)
    }

    private static func encodedSize(_ spec: TaskSpec) -> Int { (try? JSONEncoder().encode(spec).count) ?? 0 }

    /// The service as its create request would be, naming its networks as `networks` does.
    static func request(from service: ServiceObject, networks: [NetworkObject]) -> ServiceSpecRequest {
        let replicas: Int? = if case .replicated(let count) = service.mode { count } else { nil }
        return ServiceSpecRequest(name: service.name, replicas: replicas, command: service.spec.command,
                                  env: service.spec.env, workdir: service.spec.workdir,
                                  constraints: service.spec.constraints,
                                  restartCondition: service.spec.restart.condition.rawValue,
                                  restartDelaySeconds: service.spec.restart.delaySeconds,
                                  restartMaxAttempts: service.spec.restart.maxAttempts,
                                  networks: service.spec.networks.compactMap { id in
                                      guard let network = networks.first(where: { $0.meta.id == id }) else { return id }
                                      return network.ingress ? nil : network.name  // the routing mesh's, not the user's
                                  },
                                  endpointMode: service.endpointMode.rawValue, ports: portConfigs(service.ports),
                                  capabilityAdd: service.spec.capabilityAdd, capabilityDrop: service.spec.capabilityDrop,
                                  securityOptions: service.spec.securityOptions, readOnly: service.spec.readOnly,
                                  mounts: service.spec.mounts, user: service.spec.user, healthCheck: service.spec.healthCheck,
                                  resources: service.spec.resources)
    }

    static func detail(_ service: ServiceObject, in snapshot: Store) -> ServiceDetail {
        let tasks = snapshot.tasks.filter { $0.serviceID == service.meta.id && $0.desiredState <= .running }
        let desired: Int = switch service.mode {
        case .replicated(let replicas): replicas
        case .global:
            snapshot.nodes.filter { node in
                node.state == .ready && node.availability != .drain && Constraint.allMatch(service.spec.constraints, node)
            }.count
        }
        return ServiceDetail(id: service.meta.id, version: service.meta.version, createdAt: service.meta.createdAt,
                             updatedAt: service.meta.updatedAt, spec: request(from: service, networks: snapshot.networks),
                             running: tasks.filter { $0.status.state == .running }.count, desired: desired,
                             endpoint: ServiceEndpoint(virtualIPs: service.virtualIPs.map {
                                 ServiceEndpoint.VirtualIP(networkID: $0.networkID, addr: $0.address.description)
                             }), labels: service.oneOff.map { [OneOff.nodeLabel: $0.nodeID] })
    }

    private static func envKey(_ entry: String) -> String {
        entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
    }
}
