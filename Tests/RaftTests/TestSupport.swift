@testable import Raft

/// Recovered state for a node of a cluster whose membership is `voters`/`learners` and whose
/// log is empty (a zero-index snapshot carrying only the membership), like etcd's test rafts.
func emptyState(voters: [NodeID], learners: [NodeID] = []) -> RecoveredState {
    let meta = SnapshotMetadata(index: 0, term: 0, conf: ConfState(voters: voters, learners: learners))
    return RecoveredState(snapshot: Snapshot(metadata: meta, data: []))
}

func makeNode(_ id: NodeID, voters: [NodeID], learners: [NodeID] = [], election: Int = 10,
              preVote: Bool = false, checkQuorum: Bool = false, maxInflight: Int = 256,
              maxBytes: Int = 1 << 20, recovered: RecoveredState? = nil) -> RaftNode {
    let config = RaftConfig(id: id, electionTicks: election, heartbeatTicks: 1,
                            maxInflightMessages: maxInflight, maxMessageBytes: maxBytes,
                            preVote: preVote, checkQuorum: checkQuorum)
    return RaftNode(config: config, recovered: recovered ?? emptyState(voters: voters, learners: learners),
                    random: SplitMix64(seed: id &* 7919))
}

func entry(_ term: UInt64, _ index: UInt64, _ data: String = "") -> Entry {
    Entry(term: term, index: index, data: Array(data.utf8))
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

extension RaftNode {
    /// Handles every pending Ready as a perfect caller would (persist, send, apply, advance)
    /// and returns the messages it would have sent.
    mutating func drain() -> [Message] {
        var sent: [Message] = []
        while hasReady {
            let rd = ready()
            sent += rd.messages
            advance(rd)
        }
        return sent
    }

    /// Like `drain`, but returns the committed entries and read states as well.
    mutating func drainAll() -> (messages: [Message], committed: [Entry], reads: [ReadState]) {
        var result: ([Message], [Entry], [ReadState]) = ([], [], [])
        while hasReady {
            let rd = ready()
            result.0 += rd.messages
            result.1 += rd.committedEntries
            result.2 += rd.readStates
            advance(rd)
        }
        return result
    }

    /// Ticks until the randomized election timeout fires (a campaign starts).
    mutating func fireElectionTimeout() {
        for _ in 0..<(2 * config.electionTicks) {
            let before = role
            tick()
            if role != before || (role == .leader) { return }
        }
    }

    /// Ticks a leader (or follower) `count` times.
    mutating func tick(_ count: Int) {
        for _ in 0..<count { tick() }
    }
}

/// A tiny synchronous network of nodes for scenario tests: messages are delivered at once
/// (breadth-first) unless a directed link is cut or a filter drops them.
struct TestNetwork {
    var nodes: [NodeID: RaftNode] = [:]
    var cut: Set<[NodeID]> = []
    var dropFilter: (@Sendable (Message) -> Bool)?
    var committed: [NodeID: [Entry]] = [:]
    var reads: [NodeID: [ReadState]] = [:]

    init(_ nodes: [RaftNode]) {
        for node in nodes { self.nodes[node.id] = node }
    }

    /// A cluster of `count` voters 1...count, all with empty logs.
    init(voters count: Int, preVote: Bool = false, checkQuorum: Bool = false) {
        let ids = (1...UInt64(count)).map { $0 }
        self.init(ids.map { makeNode($0, voters: ids, preVote: preVote, checkQuorum: checkQuorum) })
    }

    subscript(id: NodeID) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    mutating func isolate(_ id: NodeID) {
        for other in nodes.keys where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    mutating func heal() { cut = [] }

    /// Flushes `id`'s Ready and delivers everything until the network is quiet.
    mutating func flush(_ ids: [NodeID]? = nil) {
        var queue: [Message] = []
        for id in ids ?? nodes.keys.sorted() { queue += collect(id) }
        deliver(queue)
    }

    mutating func deliver(_ initial: [Message]) {
        var queue = initial
        var steps = 0
        while !queue.isEmpty && steps < 100_000 {
            steps += 1
            let message = queue.removeFirst()
            guard nodes[message.to] != nil, !cut.contains([message.from, message.to]),
                  !(dropFilter?(message) ?? false) else { continue }
            nodes[message.to]!.step(message)
            queue += collect(message.to)
        }
    }

    mutating func collect(_ id: NodeID) -> [Message] {
        guard var node = nodes[id] else { return [] }
        let out = node.drainAll()
        nodes[id] = node
        committed[id, default: []] += out.committed
        reads[id, default: []] += out.reads
        return out.messages
    }

    /// Makes `id` campaign (with its configured pre-vote) and runs the election to the end.
    mutating func campaign(_ id: NodeID) {
        nodes[id]!.campaign()
        flush([id])
    }

    mutating func propose(_ id: NodeID, _ data: String) throws(RaftError) {
        try nodes[id]!.propose(bytes(data))
        flush([id])
    }

    mutating func tickAll(_ count: Int = 1) {
        for _ in 0..<count {
            for id in nodes.keys.sorted() { nodes[id]!.tick() }
            flush()
        }
    }

    func leaders() -> [NodeID] {
        nodes.values.filter { $0.role == .leader }.map(\.id).sorted()
    }
}
