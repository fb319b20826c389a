import FoundationEssentials
import ShoalAPI
import Transport

/// Who this node is in its swarm, kept in the data dir (root-only) so a
/// restarted daemon takes its place again without a token.
public struct NodeIdentity: Codable, Equatable, Sendable {
    public var nodeID: String
    public var role: String
    public var raftID: UInt64
    public var hostname: String
    /// HOST:PORT peers dial.
    public var advertiseAddress: String
    /// HOST:PORT the transport listens on.
    public var listenAddress: String
    public var caCertificatePEM: String
    public var certificatePEM: String
    public var privateKeyPEM: String
    /// The managers as of joining, for a worker to reach them.
    public var managers: [ClusterProtocol.ManagerInfo]

    public init(nodeID: String, role: String, raftID: UInt64, hostname: String, advertiseAddress: String,
                listenAddress: String, caCertificatePEM: String, certificatePEM: String, privateKeyPEM: String,
                managers: [ClusterProtocol.ManagerInfo]) {
        self.nodeID = nodeID
        self.role = role
        self.raftID = raftID
        self.hostname = hostname
        self.advertiseAddress = advertiseAddress
        self.listenAddress = listenAddress
        self.caCertificatePEM = caCertificatePEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.managers = managers
    }

    public static func path(in dataDirectory: String) -> String { "\(dataDirectory)/swarm/identity.json" }

    public static func load(from dataDirectory: String) throws -> NodeIdentity? {
        guard let bytes = FileSystem.read(path(in: dataDirectory)) else { return nil }
        do {
            return try JSONDecoder().decode(NodeIdentity.self, from: Data(bytes))
        } catch {
            throw ShoalError("\(path(in: dataDirectory)) is damaged", hint: "restore it, or remove the swarm folder and join again")
        }
    }

    public func save(to dataDirectory: String) throws {
        try FileSystem.makeDirectory("\(dataDirectory)/swarm", mode: 0o700)
        try FileSystem.writeAtomically(Self.path(in: dataDirectory), Array(JSONEncoder().encode(self)), mode: 0o600)
    }
}

extension NodeIdentity {
    /// This node's certificate and key, trusting its swarm's CA: how it speaks mutual TLS.
    public var credentials: TransportCredentials {
        TransportCredentials(certificateChainPEM: certificatePEM, privateKeyPEM: privateKeyPEM,
                             trustedRootsPEM: caCertificatePEM)
    }
}
