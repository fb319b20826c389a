import FoundationEssentials
import Testing
import X509
@testable import ClusterCA

@Suite struct CertificateAuthorityTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func validity(_ pem: String) throws -> (from: Date, until: Date) {
        let certificate = try Certificate(pemEncoded: pem)
        return (certificate.notValidBefore, certificate.notValidAfter)
    }

    @Test func aNodeCertificateLastsAsLongAsAskedAndIsBackdatedFiveMinutes() throws {
        let authority = try CertificateAuthority(commonName: "swarm-ca", now: now)
        let issued = try authority.issue(nodeID: "n1", role: "worker", validitySeconds: 90 * 86_400, now: now)
        #expect(try validity(issued.certificatePEM).until == now.addingTimeInterval(90 * 86_400))
        #expect(try validity(issued.certificatePEM).from == now.addingTimeInterval(-300))
    }

    @Test func aOneMinuteCertificateIsBackdatedByATenthOfItsValidityOnly() throws {
        let authority = try CertificateAuthority(commonName: "swarm-ca", now: now)
        let key = NodeKey()
        let pem = try authority.issue(nodeID: "n1", role: "worker", publicKeyPEM: key.publicKeyPEM,
                                      validitySeconds: 60, now: now)
        let (from, until) = try validity(pem)
        #expect(until == now.addingTimeInterval(60))
        // Backdated by 5 minutes, its half-life would already be past when it is issued.
        #expect(from == now.addingTimeInterval(-6))
    }
}
