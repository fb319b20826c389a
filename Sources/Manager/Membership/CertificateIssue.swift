import ClusterCA
import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI
import Transport

/// The certificates the swarm's CA issues: to a node that joins, one that
/// is promoted, and one renewing its own (its side of renewal is
/// `CertificateRenewal`).
enum CertificateIssue {
    /// The leader's answer to a node asking for a new certificate: only a
    /// node the store knows gets one, for the key on record and with the role
    /// the store says — whatever its current certificate claims.
    static func answer(renewalFrom peer: PeerIdentity?, store: Store, isLeader: Bool, leaderAddress: String?,
                       now: Date = Date()) -> ClusterProtocol.RenewAnswer {
        guard let peer else { return .refused("a certificate of this swarm is needed to renew one") }
        guard isLeader else {
            if let leaderAddress { return .redirect(address: leaderAddress) }
            return .refused("the swarm has no leader right now: retry in a moment")
        }
        guard let cluster = store.cluster else { return .refused("the swarm is still starting: retry in a moment") }
        guard let node = store.nodes.first(where: { $0.meta.id == peer.nodeID }) else {
            return .refused("node \(peer.nodeID) is not in this swarm: it must join again")
        }
        guard let publicKeyPEM = node.publicKeyPEM else {
            return .refused("node \(peer.nodeID) has no key on record: it must leave and join again")
        }
        do {
            return .renewed(certificatePEM: try cluster.issueNodeCertificate(nodeID: node.meta.id, role: node.role,
                                                                             publicKeyPEM: publicKeyPEM, now: now))
        } catch {
            return .refused("the swarm's CA cannot issue a certificate right now")
        }
    }
}

extension ClusterObject {
    /// How long the node certificates this swarm issues are valid.
    var nodeCertificateValidity: Double {
        nodeCertificateValiditySeconds ?? CertificateExpiry.defaultSeconds
    }

    /// A certificate from this swarm's CA for a node's key, valid as long as the swarm says.
    func issueNodeCertificate(nodeID: String, role: NodeRole, publicKeyPEM: String, now: Date = Date()) throws -> String {
        try CertificateAuthority(certificatePEM: rootCACertificatePEM, privateKeyPEM: rootCAKeyPEM)
            .issue(nodeID: nodeID, role: role.rawValue, publicKeyPEM: publicKeyPEM,
                   validitySeconds: nodeCertificateValidity, now: now)
    }
}
