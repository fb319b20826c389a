import FoundationEssentials
import ShoalAPI
import Transport

/// Who this node is in its swarm, kept in the data dir (root-only) so a
/// restarted daemon takes its place again without a token.
struct NodeIdentity: Codable, Equatable, Sendable {
    var nodeID: String
    var role: String
    var raftID: UInt64
    var hostname: String
    /// HOST:PORT peers dial.
    var advertiseAddress: String
    /// HOST:PORT the transport listens on.
    var listenAddress: String
    var caCertificatePEM: String
    var certificatePEM: String
    var privateKeyPEM: String
    /// The managers as of joining, for a worker to reach them.
    var managers: [ClusterProtocol.ManagerInfo]

    static func path(in dataDirectory: String) -> String { "\(dataDirectory)/swarm/identity.json" }

    static func load(from dataDirectory: String) throws -> NodeIdentity? {
        guard let bytes = FileSystem.read(path(in: dataDirectory)) else { return nil }
        do {
            return try JSONDecoder().decode(NodeIdentity.self, from: Data(bytes))
        } catch {
            throw ShoalError("\(path(in: dataDirectory)) is damaged", hint: "restore it, or remove the swarm folder and join again")
        }
    }

    func save(to dataDirectory: String) throws {
        try FileSystem.makeDirectory("\(dataDirectory)/swarm", mode: 0o700)
        try FileSystem.writeAtomically(Self.path(in: dataDirectory), Array(JSONEncoder().encode(self)), mode: 0o600)
    }
}

extension NodeIdentity {
    /// This node's certificate and key, trusting its swarm's CA: how it speaks mutual TLS.
    var credentials: TransportCredentials {
        TransportCredentials(certificateChainPEM: certificatePEM, privateKeyPEM: privateKeyPEM,
                             trustedRootsPEM: caCertificatePEM)
    }
}
