import ClusterCA
import Transport

/// A throwaway cluster CA for tests, handing out transport credentials.
struct TestPKI {
    let authority: CertificateAuthority

    init(name: String = "shoal-test-ca") throws {
        authority = try CertificateAuthority(commonName: name)
    }

    /// Credentials for node `nodeID` in `role`, trusting `trusting` (this CA by default).
    func credentials(nodeID: String, role: String = "manager", trusting: TestPKI? = nil) throws -> TransportCredentials {
        let issued = try authority.issue(nodeID: nodeID, role: role, validitySeconds: 86_400)
        return TransportCredentials(certificateChainPEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM,
                                    trustedRootsPEM: try (trusting ?? self).authority.certificatePEM)
    }
}
