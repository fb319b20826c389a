#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Agent
import ClusterWire
import Dispatch
import Logging
import Manager
import Metrics
import NameServer
import Netlink
import Network
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ShoalAPI

/// `shoal daemon`: the one long-running process of a node. It owns the data
/// dir, serves the local API and (as later parts land) runs the agent, the
/// manager and the cluster transport. Runs in the foreground until SIGTERM
/// or SIGINT.
public enum Daemon {
    public static func run(_ configuration: DaemonConfiguration) throws {
        // Everything the daemon creates — data, socket, logs — is root-only.
        umask(0o077)
        let level = configuration.logLevel
        let logFile = standardErrorLog(limits: configuration.logLimits)
        LoggingSystem.bootstrap { StructuredLogHandler(label: $0, level: level, file: logFile) }
        let logger = Logger(label: "daemon")

        // Before anything is made: `--lb ipvs` on a kernel without IPVS fails in one line.
        let loadBalancer: (backend: LoadBalancerBackend, reason: String)
        do {
            loadBalancer = try LoadBalancerBackend.choose(requested: configuration.loadBalancer)
        } catch {
            throw ShoalError("\(error)")
        }

        try FileSystem.makeDirectory(configuration.dataDirectory, mode: 0o700)
        let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
        defer { lock.release() }
        try claimSocket(configuration.socketPath)
        logger.info("load balancing with \(loadBalancer.reason)")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let nameServer = NameServer(group: group, upstreams: dnsUpstreams(configuration.dnsUpstreams))
        logger.info("the tasks' DNS server forwards to \(nameServer.upstreams.map { "\($0)" }.joined(separator: ", "))")
        let agent = try TaskAgent(dataDirectory: configuration.dataDirectory,
                                  coveredPaths: TaskAgent.daemonPaths(dataDirectory: configuration.dataDirectory,
                                                                      socketPath: configuration.socketPath,
                                                                      labRoot: Defaults.labRootInEffect),
                                  outputLimits: configuration.logLimits, nameServer: nameServer, loadBalancer: loadBalancer.backend,
                                  logger: Logger(label: "agent"))
        // Stops the daemon: a signal, or a Raft log that can no longer be written (`storageFailure` says which).
        let stop = DispatchSemaphore(value: 0)
        let storageFailure = NIOLockedValueBox<(any Error)?>(nil)
        let swarm = Swarm(dataDirectory: configuration.dataDirectory, hostname: hostname(), group: group,
                          runner: agent, logger: Logger(label: "swarm"), occupiedNetworks: occupiedNetworks) { error in
            logger.critical("the raft log cannot be written: \(error); stopping the daemon")
            storageFailure.withLockedValue { $0 = error }
            stop.signal()
        }
        let router = makeRouter(configuration, swarm: swarm, loadBalancer: loadBalancer.backend)
        try blocking {
            await swarm.setCallHandler { method, path, query, body in
                var forwarded = query
                forwarded[forwardedMark] = "1"
                let response = await router.respond(to: APIRequest(method: method, path: path, query: forwarded, body: body))
                return (response.status, response.body)
            }
            try await swarm.resume()
        }
        let server: APIServer
        do {
            server = try APIServer.start(.unixSocket(path: configuration.socketPath), router: router, group: group)
        } catch {
            throw ShoalError("cannot listen on \(configuration.socketPath): \(error)",
                             hint: "check that its directory is writable by root")
        }
        let metricsServer: APIServer?
        if let address = configuration.metricsAddress {
            do {
                metricsServer = try APIServer.start(.tcp(host: address.host, port: address.port),
                                                    router: metricsRouter(swarm: swarm, agent: agent, nameServer: nameServer), group: group)
            } catch {
                try? server.close()
                throw ShoalError("cannot serve metrics on \(address): \(error)", hint: "pick a free --metrics-addr of this node")
            }
            logger.info("serving Prometheus metrics at http://\(address)/metrics")
        } else {
            metricsServer = nil
        }
        logger.info("shoal daemon started", metadata: [
            "version": "\(Defaults.version)", "pid": "\(getpid())",
            "data_dir": "\(configuration.dataDirectory)", "socket": "\(configuration.socketPath)",
        ])

        waitForTerminationSignal(or: stop)
        logger.info("shoal daemon stopping")
        try? server.close()
        try? metricsServer?.close()
        try? blocking {
            await agent.shutdown()
            await swarm.shutdown()
        }
        unlink(configuration.socketPath)
        logger.info("shoal daemon stopped")
        if let error = storageFailure.withLockedValue({ $0 }) {
            throw ShoalError("the raft log under \(configuration.dataDirectory) cannot be written (\(error))",
                             hint: "free space or repair that disk, then start the daemon again", exitCode: 70)
        }
    }

    /// `--metrics-addr`'s one endpoint: the node's figures as Prometheus text, gathered at each scrape.
    static func metricsRouter(swarm: Swarm, agent: TaskAgent, nameServer: NameServer) -> HTTPRouter {
        var router = HTTPRouter()
        router.add("GET", "/metrics") { _ in
            let families = await swarm.metricFamilies() + agent.metricFamilies() + nameServer.metricFamilies()
            return APIResponse(status: 200, contentType: PrometheusText.contentType, body: Array(PrometheusText.render(families).utf8))
        }
        return router
    }

    static func makeRouter(_ configuration: DaemonConfiguration, swarm: Swarm, loadBalancer: LoadBalancerBackend? = nil) -> HTTPRouter {
        var router = HTTPRouter()
        router.add("GET", "/_ping") { _ in .text("OK") }
        router.add("HEAD", "/_ping") { _ in .text("") }
        router.add("GET", "/info") { _ in
            let certificates = await swarm.certificateStatus()
            return try .json(DaemonInfo(version: Defaults.version, nodeID: await swarm.nodeID, hostname: hostname(),
                                        dataDirectory: configuration.dataDirectory,
                                        socketPath: configuration.socketPath,
                                        listenAddress: configuration.listenAddress,
                                        advertiseAddress: configuration.advertiseAddress, pid: getpid(),
                                        certExpirySeconds: certificates.certExpirySeconds,
                                        certificateExpiresAt: certificates.expiresAt, loadBalancer: loadBalancer?.rawValue,
                                        swarm: await swarm.membership()))
        }
        router.add("POST", "/swarm/init") { request in
            let body = try request.decode(SwarmInitRequest.self)
            return try await answering {
                if body.forceNewCluster { return try .json(await swarm.forceNewCluster()) }
                let (advertise, listen) = try addresses(body.advertiseAddress, body.listenAddress, configuration)
                return try .json(await swarm.initialize(advertiseAddress: advertise, listenAddress: listen,
                                                        heartbeatPeriodSeconds: body.heartbeatPeriod,
                                                        certExpirySeconds: body.certExpirySeconds ?? CertificateExpiry.defaultSeconds,
                                                        addressPools: body.addressPools,
                                                        subnetPrefixLength: body.addressPoolMaskLength))
            }
        }
        router.add("POST", "/swarm/join") { request in
            let body = try request.decode(SwarmJoinRequest.self)
            return try await answering {
                let (advertise, listen) = try addresses(body.advertiseAddress, body.listenAddress, configuration)
                let role = try await swarm.join(token: body.token, remoteAddress: body.remoteAddress,
                                                advertiseAddress: advertise, listenAddress: listen)
                return try .json(SwarmJoinResponse(role: role))
            }
        }
        router.add("POST", "/swarm/update", onLeader(swarm) { request in
            let body = try request.decode(SwarmUpdateRequest.self)
            return try await answering {
                try await swarm.control().update(body)
                return try .json(MessageResponse(message: "Swarm updated."))
            }
        })
        router.add("GET", "/swarm/join-token", onLeader(swarm, when: { $0.query["rotate"] == "1" }) { request in
            try await answering {
                try .json(await swarm.control().joinToken(role: request.query["role"] ?? "", rotate: request.query["rotate"] == "1"))
            }
        })
        router.add("GET", "/nodes") { request in
            try await answering { try .json(await swarm.control().nodes(local: request.query["local"] == "1")) }
        }
        router.add("POST", "/nodes/inspect") { request in
            let body = try request.decode(NodeChangeRequest.self)
            return try await answering { try .json(await swarm.control().inspect(body.node)) }
        }
        router.add("POST", "/nodes/update", onLeader(swarm) { request in
            let body = try request.decode(NodeChangeRequest.self)
            return try await answering {
                if let availability = body.availability { try await swarm.control().setAvailability(availability, of: body.node) }
                return try .json(MessageResponse(message: body.node))
            }
        })
        router.add("POST", "/nodes/promote", onLeader(swarm) { request in
            let body = try request.decode(NodeChangeRequest.self)
            return try await answering { try .json(MessageResponse(message: await swarm.control().promote(body.node))) }
        })
        router.add("POST", "/nodes/demote", onLeader(swarm) { request in
            let body = try request.decode(NodeChangeRequest.self)
            return try await answering { try .json(MessageResponse(message: await swarm.control().demote(body.node))) }
        })
        router.add("POST", "/nodes/remove", onLeader(swarm) { request in
            let body = try request.decode(NodeChangeRequest.self)
            return try await answering {
                try await swarm.control().remove(body.node, force: body.force)
                return try .json(MessageResponse(message: body.node))
            }
        })
        addServiceRoutes(to: &router, swarm: swarm)
        addNetworkRoutes(to: &router, swarm: swarm)
        router.add("POST", "/swarm/leave") { request in
            let body = try request.decode(NodeChangeRequest.self)
            return try await answering {
                try await swarm.leave(force: body.force)
                return try .json(MessageResponse(message: "Node left the swarm."))
            }
        }
        return router
    }

    private static func addNetworkRoutes(to router: inout HTTPRouter, swarm: Swarm) {
        router.add("GET", "/networks") { _ in try await answering { try .json(await swarm.control().networks()) } }
        router.add("POST", "/networks/create", onLeader(swarm) { request in
            let body = try request.decode(NetworkCreateRequest.self)
            return try await answering { try .json(await swarm.control().createNetwork(body)) }
        })
        router.add("POST", "/networks/inspect") { request in
            let body = try request.decode(NetworkReferenceRequest.self)
            return try await answering { try .json(await swarm.inspectNetwork(body.network)) }
        }
        router.add("POST", "/networks/remove", onLeader(swarm) { request in
            let body = try request.decode(NetworkReferenceRequest.self)
            return try await answering {
                try await swarm.control().removeNetwork(body.network)
                return try .json(MessageResponse(message: body.network))
            }
        })
    }

    private static func addServiceRoutes(to router: inout HTTPRouter, swarm: Swarm) {
        router.add("GET", "/services") { _ in try await answering { try .json(await swarm.control().services()) } }
        router.add("POST", "/services/create", onLeader(swarm) { request in
            let body = try request.decode(ServiceSpecRequest.self)
            return try await answering { try .json(await swarm.control().createService(body)) }
        })
        router.add("POST", "/services/inspect") { request in
            let body = try request.decode(ServiceReferenceRequest.self)
            return try await answering { try .json(await swarm.control().inspectService(body.service)) }
        }
        router.add("POST", "/services/update", onLeader(swarm) { request in
            let body = try request.decode(ServiceUpdateRequest.self)
            return try await answering { try .json(await swarm.control().updateService(body)) }
        })
        router.add("POST", "/services/remove", onLeader(swarm) { request in
            let body = try request.decode(ServiceReferenceRequest.self)
            return try await answering {
                try await swarm.control().removeService(body.service)
                return try .json(MessageResponse(message: body.service))
            }
        })
        router.add("POST", "/services/logs") { request in
            let body = try request.decode(LogsRequest.self)
            return try await answering { try .json(await swarm.control().logs(body)) }
        }
        router.add("GET", "/tasks") { request in
            try await answering {
                try .json(await swarm.control().tasks(service: request.query["service"], node: request.query["node"]))
            }
        }
        router.add("GET", "/tasks/inspect") { request in
            let reference = request.query["task"] ?? ""
            try TaskReference.validate(reference)
            return try await answering { try .json(await swarm.inspectTask(reference)) }
        }
        router.add("POST", OneOff.createPath, forThisNode(swarm) { request, nodeID in
            let body = try request.decode(OneOffRequest.self)
            return try await answering { try .json(await swarm.control().createOneOff(body, on: nodeID)) }
        })
        router.add("POST", OneOff.removePath, forThisNode(swarm) { request, nodeID in
            let body = try request.decode(ServiceReferenceRequest.self)
            return try await answering {
                try await swarm.control().removeOneOff(body.service, of: nodeID)
                return try .json(MessageResponse(message: body.service))
            }
        })
        // Answered by this node's agent from its own tasks: `shoal exec` enters them on this node.
        router.add("GET", "/tasks/exec") { request in
            if let network = request.query["network"] {
                try NetworkReferenceRequest(network: network).validate()
                return try await answering { try .json(await swarm.execTarget(onNetwork: network)) }
            }
            let reference = request.query["task"] ?? ""
            try TaskReference.validate(reference)
            return try await answering { try .json(await swarm.execTarget(reference)) }
        }
    }

    /// The addresses `init` and `join` use: the listen address asked for (or
    /// the daemon's), and the advertise address resolved as docker does.
    private static func addresses(_ advertise: String?, _ listen: String?,
                                  _ configuration: DaemonConfiguration) throws -> (advertise: String, listen: String) {
        let listenAddress = listen ?? configuration.listenAddress
        let port = HostPort(listenAddress)?.port ?? Defaults.clusterPort
        let interfaces = try RouteSocket().ipv4Addresses().map {
            AdvertiseAddress.InterfaceAddress(interface: $0.link, address: $0.address.address.description)
        }
        let advertiseAddress = try AdvertiseAddress.resolve(advertise ?? configuration.advertiseAddress,
                                                            defaultPort: port, interfaces: interfaces)
        return (advertiseAddress, listenAddress)
    }

    /// Marks a call another manager forwarded, so it is never forwarded twice.
    static let forwardedMark = "forwarded"

    /// A write any manager accepts: one that does not lead hands it to the
    /// leader (over mutual TLS, as itself) and relays the answer.
    private static func onLeader(_ swarm: Swarm, when applies: @escaping @Sendable (APIRequest) -> Bool = { _ in true },
                                 _ handler: @escaping HTTPRouter.Handler) -> HTTPRouter.Handler {
        { request in
            if applies(request), request.query[forwardedMark] == nil {
                let answer = try await answering {
                    try await swarm.forwardToLeader(method: request.method, path: request.path, query: request.query,
                                                    body: request.body)
                }
                if let answer { return APIResponse(status: answer.status, contentType: "application/json", body: answer.body) }
            }
            return try await handler(request)
        }
    }

    /// A `shoal run` call: asked here, it is for this node and runs on the leader
    /// (`Swarm.handOverOneOffCall`, from a worker too); handed over, the query names the node.
    private static func forThisNode(_ swarm: Swarm,
                                    _ handler: @escaping @Sendable (APIRequest, _ nodeID: String) async throws -> APIResponse)
        -> HTTPRouter.Handler {
        { request in
            if request.query[forwardedMark] != nil { return try await handler(request, request.query[OneOff.nodeQuery] ?? "") }
            let answer = try await answering { try await swarm.handOverOneOffCall(path: request.path, body: request.body) }
            if let answer { return APIResponse(status: answer.status, contentType: "application/json", body: answer.body) }
            guard let nodeID = await swarm.nodeID else { throw APIError(status: 503, message: SwarmError.notInSwarm.description) }
            return try await handler(request, nodeID)
        }
    }

    /// Runs a swarm call, turning what the manager refuses into an API error with its status.
    private static func answering<Answer>(_ body: () async throws -> Answer) async throws -> Answer {
        do {
            return try await body()
        } catch let error as SwarmError {
            throw APIError(status: status(of: error.kind), message: error.description)
        }
    }

    /// `--dns-upstream`, or the node's own resolvers (at most three, as resolv.conf holds).
    static func dnsUpstreams(_ given: [HostPort]) -> [SocketAddress] {
        func text(_ path: String) -> String { String(decoding: FileSystem.read(path) ?? [], as: UTF8.self) }
        let upstreams = given.isEmpty
            ? NodeAddresses.nameservers(resolvConf: text("/etc/resolv.conf"), upstreamResolvConf: text("/run/systemd/resolve/resolv.conf"))
                .map { ($0.description, 53) }
            : given.map { ($0.host, $0.port) }
        return upstreams.prefix(3).compactMap { try? SocketAddress(ipAddress: $0.0, port: $0.1) }
    }

    /// The networks this node uses itself; none when they cannot be read (the
    /// node then shields nothing, and says why in its log).
    @Sendable static func occupiedNetworks() -> [IPv4Network] {
        func text(_ path: String) -> String { String(decoding: FileSystem.read(path) ?? [], as: UTF8.self) }
        do {
            return try NodeAddresses.occupied(resolvConf: text("/etc/resolv.conf"),
                                              upstreamResolvConf: text("/run/systemd/resolve/resolv.conf"))
        } catch {
            Logger(label: "daemon").warning("cannot list this node's addresses and routes: \(error)")
            return []
        }
    }

    /// The local API's status code for what the swarm refused.
    static func status(of kind: SwarmError.Kind) -> Int {
        switch kind {
        case .invalid: 400
        case .notFound: 404
        case .conflict, .outOfSequence: 409
        case .tooLarge: 413
        case .failed: 500
        case .badPeerAnswer: 502
        case .unavailable: 503
        case .timedOut: 504
        }
    }

    /// Runs async work from the daemon's synchronous start and stop.
    private static func blocking(_ work: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = NIOLockedValueBox<Result<Void, any Error>>(.success(()))
        Task {
            do { try await work() } catch { outcome.withLockedValue { $0 = .failure(error) } }
            done.signal()
        }
        done.wait()
        try outcome.withLockedValue { $0 }.get()
    }

    /// Refuses to start when another daemon answers on the socket; makes the
    /// socket's directory (root-only) when it is missing.
    private static func claimSocket(_ path: String) throws {
        if APIClient(socketPath: path).ping() {
            throw ShoalError("another shoal daemon answers on \(path)",
                             hint: "stop it first, or give this one another --socket")
        }
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        try FileSystem.makeDirectory(String(path[..<slash]), mode: 0o700)
    }

    /// Returns on SIGTERM or SIGINT, or when `stop` is signalled.
    private static func waitForTerminationSignal(or stop: DispatchSemaphore) {
        let sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            return source
        }
        stop.wait()
        sources.forEach { $0.cancel() }
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
