import ClusterCA
import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI

/// The local API's swarm calls, on a manager: each reads the store or
/// proposes a write through `ManagerRuntime.propose`; the orchestrator,
/// scheduler and dispatcher act on what is written. A call that writes
/// reaches this on the leader: a follower forwards it first (`forwardToLeader`).
public struct ControlAPI: Sendable {
    let manager: ManagerRuntime

    public init(_ manager: ManagerRuntime) { self.manager = manager }

    /// The join token for `role`; with `rotate`, a new secret first (old tokens stop working for new joins).
    public func joinToken(role: String, rotate: Bool) async throws -> JoinTokenResponse {
        try await retryingOutOfSequence { try await joinTokenOnce(role: role, rotate: rotate) }
    }

    private func joinTokenOnce(role: String, rotate: Bool) async throws -> JoinTokenResponse {
        guard let nodeRole = NodeRole(rawValue: role) else { throw SwarmError("unknown role \(role)") }
        guard var cluster = manager.store.snapshot.cluster else { throw SwarmError.notInSwarm }
        let caDER = try CertificateAuthority(certificatePEM: cluster.rootCACertificatePEM,
                                             privateKeyPEM: cluster.rootCAKeyPEM).certificateDER
        if rotate {
            let fresh = JoinToken.generate(caCertificateDER: caDER).secret
            switch nodeRole {
            case .worker: cluster.workerJoinSecret = fresh
            case .manager: cluster.managerJoinSecret = fresh
            }
            _ = try await manager.propose([.update(.cluster(cluster))])
        }
        let secret = nodeRole == .worker ? cluster.workerJoinSecret : cluster.managerJoinSecret
        let token = JoinToken(caDigest: JoinToken.generate(caCertificateDER: caDER).caDigest, secret: secret)
        return JoinTokenResponse(role: role, token: token.description, managerAddress: manager.identity.advertiseAddress,
                                 rotated: rotate)
    }

    /// `shoal swarm update`: the swarm's settings. A new certificate expiry
    /// applies to the certificates issued from now on (nodes renew theirs at half their lifetime).
    public func update(_ request: SwarmUpdateRequest) async throws {
        try await retryingOutOfSequence {
            guard var cluster = manager.store.snapshot.cluster else { throw SwarmError.notInSwarm }
            if let seconds = request.certExpirySeconds {
                if let problem = CertificateExpiry.problem(seconds) { throw SwarmError(problem) }
                cluster.nodeCertificateValiditySeconds = seconds
            }
            _ = try await manager.propose([.update(.cluster(cluster))])
        }
    }

    /// How long the swarm's node certificates are valid, as this manager knows it.
    public var nodeCertificateValiditySeconds: Double? { manager.store.snapshot.cluster?.nodeCertificateValidity }
}
