import Addressing
import ClusterCA
import ClusterStore
import ClusterWire
import NIOCore
import ShoalAPI
import Transport

/// `shoal join` on the joining node: checks the manager's CA against the
/// token before the secret leaves this node, then asks to join with a key
/// made here, following the managers to their leader.
public enum Joiner {
    public struct Joined: Sendable {
        /// Who this node is now: always a worker at first (one joining as a manager is promoted next).
        public var identity: NodeIdentity
        /// The role the token gives: what `join` reports.
        public var role: String
    }

    public static func join(token text: String, remoteAddress: String, hostname: String, advertiseAddress: String,
                            listenAddress: String, group: EventLoopGroup) async throws -> Joined {
        let token: JoinToken
        do {
            token = try JoinToken(parsing: text)
        } catch {
            throw SwarmError(error.description)
        }
        var manager = try managerAddress(remoteAddress)
        let caFrame = try await requesting(manager) { [manager] in
            try await Request.send(Frame(kind: ClusterProtocol.rootCA, payload: []), host: manager.host, port: manager.port,
                                   trustedRootDER: nil, group: group)
        }
        let ca: PinnedCertificate
        do {
            ca = try token.pinnedCA(der: caFrame.payload)
        } catch {
            throw SwarmError(error.description)
        }
        let key = NodeKey()
        let request = ClusterProtocol.JoinRequest(secret: token.secret, hostname: hostname,
                                                  advertiseAddress: advertiseAddress, publicKeyPEM: key.publicKeyPEM,
                                                  resources: .host)
        for _ in 0..<3 {
            let answerFrame = try await requesting(manager) { [manager] in
                try await Request.send(ClusterProtocol.frame(ClusterProtocol.join, request), host: manager.host, port: manager.port,
                                       trustedRootDER: ca.derBytes, group: group)
            }
            guard let answer = ClusterProtocol.decode(ClusterProtocol.JoinAnswer.self, from: answerFrame) else {
                throw SwarmError("the manager at \(manager) sent an answer this node cannot read: check that both run shoal \(Defaults.version)")
            }
            switch answer {
            case .refused(let why):
                throw SwarmError(why)
            case .redirect(let leader):
                manager = try managerAddress(leader)
            case .joined(let nodeID, let role, let certificatePEM, let managers):
                let identity = NodeIdentity(
                    nodeID: nodeID, role: NodeRole.worker.rawValue, raftID: 0, hostname: hostname, advertiseAddress: advertiseAddress,
                    listenAddress: listenAddress, caCertificatePEM: ca.pem, certificatePEM: certificatePEM,
                    privateKeyPEM: key.privateKeyPEM, managers: managers)
                return Joined(identity: identity, role: role)
            }
        }
        throw SwarmError("the managers kept sending this node elsewhere: retry in a moment", kind: .unavailable)
    }

    private static func requesting(_ manager: HostPort, _ body: () async throws -> Frame) async throws -> Frame {
        do {
            return try await body()
        } catch {
            throw SwarmError("cannot reach a manager at \(manager) (\(error)): check the address and that the manager runs",
                             kind: .unavailable)
        }
    }

    /// HOST[:PORT], the cluster port by default.
    private static func managerAddress(_ text: String) throws(SwarmError) -> HostPort {
        guard let address = HostPort(text, defaultPort: Defaults.clusterPort) else {
            throw SwarmError("invalid address \(text): use HOST:PORT")
        }
        return address
    }
}
