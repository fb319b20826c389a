import Testing
@testable import Raft

@Suite struct LeaderLossTests {
    @Test("a follower told its leader's connection ended stops shielding it, and a campaign then wins at once")
    func fastElectionAfterLeaderLoss() throws {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        #expect(net.leaders() == [1])
        net.isolate(1)
        let reported2 = net[2].reportLeaderUnreachable(1)
        let reported3 = net[3].reportLeaderUnreachable(1)
        #expect(reported2 && reported3)
        #expect(net[2].isLeaderless)
        net.campaign(2)  // what the host does after its random delay
        #expect(net.leaders().filter { $0 != 1 } == [2])
    }

    @Test("without the report, the same campaign is refused while the lease lasts")
    func leaseRefusesWithoutTheReport() {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        net.isolate(1)
        net.campaign(2)
        #expect(net.leaders().filter { $0 != 1 }.isEmpty)
    }

    @Test("a report about a peer that is not the leader changes nothing")
    func reportAboutAnotherPeerIsIgnored() {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        var node = net[2]
        let reported = node.reportLeaderUnreachable(3)
        #expect(!reported)
        #expect(node.leader == 1)
        #expect(!node.isLeaderless)
    }

    @Test("a live leader is not voted out: a voter that still hears it keeps its lease")
    func liveLeaderKeepsItsLease() {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        let reported = net[2].reportLeaderUnreachable(1)  // only 2 lost its connection; 3 still hears 1
        #expect(reported)
        net.campaign(2)
        #expect(net.leaders() == [1])
    }
}
