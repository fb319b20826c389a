@testable import Raft
import RaftStorage

/// A safety or liveness property the simulator found broken.
struct SimulationFailure: Error, CustomStringConvertible {
    var seed: UInt64
    var tick: Int
    var what: String
    var description: String { "seed \(seed) tick \(tick): \(what) (replay with RAFT_SEED=\(seed))" }
}

/// Knobs drawn per seed, so different seeds explore different kinds of weather.
struct SimulationProfile: CustomStringConvertible {
    var initialVoters: Int
    var dropRate: Double
    var duplicateRate: Double
    var maxDelay: Int
    var crashRate: Double
    var crashMidWriteRate: Double
    var partitionRate: Double
    var membershipRate: Double
    var proposalRate: Double
    var readRate: Double
    var snapshotEvery: UInt64
    var transferRate: Double
    var pauseRate: Double
    var preVote: Bool
    var checkQuorum: Bool
    var chaosTicks: Int

    init(random: inout SplitMix64, chaosTicks: Int) {
        func unit(_ r: inout SplitMix64) -> Double { Double(r.next() >> 11) / Double(1 << 53) }
        initialVoters = unit(&random) < 0.6 ? 3 : 5
        dropRate = unit(&random) * 0.2
        duplicateRate = unit(&random) * 0.05
        maxDelay = Int(random.next() % 5)
        crashRate = unit(&random) * 0.03
        crashMidWriteRate = unit(&random) * 0.015
        partitionRate = unit(&random) * 0.05
        membershipRate = unit(&random) * 0.05
        transferRate = unit(&random) * 0.01
        pauseRate = unit(&random) * 0.01
        preVote = unit(&random) < 0.8
        checkQuorum = unit(&random) < 0.8
        proposalRate = 0.3 + unit(&random) * 0.6
        readRate = unit(&random) * 0.1
        snapshotEvery = 8 + random.next() % 40
        self.chaosTicks = chaosTicks
    }

    var description: String {
        "voters \(initialVoters) drop \(dropRate) dup \(duplicateRate) delay \(maxDelay) crash \(crashRate) " +
            "midwrite \(crashMidWriteRate) partition \(partitionRate) membership \(membershipRate) " +
            "snapshotEvery \(snapshotEvery) transfer \(transferRate) pause \(pauseRate) preVote \(preVote) checkQuorum \(checkQuorum)"
    }
}

/// A deterministic simulation of a Raft cluster: every node runs the real `RaftNode` over the
/// real `WAL` on an `InMemoryFileSystem` that loses unsynced data on a crash. The network drops,
/// delays, duplicates and reorders messages and can be partitioned (also one way). Nodes crash
/// (between steps or in the middle of a write) and restart from what their disk kept, and the
/// membership changes mid-run. All randomness comes from one seed.
///
/// Checked throughout: election safety (one leader per term), one vote per node and term, log
/// matching, leader completeness, state machine safety, ReadIndex linearizability. Checked at
/// the end, after healing: every acknowledged proposal is applied by every member, in order.
struct ClusterSimulator {
    struct SimNode {
        var raft: RaftNode
        var wal: WAL
        var fs: InMemoryFileSystem
        /// Applied proposal values, in order: the replicated state machine.
        var values: [UInt64] = []
        var applied: UInt64 = 0
        var snapshotIndex: UInt64 = 0
    }

    struct Pending {
        var node: NodeID
        var index: UInt64
        var term: UInt64
    }

    struct InFlight {
        var deliverAt: Int
        var message: Message
    }

    let seed: UInt64
    var random: SplitMix64
    let profile: SimulationProfile
    var now = 0

    var nodes: [NodeID: SimNode] = [:]
    /// Crashed nodes and their disks, with the tick they restart at.
    var crashed: [NodeID: (fs: InMemoryFileSystem, restartAt: Int)] = [:]
    /// Nodes whose removal is committed; they are shut down for good.
    var removed: Set<NodeID> = []
    var nextNodeID: NodeID = 1
    var network: [InFlight] = []
    /// Directed links that drop everything, with the tick they heal at.
    var cutLinks: [[NodeID]: Int] = [:]
    /// Nodes frozen (a long GC pause or a stopped VM) until the given tick: no ticks, no input.
    var paused: [NodeID: Int] = [:]

    // Global history for the checks.
    var leaderOfTerm: [UInt64: NodeID] = [:]
    var votesGiven: [NodeID: [UInt64: NodeID]] = [:]
    var committedLog: [UInt64: Entry] = [:]
    var nextValue: UInt64 = 1
    var pending: [UInt64: Pending] = [:]
    /// Acknowledged values (committed and reported to the proposer), in acknowledgement order.
    var acked: [UInt64] = []
    var ackedIndex: [UInt64: UInt64] = [:]
    var highestAckedIndex: UInt64 = 0
    var pendingReads: [[UInt8]: UInt64] = [:]
    var readsAnswered = 0
    var nextReadID: UInt64 = 1
    var stats = (elections: 0, crashes: 0, midWriteCrashes: 0, confChanges: 0, snapshots: 0, restarts: 0)

    static let directory = "/raft"
    var seedTrace = false
    /// After the chaos phase: no more faults, drops or client writes besides the barrier.
    var healing = false

    init(seed: UInt64, chaosTicks: Int) throws {
        self.seed = seed
        var random = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        profile = SimulationProfile(random: &random, chaosTicks: chaosTicks)
        self.random = random
        let voters = (1...UInt64(profile.initialVoters)).map { $0 }
        nextNodeID = NodeID(profile.initialVoters + 1)
        for id in voters {
            let fs = InMemoryFileSystem()
            let (wal, _) = try WAL.open(directory: Self.directory, fileSystem: fs, segmentSize: 2048)
            let raft = RaftNode.bootstrap(config: config(id), voters: voters, random: SplitMix64(seed: seed ^ id))
            nodes[id] = SimNode(raft: raft, wal: wal, fs: fs)
        }
    }

    func config(_ id: NodeID) -> RaftConfig {
        RaftConfig(id: id, maxInflightMessages: 4, maxMessageBytes: 256,
                   preVote: profile.preVote, checkQuorum: profile.checkQuorum)
    }

    func fail(_ what: String) -> SimulationFailure {
        SimulationFailure(seed: seed, tick: now, what: what)
    }

    mutating func chance(_ p: Double) -> Bool {
        Double(random.next() >> 11) / Double(1 << 53) < p
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    // MARK: - Running

    /// Runs the chaos phase, then heals everything and checks that the cluster converges.
    mutating func run() throws {
        for _ in 0..<profile.chaosTicks {
            try step(chaos: true)
        }
        // Heal: no more faults; restart everyone; wait for a leader to commit a barrier that
        // every member applies.
        healing = true
        cutLinks = [:]
        paused = [:]
        for id in crashed.keys.sorted() { crashed[id]?.restartAt = now }
        var barrier: UInt64?
        var barrierAt = 0
        for _ in 0..<600 {
            try step(chaos: false)
            if barrier == nil, let leader = currentLeader(), leader.raft.log.term(at: leader.raft.log.committed) == leader.raft.term {
                let value = nextValue
                if (try? nodes[leader.raft.id]!.raft.propose(encode(value))) != nil {
                    pending[value] = Pending(node: leader.raft.id, index: nodes[leader.raft.id]!.raft.log.lastIndex,
                                             term: leader.raft.term)
                    nextValue += 1
                    barrier = value
                    barrierAt = now
                }
            }
            if let barrier, let index = ackedIndex[barrier], converged(through: max(index, highestAckedIndex)) {
                try checkLogMatching()
                try checkFinalState()
                return
            }
            if let b = barrier, ackedIndex[b] == nil, pending[b] == nil || now - barrierAt > 60 {
                // The barrier was lost to a leader change; propose another.
                pending[b] = nil
                barrier = nil
            }
        }
        throw fail("no convergence after healing: barrier \(barrier.map { "\($0) pending \(String(describing: pending[$0])) acked \(String(describing: ackedIndex[$0]))" } ?? "none") highestAcked \(highestAckedIndex) leader \(currentLeader()?.raft.id ?? 0), members \(members().sorted()), " +
                   "nodes \(nodes.values.map { "\($0.raft.id):\($0.raft.role) t\($0.raft.term) c\($0.raft.log.committed) a\($0.applied) last\($0.raft.log.lastIndex) base\($0.raft.log.baseIndex) conf\($0.raft.confState)" }.sorted()) progress \(currentLeader()?.raft.progress.map { "\($0.key): m\($0.value.match) n\($0.value.next) \($0.value.state) ps\($0.value.probeSent) inf\($0.value.inflights.lastIndexes)" } ?? [])")
    }

    func currentLeader() -> SimNode? {
        nodes.values.filter { $0.raft.role == .leader }.max { $0.raft.term < $1.raft.term }
    }

    /// Members according to the newest leader's log.
    func members() -> Set<NodeID> {
        guard let leader = currentLeader() else { return [] }
        let conf = leader.raft.confState
        return Set(conf.voters + conf.learners)
    }

    func converged(through index: UInt64) -> Bool {
        let members = members()
        guard !members.isEmpty else { return false }
        return members.allSatisfy { (nodes[$0]?.applied ?? 0) >= index }
    }

    /// One tick: faults, timers, client requests, then a few rounds of message delivery.
    mutating func step(chaos: Bool) throws {
        now += 1
        if chaos { try injectFaults() }
        for id in crashed.keys.sorted() where crashed[id]!.restartAt <= now {
            try restart(id)
        }
        for (id, until) in paused where until <= now { paused[id] = nil }
        for id in nodes.keys.sorted() where paused[id] == nil {
            nodes[id]!.raft.tick()
        }
        clientRequests(chaos: chaos)
        for round in 0..<3 {
            try processAllReadies()
            deliver(final: round == 2)
        }
        try processAllReadies()
        if now % 25 == 0 { try checkLogMatching() }
    }

    mutating func injectFaults() throws {
        for (link, healAt) in cutLinks where healAt <= now { cutLinks[link] = nil }
        if chance(profile.partitionRate) {
            let ids = nodes.keys.sorted() + crashed.keys.sorted()
            let duration = 5 + Int(random.next() % 60)
            if chance(0.5), let victim = pick(ids) {
                // Asymmetric: the victim can send but not hear (or the reverse).
                let inbound = chance(0.5)
                for other in ids where other != victim {
                    cutLinks[inbound ? [other, victim] : [victim, other]] = now + duration
                }
            } else {
                let side = ids.filter { _ in chance(0.4) }
                for a in side { for b in ids where !side.contains(b) {
                    cutLinks[[a, b]] = now + duration
                    cutLinks[[b, a]] = now + duration
                } }
            }
        }
        if chance(profile.crashRate), let victim = pick(nodes.keys.sorted()) {
            crash(victim, tornBytes: 0)
        }
        if chance(profile.crashMidWriteRate), let victim = pick(nodes.keys.sorted()) {
            // The node dies at one of its next few writes or fsyncs.
            let fs = nodes[victim]!.fs
            fs.failAtOperation = fs.operationCount + 1 + Int(random.next() % 6)
        }
        if chance(profile.membershipRate) { proposeMembershipChange() }
        if chance(profile.transferRate), let leader = currentLeader(),
           let target = pick(leader.raft.confState.voters.filter { $0 != leader.raft.id }) {
            try? nodes[leader.raft.id]!.raft.transferLeadership(to: target)
        }
        if chance(profile.pauseRate), let victim = pick(nodes.keys.sorted()) {
            paused[victim] = now + 5 + Int(random.next() % 40)
        }
    }

    mutating func crash(_ id: NodeID, tornBytes: Int) {
        guard let node = nodes.removeValue(forKey: id) else { return }
        stats.crashes += 1
        let image = node.fs.crashImage(unsyncedBytesKept: tornBytes)
        crashed[id] = (image, now + 3 + Int(random.next() % 40))
        network.removeAll { $0.message.to == id }
    }

    mutating func restart(_ id: NodeID) throws {
        guard let entry = crashed.removeValue(forKey: id) else { return }
        if removed.contains(id) { return }
        stats.restarts += 1
        let lastPersisted = votesGiven[id]
        let (wal, recovered): (WAL, RecoveredState)
        do {
            (wal, recovered) = try WAL.open(directory: Self.directory, fileSystem: entry.fs, segmentSize: 2048)
        } catch {
            throw fail("node \(id) cannot recover its WAL: \(error)")
        }
        // No node may forget a vote it sent: the recovered term/vote must cover every grant.
        if let lastPersisted {
            for (term, candidate) in lastPersisted {
                let hs = recovered.hardState
                if hs.term < term || (hs.term == term && hs.vote != candidate) {
                    throw fail("node \(id) forgot its vote for \(candidate) in term \(term) (recovered \(hs))")
                }
            }
        }
        let raft = RaftNode(config: config(id), recovered: recovered, random: SplitMix64(seed: seed ^ id ^ UInt64(now)))
        var node = SimNode(raft: raft, wal: wal, fs: entry.fs)
        if let snapshot = recovered.snapshot {
            node.values = decodeValues(snapshot.data)
            node.applied = snapshot.metadata.index
            node.snapshotIndex = snapshot.metadata.index
        }
        nodes[id] = node
    }

    mutating func proposeMembershipChange() {
        guard let leader = currentLeader() else { return }
        let id = leader.raft.id
        let conf = leader.raft.confState
        var change: ConfChange?
        let roll = random.next() % 4
        if roll == 0 && conf.voters.count + conf.learners.count < 6 {
            change = ConfChange(kind: .addLearner, node: nextNodeID)
        } else if roll == 1, let learner = pick(conf.learners), conf.voters.count < 5 {
            change = ConfChange(kind: .addVoter, node: learner)
        } else if roll == 2, conf.voters.count > 3, let voter = pick(conf.voters) {
            change = ConfChange(kind: chance(0.5) ? .removeNode : .addLearner, node: voter)
        } else if roll == 3, let learner = pick(conf.learners) {
            change = ConfChange(kind: .removeNode, node: learner)
        }
        guard let change else { return }
        guard (try? nodes[id]!.raft.proposeConfChange(change)) != nil else { return }
        stats.confChanges += 1
        if change.kind == .addLearner && change.node == nextNodeID {
            // Start the new member empty; it learns everything from the leader.
            nextNodeID += 1
            let fs = InMemoryFileSystem()
            if let (wal, recovered) = try? WAL.open(directory: Self.directory, fileSystem: fs, segmentSize: 2048) {
                let raft = RaftNode(config: config(change.node), recovered: recovered,
                                    random: SplitMix64(seed: seed ^ change.node))
                nodes[change.node] = SimNode(raft: raft, wal: wal, fs: fs)
            }
        }
    }

    mutating func clientRequests(chaos: Bool) {
        if !healing, chance(profile.proposalRate), let leader = pick(nodes.values.filter { $0.raft.role == .leader }.map(\.raft.id)) {
            let value = nextValue
            if let index = try? nodes[leader]!.raft.propose(encode(value)) {
                nextValue += 1
                pending[value] = Pending(node: leader, index: index, term: nodes[leader]!.raft.term)
            }
        }
        if chance(profile.readRate), let id = pick(nodes.keys.sorted()) {
            let context = encode(nextReadID)
            if (try? nodes[id]!.raft.readIndex(context: context)) != nil {
                nextReadID += 1
                // Linearizability: the read must see every write acknowledged before it began.
                pendingReads[context] = highestAckedIndex
            }
        }
    }

    // MARK: - Ready handling (the caller's contract)

    mutating func processAllReadies() throws {
        for id in nodes.keys.sorted() where paused[id] == nil {
            try processReady(id)
        }
    }

    mutating func processReady(_ id: NodeID) throws {
        while var node = nodes[id], node.raft.hasReady {
            let rd = node.raft.ready()
            // 1. Persist. A failed write is fatal: the node crashes without sending anything.
            do {
                try node.wal.persist(rd)
            } catch {
                stats.midWriteCrashes += 1
                nodes[id] = node
                crash(id, tornBytes: Int(random.next() % 40))
                return
            }
            // 2. Send.
            for message in rd.messages { send(message) }
            // 3. Apply.
            if let snapshot = rd.snapshot {
                node.values = decodeValues(snapshot.data)
                node.applied = snapshot.metadata.index
                node.snapshotIndex = snapshot.metadata.index
            }
            for entry in rd.committedEntries {
                try apply(entry, on: &node)
            }
            for read in rd.readStates {
                guard let required = pendingReads.removeValue(forKey: read.context) else { continue }
                readsAnswered += 1
                if read.index < required {
                    throw fail("read \(read.context) at index \(read.index) misses acknowledged index \(required)")
                }
            }
            // 4. Advance.
            node.raft.advance(rd)
            try observeRole(node.raft)
            // Compact now and then, like the daemon will.
            if node.applied >= node.snapshotIndex + profile.snapshotEvery {
                let retain = random.next() % 4
                if let snapshot = try? node.raft.compact(snapshotData: encodeValues(node.values), retaining: retain) {
                    do {
                        try node.wal.saveSnapshot(snapshot)
                        try node.wal.compact()
                    } catch {
                        nodes[id] = node
                        crash(id, tornBytes: Int(random.next() % 40))
                        return
                    }
                    node.snapshotIndex = snapshot.metadata.index
                    stats.snapshots += 1
                }
            }
            nodes[id] = node
            if removedNow(id) { return }
        }
    }

    /// Shuts down a node once its removal is committed (it no longer matters to anyone).
    mutating func removedNow(_ id: NodeID) -> Bool {
        guard removed.contains(id) else { return false }
        nodes[id] = nil
        return true
    }

    mutating func apply(_ entry: Entry, on node: inout SimNode) throws {
        guard entry.index == node.applied + 1 else {
            throw fail("node \(node.raft.id) applied \(entry.index) after \(node.applied)")
        }
        // State machine safety: every node applies the same entry at each index.
        if let known = committedLog[entry.index] {
            if known != entry {
                throw fail("node \(node.raft.id) applied \(entry) at \(entry.index) but \(known) was committed there")
            }
        } else {
            committedLog[entry.index] = entry
        }
        node.applied = entry.index
        switch entry.kind {
        case .normal where !entry.data.isEmpty:
            guard let value = decodeValue(entry.data) else { throw fail("undecodable payload") }
            node.values.append(value)
            if let proposal = pending[value], proposal.node == node.raft.id {
                pending[value] = nil
                if proposal.index == entry.index {
                    acked.append(value)
                    ackedIndex[value] = entry.index
                    highestAckedIndex = max(highestAckedIndex, entry.index)
                }
            }
        case .configChange:
            if let change = try? ConfChange(decoding: entry.data), change.kind == .removeNode {
                removed.insert(change.node)
                crashed[change.node] = nil
            }
        default:
            break
        }
        // A proposal whose slot was taken by another entry is lost, not acknowledged.
        for (value, proposal) in pending where proposal.node == node.raft.id && proposal.index == entry.index
            && entry.data != encode(value) {
            pending[value] = nil
        }
    }

    mutating func send(_ message: Message) {
        if message.kind == .voteResponse && !message.reject {
            votesGiven[message.from, default: [:]][message.term] = message.to
        }
        if cutLinks[[message.from, message.to]] != nil || (!healing && chance(profile.dropRate)) { return }
        var delivered = message
        if random.next() % 10 == 0 {
            // Exercise the wire codec on live traffic.
            delivered = (try? Message(decoding: message.encode())) ?? message
        }
        let delay = profile.maxDelay == 0 ? 0 : Int(random.next() % UInt64(profile.maxDelay + 1))
        network.append(InFlight(deliverAt: now + delay, message: delivered))
        if !healing && chance(profile.duplicateRate) {
            network.append(InFlight(deliverAt: now + Int(random.next() % 3), message: delivered))
        }
    }

    /// Delivers due messages in a random order (reordering), the rest wait.
    mutating func deliver(final: Bool) {
        var due: [Message] = []
        var later: [InFlight] = []
        for flight in network {
            if flight.deliverAt <= now && paused[flight.message.to] == nil {
                due.append(flight.message)
            } else {
                later.append(flight)
            }
        }
        network = later
        for i in stride(from: due.count - 1, to: 0, by: -1) {
            let j = Int(random.next() % UInt64(i + 1))
            due.swapAt(i, j)
        }
        for message in due {
            if now > 1095 && seedTrace { print("t\(now) deliver \(message.kind) \(message.from)->\(message.to) term \(message.term) idx \(message.index) commit \(message.commit) n\(message.entries.count) rej \(message.reject) cut \(cutLinks[[message.from, message.to]] != nil) live \(nodes[message.to] != nil)") }
            guard nodes[message.to] != nil, cutLinks[[message.from, message.to]] == nil else { continue }
            nodes[message.to]!.raft.step(message)
        }
    }

    // MARK: - Checks

    /// Election safety and leader completeness, checked whenever a node is seen leading.
    mutating func observeRole(_ raft: RaftNode) throws {
        guard raft.role == .leader else { return }
        if let known = leaderOfTerm[raft.term] {
            if known != raft.id { throw fail("two leaders in term \(raft.term): \(known) and \(raft.id)") }
            return
        }
        leaderOfTerm[raft.term] = raft.id
        stats.elections += 1
        // Leader completeness: the new leader holds every entry committed so far.
        for (index, entry) in committedLog where index > raft.log.baseIndex {
            guard let term = raft.log.term(at: index), term == entry.term else {
                throw fail("leader \(raft.id) of term \(raft.term) lacks committed entry \(index)")
            }
        }
    }

    /// Log matching: if two logs hold an entry with the same index and term, they are identical
    /// up to that index (as far as both still hold entries).
    func checkLogMatching() throws {
        let live = nodes.values.map(\.raft).sorted { $0.id < $1.id }
        for (i, a) in live.enumerated() {
            for b in live[(i + 1)...] {
                let low = max(a.log.firstIndex, b.log.firstIndex)
                var high = min(a.log.lastIndex, b.log.lastIndex)
                while high >= low && a.log.term(at: high) != b.log.term(at: high) { high -= 1 }
                guard high >= low else { continue }
                if a.log.slice(low, high) != b.log.slice(low, high) {
                    throw fail("logs of \(a.id) and \(b.id) agree at \(high) but differ before it")
                }
            }
        }
    }

    /// After healing: every member applied every acknowledged value, in the committed order.
    func checkFinalState() throws {
        let expected = (1...(committedLog.keys.max() ?? 0)).compactMap { committedLog[$0] }
            .filter { $0.kind == .normal && !$0.data.isEmpty }.compactMap { decodeValue($0.data) }
        for id in members().sorted() {
            guard let node = nodes[id] else { throw fail("member \(id) is not running at the end") }
            if !expected.starts(with: node.values) {
                throw fail("node \(id) state machine diverges from the committed sequence")
            }
            let have = Set(node.values)
            if let missing = acked.first(where: { !have.contains($0) }) {
                throw fail("node \(id) never applied acknowledged value \(missing) at \(ackedIndex[missing] ?? 0); node applied \(node.applied) values \(node.values.suffix(8)) expected \(expected.suffix(8))")
            }
        }
        if acked.isEmpty { throw fail("nothing was acknowledged") }
    }
}

// MARK: - Payloads

func encode(_ value: UInt64) -> [UInt8] {
    var writer = ByteWriter(capacity: 10)
    writer.writeVarint(value)
    return writer.bytes
}

func decodeValue(_ bytes: [UInt8]) -> UInt64? {
    var reader = ByteReader(bytes)
    return try? reader.readVarint()
}

func encodeValues(_ values: [UInt64]) -> [UInt8] {
    var writer = ByteWriter(capacity: values.count * 2)
    for value in values { writer.writeVarint(value) }
    return writer.bytes
}

func decodeValues(_ bytes: [UInt8]) -> [UInt64] {
    var reader = ByteReader(bytes)
    var values: [UInt64] = []
    while reader.remaining > 0, let value = try? reader.readVarint() { values.append(value) }
    return values
}
