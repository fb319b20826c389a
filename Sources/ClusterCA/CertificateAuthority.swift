import Crypto
import FoundationEssentials
import X509

/// A cluster's certificate authority: an ECDSA P-256 root that issues node
/// certificates whose common name is the node id and whose organizational
/// unit is the node's role — what the transport reads back as the peer's identity.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    private let key: Certificate.PrivateKey

    /// A new root, valid for `years`.
    public init(commonName: String, years: Int = 20, now: Date = Date()) throws {
        key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName { CommonName(commonName) }
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: key)
    }

    /// Loads a root saved with `certificatePEM` and `privateKeyPEM`.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM)
    }

    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
    public var privateKeyPEM: String { get throws { try key.serializeAsPEM().pemString } }

    /// A node's key pair and certificate, valid for `validitySeconds`.
    public func issue(nodeID: String, role: String, validitySeconds: Double,
                      now: Date = Date()) throws -> IssuedCertificate {
        let key = NodeKey()
        return IssuedCertificate(
            certificatePEM: try issue(nodeID: nodeID, role: role, publicKeyPEM: key.publicKeyPEM,
                                      validitySeconds: validitySeconds, now: now),
            privateKeyPEM: key.privateKeyPEM)
    }

    /// A certificate for a key the node made itself (its private key never leaves it).
    /// It is valid from a little before `now` (a tenth of its validity, at most
    /// 5 minutes) so that peers whose clocks lag a bit accept it.
    public func issue(nodeID: String, role: String, publicKeyPEM: String,
                      validitySeconds: Double, now: Date = Date()) throws -> String {
        let nodeCertificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: try Certificate.PublicKey(pemEncoded: publicKeyPEM),
            notValidBefore: now.addingTimeInterval(-min(300, validitySeconds / 10)),
            notValidAfter: now.addingTimeInterval(validitySeconds),
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
            issuerPrivateKey: key)
        return try nodeCertificate.serializeAsPEM().pemString
    }
}

/// A node's ECDSA P-256 key pair, PEM.
public struct NodeKey: Sendable {
    public let privateKeyPEM: String
    public let publicKeyPEM: String

    public init() {
        let key = P256.Signing.PrivateKey()
        privateKeyPEM = key.pemRepresentation
        publicKeyPEM = key.publicKey.pemRepresentation
    }
}

/// A node's certificate and its private key, PEM.
public struct IssuedCertificate: Sendable, Equatable {
    public var certificatePEM: String
    public var privateKeyPEM: String
}
