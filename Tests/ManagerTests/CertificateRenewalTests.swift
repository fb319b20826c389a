import ClusterWire
import ClusterCA
import ClusterStore
import FoundationEssentials
import Testing
import Transport
import X509
@testable import Manager

@Suite struct CertificateRenewalTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aCertificateIsRenewedAtHalfItsLifetime() {
        let from = now
        #expect(CertificateRenewal.renewalDate(validFrom: from, validUntil: from.addingTimeInterval(3600))
                    == from.addingTimeInterval(1800))
        #expect(CertificateRenewal.renewalDate(validFrom: from, validUntil: from.addingTimeInterval(90 * 86_400))
                    == from.addingTimeInterval(45 * 86_400))
    }

    @Test func aOneMinuteCertificateIsRenewedWellBeforeItExpiresButNotAtOnce() throws {
        let cluster = try Self.cluster(validity: 60)
        let pem = try cluster.issueNodeCertificate(nodeID: "n1", role: .worker, publicKeyPEM: NodeKey().publicKeyPEM, now: now)
        let validity = try #require(CertificateRenewal.validity(of: pem))
        let renewal = CertificateRenewal.renewalDate(validFrom: validity.from, validUntil: validity.until)
        #expect(renewal > now.addingTimeInterval(20))
        #expect(renewal < validity.until.addingTimeInterval(-20))
    }

    @Test func aSwarmThatNeverSetAnExpiryIssuesDockersNinetyDays() throws {
        var cluster = try Self.cluster(validity: 60)
        cluster.nodeCertificateValiditySeconds = nil
        let pem = try cluster.issueNodeCertificate(nodeID: "n1", role: .worker, publicKeyPEM: NodeKey().publicKeyPEM, now: now)
        #expect(CertificateRenewal.validity(of: pem)?.until == now.addingTimeInterval(90 * 86_400))
    }

    @Test func failedRenewalsAreRetriedWithDoublingDelaysBoundedByTheLifetime() {
        let day = now.addingTimeInterval(86_400)
        #expect((1...4).map { CertificateRenewal.retryDelay(failures: $0, validFrom: now, validUntil: day) } == [1, 2, 4, 8])
        #expect(CertificateRenewal.retryDelay(failures: 30, validFrom: now, validUntil: day) == 300)
        #expect(CertificateRenewal.retryDelay(failures: 30, validFrom: now, validUntil: now.addingTimeInterval(60)) == 6)
        #expect(CertificateRenewal.retryDelay(failures: 1, validFrom: now, validUntil: now.addingTimeInterval(5)) == 1)
    }

    @Test func theLeaderIssuesWithTheRoleTheStoreSaysNotTheOldCertificates() throws {
        let key = NodeKey()
        let store = try Self.store(validity: 600, nodes: [Self.node("n1", role: .worker, key: key.publicKeyPEM)])
        // n1 was demoted: its old certificate still says manager.
        let answer = CertificateIssue.answer(renewalFrom: PeerIdentity(nodeID: "n1", role: "manager"), store: store,
                                               isLeader: true, leaderAddress: nil, now: now)
        guard case .renewed(let pem) = answer else { Issue.record("refused: \(answer)"); return }
        let certificate = try Certificate(pemEncoded: pem)
        let units = certificate.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.organizationalUnitName }
        #expect(units.map { String($0.value) } == ["worker"])
        #expect(certificate.publicKey == (try Certificate.PublicKey(pemEncoded: key.publicKeyPEM)))
        #expect(certificate.notValidAfter == now.addingTimeInterval(600))
    }

    @Test func aRemovedOrAnonymousNodeGetsNoCertificateAndAFollowerRedirects() throws {
        let store = try Self.store(validity: 600, nodes: [Self.node("n1", role: .manager, key: NodeKey().publicKeyPEM)])
        let removed = CertificateIssue.answer(renewalFrom: PeerIdentity(nodeID: "gone", role: "manager"), store: store,
                                                isLeader: true, leaderAddress: nil)
        #expect(removed == .refused("node gone is not in this swarm: it must join again"))
        guard case .refused = CertificateIssue.answer(renewalFrom: nil, store: store, isLeader: true, leaderAddress: nil) else {
            Issue.record("an anonymous client got a certificate"); return
        }
        #expect(CertificateIssue.answer(renewalFrom: PeerIdentity(nodeID: "n1", role: "manager"), store: store,
                                          isLeader: false, leaderAddress: "10.0.0.2:2377") == .redirect(address: "10.0.0.2:2377"))
    }

    static func node(_ id: String, role: NodeRole, key: String? = nil, raftID: UInt64? = nil) -> NodeObject {
        NodeObject(meta: ObjectMeta(id: id), hostname: id, advertiseAddress: "10.0.0.1:2377", role: role, state: .ready,
                   raftID: raftID ?? (role == .manager ? 7 : nil), publicKeyPEM: key, engineVersion: "0.1.0")
    }

    static func cluster(validity: Double) throws -> ClusterObject {
        let authority = try CertificateAuthority(commonName: "swarm-ca")
        return ClusterObject(meta: ObjectMeta(id: "c"), rootCACertificatePEM: try authority.certificatePEM,
                             rootCAKeyPEM: try authority.privateKeyPEM, workerJoinSecret: "w", managerJoinSecret: "m",
                             heartbeatPeriodSeconds: 1, taskHistoryLimit: 5, nodeCertificateValiditySeconds: validity,
                             addressPools: [], subnetPrefixLength: 24)
    }

    static func store(validity: Double, nodes: [NodeObject]) throws -> Store {
        var store = Store()
        _ = try store.apply([.create(.cluster(try cluster(validity: validity)))] + nodes.map { .create(.node($0)) },
                           version: 1, now: Date())
        return store
    }
}
