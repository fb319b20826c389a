import Addressing
import ClusterStore
import ClusterWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ShoalAPI
import Transport

/// A worker's link to the managers: mutual TLS with its certificate, a
/// heartbeat to every manager once per period so they know it is alive, and
/// a listener for what the leader tells it (the managers now; a promotion).
public final class WorkerSession: Sendable {
    /// This node's identity, with its newest certificate.
    public var identity: NodeIdentity { renewal.identity }
    private let renewal: CertificateRenewal
    private let transport: Transport
    private let managers: NIOLockedValueBox<[ClusterProtocol.ManagerInfo]>
    private let group: EventLoopGroup
    private let loop = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private init(renewal: CertificateRenewal, transport: Transport, managers: NIOLockedValueBox<[ClusterProtocol.ManagerInfo]>,
                 group: EventLoopGroup) {
        self.renewal = renewal
        self.transport = transport
        self.managers = managers
        self.group = group
    }

    /// Heartbeats at the default period until the leader tells the swarm's.
    public static func start(identity: NodeIdentity, dataDirectory: String, group: EventLoopGroup, agent: any NodeAgent,
                             logger: Logger, promoted: @escaping @Sendable (ClusterProtocol.Promotion) -> Void) async throws -> WorkerSession {
        let managers = NIOLockedValueBox(identity.managers)
        let period = NIOLockedValueBox(Limits.heartbeatPeriod(clamping: Defaults.heartbeatPeriodSeconds))
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
                    guard isManager(peer),
                          let assignments = ClusterProtocol.decode(ClusterProtocol.Assignments.self, from: frame) else { return }
                    agent.deliver(assignments)
                default:
                    break
                }
            },
            serve: { peer, frame in
                guard frame.kind == ClusterProtocol.logs, isManager(peer),
                      let request = ClusterProtocol.decode(ClusterProtocol.LogsRequest.self, from: frame) else { return nil }
                return ClusterProtocol.frame(ClusterProtocol.logs, await agent.logs(request))
            })
        let listen = try HostPort(peer: identity.listenAddress)
        _ = try await transport.listen(host: listen.host, port: listen.port)
        let renewal = CertificateRenewal(identity: identity, dataDirectory: dataDirectory)
        renewal.start(transport: transport, managers: { managers.withLockedValue { $0 } }, group: group, logger: logger)
        let session = WorkerSession(renewal: renewal, transport: transport, managers: managers, group: group)
        let heartbeats = Task {
            while !Task.isCancelled {
                session.send(ClusterProtocol.heartbeat(.init(reports: await agent.reports(),
                                                             occupied: await agent.occupiedNetworks(), resources: .host)))
                try? await Task.sleep(for: period.withLockedValue { $0 })
            }
        }
        session.loop.withLockedValue { $0 = heartbeats }
        return session
    }

    /// Task statuses changed here: every manager hears at once (the leader writes them).
    public func report(_ reports: [TaskReport]) { send(ClusterProtocol.heartbeat(.init(reports: reports))) }

    /// `shoal run` on this worker: asks each manager in turn until one answers
    /// (it hands the call to the leader); the answer's status says how it went.
    public func oneOffCall(_ call: ClusterProtocol.Call) async throws -> ClusterProtocol.CallAnswer {
        var lastError: any Error = SwarmError("no manager is known to this node: check shoal info", kind: .unavailable)
        for manager in managers.withLockedValue({ $0 }) {
            do {
                let peer = try HostPort(peer: manager.address)
                let frame = try await Request.send(ClusterProtocol.frame(ClusterProtocol.oneOffCall, call), host: peer.host,
                                                   port: peer.port, trustedRootDER: nil, credentials: identity.credentials,
                                                   group: group, timeout: .seconds(60))
                guard let answer = ClusterProtocol.decode(ClusterProtocol.CallAnswer.self, from: frame) else {
                    throw SwarmError("manager \(manager.address) sent an answer this node cannot read", kind: .badPeerAnswer)
                }
                return answer
            } catch {
                lastError = SwarmError("cannot reach manager \(manager.address) (\(error)): retry in a moment", kind: .unavailable)
            }
        }
        throw lastError
    }

    private func send(_ frame: Frame) {
        for manager in managers.withLockedValue({ $0 }) {
            transport.send(frame, to: manager.nodeID, at: manager.address)
        }
    }

    public func stop() async {
        await renewal.stop()
        loop.withLockedValue { $0 }?.cancel()
        await transport.shutdown()
    }
}
