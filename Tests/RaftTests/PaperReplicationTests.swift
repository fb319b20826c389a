import Testing
@testable import Raft

/// Raft paper §5.3 (log replication) and §5.4 (safety).
@Suite("§5.3–5.4 replication and safety")
struct PaperReplicationTests {
    /// A leader of term 1 for voters 1...count whose no-op is committed everywhere.
    func electedNetwork(_ count: Int = 3) -> TestNetwork {
        var net = TestNetwork(voters: count)
        net.campaign(1)
        return net
    }

    @Test("§5.3 the leader appends a proposal to its log and sends it to every follower")
    func leaderReplicatesProposal() throws {
        var node = makeNode(1, voters: [1, 2, 3])
        node.campaign()
        node.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        _ = node.drain()
        for follower in [NodeID(2), 3] {
            var ack = Message(kind: .appendResponse, from: follower, to: 1, term: 1)
            ack.index = 1
            node.step(ack)
        }
        _ = node.drain()
        let index = try node.propose(bytes("x"))
        #expect(index == 2)
        let appends = node.drain().filter { $0.kind == .append }
        #expect(Set(appends.map(\.to)) == [2, 3])
        for append in appends {
            #expect(append.entries.last == Entry(term: 1, index: 2, data: bytes("x")))
        }
    }

    @Test("§5.3 an entry is committed once a majority stores it, and followers learn the commit index")
    func commitOnMajority() throws {
        var net = electedNetwork(5)
        net.cut = [[1, 4], [1, 5]]
        try net.propose(1, "x")
        #expect(net[1].log.committed == 2, "leader + 2 of 4 followers is a majority of 5")
        #expect(net.committed[1]?.last?.data == bytes("x"))
        net.tickAll(1)
        #expect(net[2].log.committed == 2)
        #expect(net.committed[2]?.last?.data == bytes("x"))
        #expect(net[4].log.committed == 1)
    }

    @Test("§5.3 no commit without a majority")
    func noCommitWithoutMajority() throws {
        var net = electedNetwork(5)
        net.cut = [[1, 3], [1, 4], [1, 5]]
        try net.propose(1, "x")
        #expect(net[1].log.committed == 1)
    }

    @Test("§5.3 a follower rejects an append whose previous entry it lacks, with a conflict hint")
    func followerRejectsWithHint() {
        var follower = makeNode(2, voters: [1, 2, 3], recovered: {
            var state = emptyState(voters: [1, 2, 3])
            state.hardState = HardState(term: 3)
            state.entries = [entry(1, 1), entry(1, 2), entry(2, 3), entry(2, 4), entry(2, 5)]
            return state
        }())
        var append = Message(kind: .append, from: 1, to: 2, term: 4)
        append.index = 7
        append.logTerm = 3
        follower.step(append)
        let answer = follower.drain().first { $0.kind == .appendResponse }
        #expect(answer?.reject == true)
        #expect(answer?.rejectHint == 5, "our last index")
        #expect(answer?.logTerm == 2)

        append.index = 5
        follower.step(append)
        let second = follower.drain().first { $0.kind == .appendResponse }
        #expect(second?.reject == true)
        #expect(second?.rejectHint == 5 && second?.logTerm == 2, "the last entry with term <= 3")
    }

    @Test("§5.3 a follower deletes a conflicting suffix and appends the leader's entries")
    func followerTruncatesConflicts() {
        var follower = makeNode(2, voters: [1, 2, 3], recovered: {
            var state = emptyState(voters: [1, 2, 3])
            state.hardState = HardState(term: 2, commit: 1)
            state.entries = [entry(1, 1), entry(2, 2, "old"), entry(2, 3, "old")]
            return state
        }())
        var append = Message(kind: .append, from: 1, to: 2, term: 3)
        append.index = 1
        append.logTerm = 1
        append.entries = [entry(3, 2, "new")]
        append.commit = 2
        follower.step(append)
        #expect(follower.log.lastIndex == 2)
        #expect(follower.log.entries.last == entry(3, 2, "new"))
        #expect(follower.log.committed == 2)
        let rd = follower.ready()
        #expect(rd.entries == [entry(3, 2, "new")], "only the new suffix is to be persisted")
    }

    @Test("§5.3 conflict back-off: the leader skips a whole divergent term per round trip")
    func conflictBackOff() {
        // The follower has 50 entries from term 2 that the leader (term 3) never had.
        var followerState = emptyState(voters: [1, 2])
        followerState.hardState = HardState(term: 2)
        followerState.entries = [entry(1, 1)] + (2...51).map { entry(2, $0) }
        var leaderState = emptyState(voters: [1, 2])
        leaderState.hardState = HardState(term: 2)
        leaderState.entries = [entry(1, 1)] + (2...20).map { entry(1, $0) }
        var net = TestNetwork([makeNode(1, voters: [1, 2], recovered: leaderState),
                               makeNode(2, voters: [1, 2], recovered: followerState)])
        // Force node 1 to lead term 3 without node 2's vote: it asks; 2 refuses (shorter log).
        net[1].becomeCandidate()
        net[1].becomeLeader()
        var rejections = 0
        net.dropFilter = nil
        var queue = net.collect(1)
        while !queue.isEmpty {
            let message = queue.removeFirst()
            if message.kind == .appendResponse && message.reject { rejections += 1 }
            net.nodes[message.to]!.step(message)
            queue += net.collect(message.to)
        }
        #expect(net[2].log.lastIndex == net[1].log.lastIndex)
        #expect(net[2].log.entries == net[1].log.entries)
        #expect(rejections <= 2, "one hint skips all of term 2; got \(rejections) rejections")
    }

    @Test("§5.3 pipelining stops at the in-flight cap until acknowledgements arrive")
    func inflightCap() throws {
        var leader = makeNode(1, voters: [1, 2], maxInflight: 2)
        leader.campaign()
        leader.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        _ = leader.drain()
        var ack = Message(kind: .appendResponse, from: 2, to: 1, term: 1)
        ack.index = 1
        leader.step(ack)
        _ = leader.drain()
        #expect(leader.progress[2]?.state == .replicate)
        for n in 0..<5 { try leader.propose(bytes("p\(n)")) }
        let appends = leader.drain().filter { $0.kind == .append && !$0.entries.isEmpty }
        #expect(appends.count == 2, "two messages in flight at most")
        ack.index = appends[0].entries.last!.index
        leader.step(ack)
        let more = leader.drain().filter { $0.kind == .append && !$0.entries.isEmpty }
        #expect(more.count >= 1)
        #expect(more.first?.index == appends[1].entries.last!.index, "continues where the window left off")
    }

    @Test("§5.3 an append message is capped at the maximum message size (but carries at least one entry)")
    func maxMessageSize() throws {
        var leader = makeNode(1, voters: [1, 2], maxBytes: 300)
        leader.campaign()
        leader.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        _ = leader.drain()
        var ack = Message(kind: .appendResponse, from: 2, to: 1, term: 1)
        ack.index = 1
        leader.step(ack)
        _ = leader.drain()
        leader.progress[2]?.becomeProbe()
        for _ in 0..<10 { try leader.propose([UInt8](repeating: 7, count: 100)) }
        _ = leader.drain()
        leader.progress[2]?.becomeProbe()
        leader.progress[2]?.probeSent = false
        leader.sendAppend(to: 2)
        let append = leader.drain().first { $0.kind == .append }
        #expect(append.map { $0.entries.count >= 1 && $0.entries.count <= 3 } == true)
        _ = try leader.propose([UInt8](repeating: 1, count: 5000))
        #expect(leader.log.entries(from: leader.log.lastIndex, maxBytes: 300)?.count == 1)
    }

    @Test("§5.4.1 a voter refuses a candidate whose log is less up-to-date")
    func voteRequiresUpToDateLog() {
        var state = emptyState(voters: [1, 2, 3])
        state.hardState = HardState(term: 2)
        state.entries = [entry(1, 1), entry(2, 2)]
        let cases: [(UInt64, UInt64, Bool)] = [
            (1, 3, false),  // lower last term, longer log
            (2, 1, false),  // same term, shorter
            (2, 2, true),   // same
            (3, 1, true),   // higher last term wins even if shorter
        ]
        for (lastTerm, lastIndex, granted) in cases {
            var voter = makeNode(1, voters: [1, 2, 3], recovered: state)
            var request = Message(kind: .vote, from: 2, to: 1, term: 3)
            request.logTerm = lastTerm
            request.index = lastIndex
            voter.step(request)
            let answer = voter.drain().first { $0.kind == .voteResponse }
            #expect(answer?.reject == !granted, "lastTerm \(lastTerm) lastIndex \(lastIndex)")
        }
    }

    @Test("§5.4.2 a leader never commits an entry of an earlier term by counting replicas (figure 8)")
    func onlyCurrentTermEntriesCommitByCounting() {
        // Leader of term 3 holds an entry from term 2 at index 2 and replicates it to a majority.
        var state = emptyState(voters: [1, 2, 3])
        state.hardState = HardState(term: 2, commit: 1)
        state.entries = [entry(1, 1), entry(2, 2, "old")]
        var leader = makeNode(1, voters: [1, 2, 3], recovered: state)
        leader.becomeCandidate()
        leader.becomeLeader()   // term 3, no-op at index 3
        _ = leader.drain()
        var ack = Message(kind: .appendResponse, from: 2, to: 1, term: 3)
        ack.index = 2
        leader.step(ack)
        #expect(leader.log.committed == 1, "index 2 is on a majority but from term 2")
        ack.index = 3
        leader.step(ack)
        #expect(leader.log.committed == 3, "committing the term-3 no-op commits index 2 with it")
    }

    @Test("§5.4.3 a leader's heartbeat never declares an entry committed that the follower may not hold")
    func heartbeatCommitBoundedByMatch() throws {
        var net = electedNetwork(3)
        net.cut = [[1, 3]]
        try net.propose(1, "x")
        #expect(net[1].log.committed == 2)
        var heartbeats: [Message] = []
        net[1].tick()
        heartbeats = net[1].drain().filter { $0.kind == .heartbeat }
        #expect(heartbeats.first { $0.to == 3 }?.commit == 1)
        #expect(heartbeats.first { $0.to == 2 }?.commit == 2)
    }
}
