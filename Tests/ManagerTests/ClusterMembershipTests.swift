import ClusterWire
import ClusterStore
import Testing
import Transport
@testable import Manager

/// Peers are trusted as the store says now: a certificate's role is what was
/// true when it was issued.
@Suite struct ClusterMembershipTests {
    private let selfNode = CertificateRenewalTests.node("self", role: .manager, raftID: 1)
    private let seeds = [ClusterProtocol.ManagerInfo(nodeID: "self", raftID: 1, address: "10.0.0.1:2377"),
                         ClusterProtocol.ManagerInfo(nodeID: "old", raftID: 2, address: "10.0.0.2:2377")]

    @Test func aRemovedNodesManagerCertificateCannotForwardCalls() {
        let membership = ClusterMembership(nodes: [selfNode], seeds: seeds, selfRaftID: 1)
        #expect(!membership.isManager(PeerIdentity(nodeID: "old", role: "manager")))
    }

    @Test func aDemotedNodesManagerCertificateCannotForwardCallsOrAssign() {
        let demoted = CertificateRenewalTests.node("old", role: .worker)
        let membership = ClusterMembership(nodes: [selfNode, demoted], seeds: seeds, selfRaftID: 1)
        #expect(!membership.isManager(PeerIdentity(nodeID: "old", role: "manager")))
        #expect(membership.admits("old"))  // as a worker: its heartbeats still count
    }

    @Test func aManagerInTheStoreIsOneOnlyWithAManagerCertificate() {
        let other = CertificateRenewalTests.node("m2", role: .manager, raftID: 3)
        let membership = ClusterMembership(nodes: [selfNode, other], seeds: [], selfRaftID: 1)
        #expect(membership.isManager(PeerIdentity(nodeID: "m2", role: "manager")))
        #expect(!membership.isManager(PeerIdentity(nodeID: "m2", role: "worker")))
        #expect(!membership.isManager(nil))
        #expect(membership.raftID(of: "m2") == 3)
    }

    @Test func seedsAreManagersOnlyUntilTheStoreShowsThisManager() {
        let empty = ClusterMembership(nodes: [], seeds: seeds, selfRaftID: 1)
        #expect(empty.isManager(PeerIdentity(nodeID: "old", role: "manager")))
        let partial = ClusterMembership(nodes: [CertificateRenewalTests.node("m0", role: .manager, raftID: 9)],
                                        seeds: seeds, selfRaftID: 1)
        #expect(partial.isManager(PeerIdentity(nodeID: "old", role: "manager")))
        // Raft messages still route by seed: Raft itself decides about its members.
        #expect(ClusterMembership(nodes: [selfNode], seeds: seeds, selfRaftID: 1).raftID(of: "old") == 2)
    }
}
