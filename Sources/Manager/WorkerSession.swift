import ClusterStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RaftHost
import ShoalAPI
import Transport

/// A worker's link to the managers: mutual TLS with its certificate, a
/// heartbeat to every manager once per period so they know it is alive, and
/// a listener for what the leader tells it (the managers now; a promotion).
final class WorkerSession: Sendable {
    /// This node's identity, with its newest certificate.
    var identity: NodeIdentity { renewal.identity }
    let agent: AgentLink
    private let renewal: CertificateRenewal
    private let transport: Transport
    private let managers: NIOLockedValueBox<[ClusterProtocol.ManagerInfo]>
    private let loop = LateBound<Task<Void, Never>>()

    private init(renewal: CertificateRenewal, agent: AgentLink, transport: Transport,
                 managers: NIOLockedValueBox<[ClusterProtocol.ManagerInfo]>) {
        self.renewal = renewal
        self.agent = agent
        self.transport = transport
        self.managers = managers
    }

    /// Heartbeats every second until the leader tells the swarm's period.
    static func start(identity: NodeIdentity, dataDirectory: String, group: EventLoopGroup, agent: AgentLink, logger: Logger,
                      promoted: @escaping @Sendable (ClusterProtocol.Promotion) -> Void) async throws -> WorkerSession {
        let managers = NIOLockedValueBox(identity.managers)
        let period = NIOLockedValueBox(Duration.seconds(1))
        // The leader's list, not a certificate's role, says who the managers are now.
        @Sendable func isManager(_ peer: PeerIdentity?) -> Bool {
            guard let peer, peer.role == NodeRole.manager.rawValue else { return false }
            return managers.withLockedValue { $0.contains { $0.nodeID == peer.nodeID } }
        }
        let transport = try Transport(
            credentials: identity.credentials,
            group: group, logger: logger,
            admits: { peer in managers.withLockedValue { $0.contains { $0.nodeID == peer.nodeID } } },
            receive: { peer, frame in
                switch frame.kind {
                case ClusterProtocol.managers:
                    if let session = ClusterProtocol.decode(ClusterProtocol.Session.self, from: frame), !session.managers.isEmpty {
                        managers.withLockedValue { $0 = session.managers }
                        period.withLockedValue { $0 = Limits.heartbeatPeriod(clamping: session.heartbeatPeriodSeconds) }
                    }
                case ClusterProtocol.promotion:
                    if let promotion = ClusterProtocol.decode(ClusterProtocol.Promotion.self, from: frame) { promoted(promotion) }
                case ClusterProtocol.assignments:
                    guard isManager(peer) else { return }
                    agent.deliver(frame)
                default:
                    break
                }
            },
            serve: { peer, frame in
                frame.kind == ClusterProtocol.logs && isManager(peer) ? await agent.answerLogs(frame, from: peer) : nil
            })
        let (host, port) = try ManagerRuntime.split(identity.listenAddress)
        _ = try await transport.listen(host: host, port: port)
        let renewal = CertificateRenewal(identity: identity, dataDirectory: dataDirectory)
        renewal.start(transport: transport, managers: { managers.withLockedValue { $0 } }, group: group, logger: logger)
        let session = WorkerSession(renewal: renewal, agent: agent, transport: transport, managers: managers)
        session.loop.value = Task {
            while !Task.isCancelled {
                session.send(await agent.heartbeat())
                try? await Task.sleep(for: period.withLockedValue { $0 })
            }
        }
        return session
    }

    /// Task statuses changed here: every manager hears at once (the leader writes them).
    func report(_ reports: [TaskReport]) { send(AgentLink.heartbeat(reports)) }

    private func send(_ frame: Frame) {
        for manager in managers.withLockedValue({ $0 }) {
            if let (host, port) = try? ManagerRuntime.split(manager.address) {
                transport.setPeer(manager.nodeID, host: host, port: port)
            }
            transport.send(frame, to: manager.nodeID)
        }
    }

    func stop() async {
        await renewal.stop()
        loop.value?.cancel()
        await transport.shutdown()
    }
}
