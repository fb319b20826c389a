import Logging
import NIOCore
import RaftHost
import Transport

/// A worker's link to the managers: mutual TLS with its certificate, and a
/// heartbeat to every manager once per period so they know it is alive.
final class WorkerSession: Sendable {
    let identity: NodeIdentity
    private let transport: Transport
    private let loop = LateBound<Task<Void, Never>>()

    private init(identity: NodeIdentity, transport: Transport) {
        self.identity = identity
        self.transport = transport
    }

    static func start(identity: NodeIdentity, group: EventLoopGroup, logger: Logger,
                      period: Duration = .seconds(1)) throws -> WorkerSession {
        let managerIDs = Set(identity.managers.map(\.nodeID))
        let transport = try Transport(
            credentials: TransportCredentials(certificateChainPEM: identity.certificatePEM,
                                              privateKeyPEM: identity.privateKeyPEM,
                                              trustedRootsPEM: identity.caCertificatePEM),
            group: group, logger: logger,
            admits: { managerIDs.contains($0.nodeID) }, receive: { _, _ in })
        for manager in identity.managers {
            if let (host, port) = try? ManagerRuntime.split(manager.address) {
                transport.setPeer(manager.nodeID, host: host, port: port)
            }
        }
        let session = WorkerSession(identity: identity, transport: transport)
        session.loop.value = Task {
            while !Task.isCancelled {
                for manager in identity.managers {
                    transport.send(Frame(kind: ClusterProtocol.heartbeat, payload: []), to: manager.nodeID)
                }
                try? await Task.sleep(for: period)
            }
        }
        return session
    }

    func stop() async {
        loop.value?.cancel()
        await transport.shutdown()
    }
}
