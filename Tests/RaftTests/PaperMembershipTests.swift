import Testing
@testable import Raft

/// Raft paper §6 (cluster membership changes; single-server changes as in the dissertation
/// §4) and leadership transfer (dissertation §3.10).
@Suite("§6 membership")
struct PaperMembershipTests {
    func elected(_ count: Int) -> TestNetwork {
        var net = TestNetwork(voters: count)
        net.campaign(1)
        return net
    }

    /// Adds a brand-new empty node `id` to the network (it knows no membership yet).
    func addEmptyNode(_ net: inout TestNetwork, _ id: NodeID) {
        net.nodes[id] = makeNode(id, voters: [], recovered: RecoveredState())
    }

    @Test("§6 a learner receives the log but neither votes nor counts towards commit")
    func learnerDoesNotCount() throws {
        var net = elected(3)
        addEmptyNode(&net, 4)
        try net[1].proposeConfChange(ConfChange(kind: .addLearner, node: 4))
        net.flush([1])
        net.tickAll(2)
        #expect(net[1].learners == [4])
        #expect(net[4].log.lastIndex == net[1].log.lastIndex, "the learner caught up")
        #expect(net[4].learners == [4] && !net[4].isPromotable)
        // With both other voters cut off, the learner's acknowledgement cannot commit anything.
        net.cut = [[1, 2], [1, 3]]
        try net.propose(1, "x")
        #expect(net[4].log.lastIndex == net[1].log.lastIndex)
        #expect(net[1].log.committed < net[1].log.lastIndex)
        // A learner never campaigns.
        net[4].tick(100)
        #expect(net[4].role == .follower)
    }

    @Test("§6 promoting a learner makes it count; the change takes effect when appended")
    func promoteLearner() throws {
        var net = elected(3)
        addEmptyNode(&net, 4)
        try net[1].proposeConfChange(ConfChange(kind: .addLearner, node: 4))
        net.flush([1])
        try net[1].proposeConfChange(ConfChange(kind: .addVoter, node: 4))
        #expect(net[1].voters == [1, 2, 3, 4], "in force on the leader as soon as appended")
        #expect(net[1].quorum == 3)
        net.flush([1])
        #expect(net[4].isPromotable)
        #expect(net[2].voters == [1, 2, 3, 4])
    }

    @Test("§6 only one membership change may be pending at a time")
    func onePendingChange() throws {
        var net = elected(3)
        net.cut = [[1, 2], [1, 3]]
        try net[1].proposeConfChange(ConfChange(kind: .addLearner, node: 4))
        #expect(throws: RaftError.confChangePending) {
            try net[1].proposeConfChange(ConfChange(kind: .addLearner, node: 5))
        }
        net.heal()
        net.tickAll(2)
        try net[1].proposeConfChange(ConfChange(kind: .addLearner, node: 5))
    }

    @Test("§6 a new leader accepts a change only after committing an entry of its own term")
    func newLeaderMustCommitFirst() throws {
        var leader = makeNode(1, voters: [1, 2, 3])
        leader.campaign()
        leader.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        #expect(throws: RaftError.confChangePending) {
            try leader.proposeConfChange(ConfChange(kind: .addLearner, node: 4))
        }
    }

    @Test("§6 invalid changes are refused")
    func invalidChanges() {
        var net = elected(1)
        #expect(throws: RaftError.self) { try net[1].proposeConfChange(ConfChange(kind: .addVoter, node: 1)) }
        #expect(throws: RaftError.self) { try net[1].proposeConfChange(ConfChange(kind: .removeNode, node: 1)) }
        #expect(throws: RaftError.self) { try net[1].proposeConfChange(ConfChange(kind: .removeNode, node: 9)) }
    }

    @Test("§6 removing a follower shrinks the quorum")
    func removeFollower() throws {
        var net = elected(3)
        try net[1].proposeConfChange(ConfChange(kind: .removeNode, node: 3))
        net.flush([1])
        #expect(net[1].voters == [1, 2])
        net.nodes[3] = nil
        try net.propose(1, "after")
        #expect(net.committed[1]?.last?.data == bytes("after"))
    }

    @Test("§6 a removed leader keeps leading until the change commits, then hands off and steps down")
    func removeLeader() throws {
        var net = elected(3)
        try net[1].proposeConfChange(ConfChange(kind: .removeNode, node: 1))
        #expect(net[1].role == .leader)
        #expect(net[1].voters == [2, 3])
        net.flush([1])
        #expect(net[1].role == .follower)
        #expect(!net[1].isPromotable)
        let leaders = net.leaders()
        #expect(leaders.count == 1 && leaders[0] != 1, "timeoutNow made a remaining voter leader")
        let newLeader = leaders[0]
        try net.propose(newLeader, "x")
        #expect(net.committed[newLeader]?.last?.data == bytes("x"))
    }

    @Test("§6 a configuration entry truncated from a follower's log stops being in force")
    func truncatedChangeReverts() {
        var state = emptyState(voters: [1, 2, 3])
        state.hardState = HardState(term: 2, commit: 1)
        state.entries = [entry(1, 1),
                         Entry(term: 2, index: 2, kind: .configChange,
                               data: ConfChange(kind: .addVoter, node: 4).encode())]
        var follower = makeNode(2, voters: [1, 2, 3], recovered: state)
        #expect(follower.voters == [1, 2, 3, 4])
        var append = Message(kind: .append, from: 1, to: 2, term: 3)
        append.index = 1
        append.logTerm = 1
        append.entries = [entry(3, 2)]
        follower.step(append)
        #expect(follower.voters == [1, 2, 3])
    }

    @Test("leadership transfer: the target gets timeoutNow when caught up and wins; proposals wait")
    func leadershipTransfer() throws {
        var net = TestNetwork(voters: 3, preVote: true, checkQuorum: true)
        net.campaign(1)
        net.cut = [[1, 3]]
        try net.propose(1, "x")
        net.heal()
        try net[1].transferLeadership(to: 3)
        #expect(throws: RaftError.transferInProgress) { try net[1].propose(bytes("y")) }
        net.flush([1])
        net.tickAll(1)
        #expect(net.leaders() == [3])
        #expect(net[3].term == 2)
        #expect(net[1].role == .follower && net[1].leader == 3)
    }
}

/// Raft paper §7 (log compaction) and install-snapshot.
@Suite("§7 log compaction")
struct PaperCompactionTests {
    @Test("§7 compaction drops applied entries and records index, term and membership")
    func compactRecordsMetadata() throws {
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        for n in 0..<5 { try net.propose(1, "v\(n)") }
        var leader = net[1]
        let applied = leader.appliedIndex
        let snap = try leader.compact(snapshotData: bytes("state"))
        #expect(snap.metadata.index == applied)
        #expect(snap.metadata.term == 1)
        #expect(snap.metadata.conf == ConfState(voters: [1, 2, 3]))
        #expect(leader.log.firstIndex == applied + 1)
        #expect(throws: RaftError.compactionOutOfRange) { try leader.compact(snapshotData: []) }
    }

    @Test("§7 a follower behind the first index is sent the snapshot, restores it, then gets the rest")
    func installSnapshot() throws {
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        net.isolate(3)
        for n in 0..<5 { try net.propose(1, "v\(n)") }
        _ = try net[1].compact(snapshotData: bytes("state"))
        try net.propose(1, "after")
        net.heal()
        var sawSnapshot = false
        net.dropFilter = nil
        // Tick until node 3 catches up, watching for the snapshot in its Ready.
        for _ in 0..<5 {
            for id in net.nodes.keys.sorted() { net.nodes[id]!.tick() }
            var queue: [Message] = []
            for id in net.nodes.keys.sorted() { queue += net.collect(id) }
            while !queue.isEmpty {
                let message = queue.removeFirst()
                if message.to == 3 && message.kind == .installSnapshot { sawSnapshot = true }
                if message.to == 3 && message.kind == .installSnapshot {
                    net.nodes[3]!.step(message)
                    #expect(net[3].ready().snapshot?.data == bytes("state"))
                } else if net.nodes[message.to] != nil {
                    net.nodes[message.to]!.step(message)
                }
                queue += net.collect(message.to)
            }
        }
        #expect(sawSnapshot)
        #expect(net[3].log.lastIndex == net[1].log.lastIndex)
        #expect(net[3].log.baseIndex == net[1].log.baseIndex)
        #expect(net.committed[3]?.last?.data == bytes("after"))
    }

    @Test("§7 a snapshot whose last entry the follower already holds keeps the entries after it")
    func snapshotKeepsMatchingSuffix() {
        var state = emptyState(voters: [1, 2])
        state.hardState = HardState(term: 1)
        state.entries = (1...5).map { entry(1, $0) }
        var follower = makeNode(2, voters: [1, 2], recovered: state)
        var message = Message(kind: .installSnapshot, from: 1, to: 2, term: 1)
        message.snapshot = Snapshot(metadata: SnapshotMetadata(index: 3, term: 1, conf: ConfState(voters: [1, 2])),
                                    data: [])
        follower.step(message)
        #expect(follower.log.lastIndex == 5)
        #expect(follower.log.committed == 3)
        #expect(follower.ready().snapshot == nil)
        let answer = follower.drain().first { $0.kind == .appendResponse }
        #expect(answer?.index == 3, "acknowledge only what is known to match")
    }
}

/// Raft paper §8 (client interaction): linearizable reads through ReadIndex.
@Suite("§8 ReadIndex")
struct PaperReadIndexTests {
    @Test("§8 the leader answers a read after a heartbeat round confirms it still leads")
    func leaderReadIndex() throws {
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        try net.propose(1, "x")
        try net[1].readIndex(context: bytes("r1"))
        let heartbeats = net[1].drain().filter { $0.kind == .heartbeat }
        #expect(heartbeats.count == 2 && heartbeats.allSatisfy { $0.context == bytes("r1") })
        #expect(net[1].readStates.isEmpty, "not before a quorum confirms")
        net.deliver(heartbeats)
        #expect(net.reads[1] == [ReadState(index: 2, context: bytes("r1"))])
    }

    @Test("§8 a follower's read is forwarded to the leader and answered with the leader's commit index")
    func followerReadIndex() throws {
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        try net.propose(1, "x")
        try net[2].readIndex(context: bytes("r2"))
        net.flush([2])
        #expect(net.reads[2] == [ReadState(index: 2, context: bytes("r2"))])
    }

    @Test("§8 a deposed leader cut off from the majority cannot answer reads")
    func partitionedLeaderCannotRead() throws {
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        net.isolate(1)
        try net[1].readIndex(context: bytes("stale"))
        net.flush([1])
        net.tickAll(3)
        #expect(net.reads[1, default: []].isEmpty)
    }

    @Test("§8 a new leader defers reads until it has committed an entry of its term")
    func readWaitsForCurrentTermCommit() throws {
        var leader = makeNode(1, voters: [1, 2, 3])
        leader.campaign()
        leader.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        _ = leader.drain()
        try leader.readIndex(context: bytes("early"))
        #expect(leader.drain().filter { $0.kind == .heartbeat && !$0.context.isEmpty }.isEmpty)
        var ack = Message(kind: .appendResponse, from: 2, to: 1, term: 1)
        ack.index = 1
        leader.step(ack)
        let heartbeats = leader.drain().filter { $0.kind == .heartbeat && $0.context == bytes("early") }
        #expect(heartbeats.count == 2)
        var response = Message(kind: .heartbeatResponse, from: 3, to: 1, term: 1)
        response.context = bytes("early")
        leader.step(response)
        #expect(leader.drainAll().reads == [ReadState(index: 1, context: bytes("early"))])
    }
}
