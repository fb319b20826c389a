import Crypto
import FoundationEssentials
import Transport
import X509

/// A throwaway certificate authority for tests: issues node certificates the
/// way the cluster CA will (CN = node id, OU = role), ECDSA P-256.
struct TestPKI {
    let name: String
    private let key = P256.Signing.PrivateKey()
    let certificate: Certificate

    init(name: String = "shoal-test-ca") throws {
        self.name = name
        let subject = try DistinguishedName { CommonName(name) }
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    func pem(_ certificate: Certificate) throws -> String { try certificate.serializeAsPEM().pemString }

    /// Credentials for node `nodeID` in `role`, trusting `trusting` (this CA by default).
    func credentials(nodeID: String, role: String = "manager", trusting: TestPKI? = nil) throws -> TransportCredentials {
        let nodeKey = P256.Signing.PrivateKey()
        let nodeCertificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(nodeKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: certificate.subject,
            subject: try DistinguishedName {
                OrganizationalUnitName(role)
                CommonName(nodeID)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
            },
            issuerPrivateKey: .init(key))
        return TransportCredentials(
            certificateChainPEM: try pem(nodeCertificate),
            privateKeyPEM: nodeKey.pemRepresentation,
            trustedRootsPEM: try (trusting ?? self).pem((trusting ?? self).certificate))
    }
}
