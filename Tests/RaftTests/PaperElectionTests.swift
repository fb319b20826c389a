import Testing
@testable import Raft

/// Raft paper §5.1 (basics) and §5.2 (leader election), plus pre-vote and check-quorum
/// (dissertation §9.6 and §6.2).
@Suite("§5.1–5.2 election")
struct PaperElectionTests {
    @Test("§5.1 a higher term in any message makes a node update its term and follow")
    func higherTermMakesFollower() {
        for startRole in [RaftRole.follower, .candidate, .leader] {
            var node = makeNode(1, voters: [1, 2, 3])
            switch startRole {
            case .candidate: node.becomeCandidate()
            case .leader: node.becomeCandidate(); node.becomeLeader()
            default: break
            }
            _ = node.drain()
            var append = Message(kind: .append, from: 2, to: 1, term: 5)
            append.index = 0
            node.step(append)
            #expect(node.term == 5, "from \(startRole)")
            #expect(node.role == .follower, "from \(startRole)")
            #expect(node.leader == 2, "from \(startRole)")
        }
    }

    @Test("§5.1 a node ignores requests from an older term but tells a stale leader the new term")
    func staleTermRejected() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.becomeFollower(term: 3, leader: 0)
        _ = node.drain()
        node.step(Message(kind: .vote, from: 2, to: 1, term: 2))
        #expect(node.vote == 0)
        #expect(node.drain().isEmpty)

        var checking = makeNode(1, voters: [1, 2, 3], checkQuorum: true)
        checking.becomeFollower(term: 3, leader: 0)
        _ = checking.drain()
        checking.step(Message(kind: .heartbeat, from: 2, to: 1, term: 2))
        let answers = checking.drain()
        #expect(answers.count == 1)
        #expect(answers.first?.kind == .appendResponse && answers.first?.term == 3)
    }

    @Test("§5.2 a follower that hears nothing for an election timeout becomes candidate, votes for itself and asks everyone")
    func followerStartsElection() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.fireElectionTimeout()
        #expect(node.role == .candidate)
        #expect(node.term == 1)
        #expect(node.vote == 1)
        let requests = node.drain().filter { $0.kind == .vote }
        #expect(Set(requests.map(\.to)) == [2, 3])
        #expect(requests.allSatisfy { $0.term == 1 })
    }

    @Test("§5.2 the election timeout is randomized in [election, 2*election) and differs between nodes")
    func randomizedTimeout() {
        var seen: Set<Int> = []
        for id in 1...UInt64(40) {
            var node = makeNode(id, voters: [id], election: 10)
            node.resetRandomizedElectionTimeout()
            #expect((10..<20).contains(node.randomizedElectionTimeout))
            seen.insert(node.randomizedElectionTimeout)
        }
        #expect(seen.count > 3)
    }

    @Test("§5.2 a candidate that wins a majority becomes leader and asserts itself with an append")
    func candidateWinsMajority() {
        var node = makeNode(1, voters: [1, 2, 3, 4, 5])
        node.campaign()
        _ = node.drain()
        node.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        #expect(node.role == .candidate)
        node.step(Message(kind: .voteResponse, from: 3, to: 1, term: 1))
        #expect(node.role == .leader)
        let appends = node.drain().filter { $0.kind == .append }
        #expect(Set(appends.map(\.to)) == [2, 3, 4, 5])
        #expect(appends.allSatisfy { $0.entries.count == 1 && $0.entries[0].data.isEmpty })
    }

    @Test("§5.2 a candidate rejected by a majority goes back to follower")
    func candidateLosesMajority() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.campaign()
        var rejection = Message(kind: .voteResponse, from: 2, to: 1, term: 1)
        rejection.reject = true
        node.step(rejection)
        #expect(node.role == .candidate)
        rejection.from = 3
        node.step(rejection)
        #expect(node.role == .follower)
    }

    @Test("§5.2 each node votes for at most one candidate per term, first come first served")
    func oneVotePerTerm() {
        var node = makeNode(1, voters: [1, 2, 3])
        var request = Message(kind: .vote, from: 2, to: 1, term: 1)
        node.step(request)
        #expect(node.vote == 2)
        let first = node.drain()
        #expect(first.count == 1 && first[0].kind == .voteResponse && !first[0].reject)
        request.from = 3
        node.step(request)
        let second = node.drain()
        #expect(second.count == 1 && second[0].reject)
        #expect(node.vote == 2)
        // The same candidate asking again (a retransmission) gets the same answer.
        request.from = 2
        node.step(request)
        #expect(node.drain().first?.reject == false)
    }

    @Test("§5.2 a candidate that hears from a leader of its term becomes follower")
    func candidateFollowsLeaderOfSameTerm() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.campaign()
        _ = node.drain()
        node.step(Message(kind: .heartbeat, from: 2, to: 1, term: 1))
        #expect(node.role == .follower)
        #expect(node.leader == 2)
    }

    @Test("§5.2 a three-node cluster elects exactly one leader and all agree on it")
    func clusterElectsOneLeader() {
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        #expect(net.leaders() == [1])
        #expect(net[2].leader == 1 && net[3].leader == 1)
        #expect(net.nodes.values.allSatisfy { $0.term == 1 })
    }

    @Test("pre-vote: a partitioned node does not raise its term, and does not disrupt on rejoin")
    func preVoteDoesNotDisrupt() {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        #expect(net.leaders() == [1])
        net.isolate(3)
        for _ in 0..<5 {
            net[3].fireElectionTimeout()
            net.flush([3])
        }
        #expect(net[3].term == 1, "pre-vote keeps the term")
        #expect(net[3].role == .preCandidate)
        net.heal()
        net.tickAll(3)
        #expect(net.leaders() == [1])
        #expect(net[1].term == 1)
        #expect(net[3].role == .follower && net[3].leader == 1)
    }

    @Test("check-quorum: a leader that cannot hear a quorum for an election timeout steps down")
    func checkQuorumStepsDown() {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        net.isolate(1)
        for _ in 0..<(2 * 10 + 1) {
            net[1].tick()
            net.flush([1])
        }
        #expect(net[1].role == .follower)
    }

    @Test("leader lease: a node that heard a leader recently ignores a vote request of a higher term")
    func leaderLeaseIgnoresVotes() {
        var net = TestNetwork(voters: 3, checkQuorum: true)
        net.campaign(1)
        var node = net[2]
        #expect(node.leader == 1)
        var request = Message(kind: .vote, from: 3, to: 2, term: 5)
        request.index = 100
        request.logTerm = 100
        node.step(request)
        #expect(node.term == 1)
        #expect(node.vote == 1, "still the vote it gave in term 1")
        #expect(node.drain().isEmpty)
        // Once the lease runs out, the request is heard.
        node.tick(10)
        node.step(request)
        #expect(node.term == 5)
        #expect(node.vote == 3)
    }
}
