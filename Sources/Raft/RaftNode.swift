/// # RaftNode — the consensus core, with no I/O
///
/// `RaftNode` is a deterministic state machine in the style of etcd's raft. It never touches a
/// disk, a socket, a clock, a thread or a global random source: time passes when the caller
/// calls `tick()`, peer input arrives through `step(_:)`, local requests through `propose`,
/// `proposeConfChange`, `transferLeadership` and `readIndex`, randomness comes from the
/// injected `RandomSource`, and all output is collected in a `Ready` value.
///
/// ## The caller's contract
///
/// 1. **Drive time.** Call `tick()` every tick (100 ms by default). A follower campaigns after
///    a random 10–19 silent ticks; a leader heartbeats every tick.
/// 2. **Deliver messages.** Pass every message addressed to this node to `step(_:)`. Messages
///    may be lost, duplicated, delayed or reordered. Stale, misaddressed or malformed messages
///    are dropped; nothing a peer sends can make the node trap.
/// 3. **Handle `Ready`, in this order,** whenever `hasReady` is true:
///    1. **Persist** — `ready.snapshot` (if any), then `ready.entries`, then `ready.hardState`,
///       durably (fsync). An entry at index *i* replaces every stored entry from *i* on.
///    2. **Then send** `ready.messages`. A vote or an append acknowledgement is a promise about
///       durable state: sending before the fsync returned can elect two leaders in one term
///       or lose acknowledged writes.
///    3. **Then apply** — restore the state machine from `ready.snapshot` (if any), then apply
///       `ready.committedEntries` in order, and serve `ready.readStates` once the applied index
///       reaches their `index`.
///    4. **Then call `advance(ready)`**. Between `ready()` and `advance(ready)` the node must not
///       be stepped, ticked or asked anything; before `ready()` any number of calls may pile up.
///
///    If persisting fails (a write or fsync throws), the process must stop and restart from
///    what is on disk: it must never send, apply or advance as if the data were persisted.
/// 4. **Restart** with `RaftNode(config:recovered:)` from what storage recovered (last hard
///    state, snapshot, entries). The application restores its state machine from the snapshot
///    and re-applies the committed entries that the node hands out again.
/// 5. **Compact** when the log grows: right after `advance`, `compact(snapshotData:)` with the
///    state machine's contents at `appliedIndex` returns a snapshot to persist; followers
///    behind the compacted log are then sent it.
/// 6. **Read linearizably** with `readIndex(context:)`; see `ReadState`.
///
/// A new cluster starts with `RaftNode.bootstrap(config:voters:)` on every initial member (the
/// same voter list everywhere). A node joining later starts empty with `RecoveredState()` and is
/// added by the leader with `proposeConfChange`; it learns the membership from the log.
///
/// ## Membership changes
///
/// One server at a time (add voter, add learner, promote learner, demote or remove). A change
/// **takes effect on each node when its entry is appended to that node's log**, committed or
/// not (Raft dissertation §4.1), and is undone if the entry is truncated away. The leader
/// accepts a new change only when no configuration entry is uncommitted *and* it has already
/// committed an entry of its own term (which fixes the known single-server-change bug). A
/// leader that removes or demotes itself keeps leading without counting itself until the
/// change commits, then hands off with `timeoutNow` to an up-to-date voter and steps down.
/// Configuration entries still appear in `committedEntries`, so the application can learn
/// addresses from `ConfChange.context`; it needs no call back into the node.
///
/// ## Safety features
///
/// Pre-vote, check-quorum with a leader lease, commit of current-term entries only (a new
/// leader appends an empty entry at once), pipelined replication with a cap on in-flight
/// messages and message size, conflict hints on rejections, leadership transfer, snapshots,
/// and ReadIndex reads confirmed by a heartbeat round.
public struct RaftNode: Sendable {
    /// Context marking a vote request caused by a leadership transfer: it overrides leases.
    static let transferContext: [UInt8] = Array("transfer".utf8)
    /// Terms and indexes at or above this are refused as garbage, so arithmetic cannot overflow.
    static let sanityLimit: UInt64 = 1 << 62

    /// This node's ID.
    public let id: NodeID
    let config: RaftConfig
    var random: any RandomSource

    var term: UInt64 = 0
    var vote: NodeID = 0
    var log: RaftLog
    var role: RaftRole = .follower
    var leader: NodeID = 0

    /// The membership in force (mirrors `log.conf`, kept as sets for speed).
    var voters: Set<NodeID> = []
    var learners: Set<NodeID> = []
    var progress: [NodeID: Progress] = [:]
    var votes: [NodeID: Bool] = [:]

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var leadTransferee: NodeID = 0
    var readOnly = ReadOnly()
    /// Read requests that arrived before this leader committed an entry of its own term.
    var readsAwaitingCommit: [(from: NodeID, context: [UInt8])] = []

    var messages: [Message] = []
    var readStates: [ReadState] = []
    var lastHardState: HardState
    var lastSoftState: SoftState

    /// Creates a node from recovered durable state (`RecoveredState()` for a brand-new node).
    /// Membership comes from the recovered snapshot and the configuration entries after it.
    public init(config: RaftConfig, recovered: RecoveredState, random: (any RandomSource)? = nil) {
        id = config.id
        self.config = config
        self.random = random ?? SplitMix64(seed: config.id)
        log = RaftLog(recovered: recovered)
        term = recovered.hardState.term
        vote = recovered.hardState.vote
        lastHardState = HardState(term: term, vote: vote, commit: log.committed)
        lastSoftState = SoftState(leader: 0, role: .follower)
        becomeFollower(term: term, leader: 0)
        syncMembership()
    }

    /// Creates a member of a brand-new cluster. Every initial member must call this with the
    /// same `voters`; the membership is written as committed configuration entries at term 1
    /// (to be persisted from the first `Ready`), so members added later learn it from the log.
    public static func bootstrap(config: RaftConfig, voters: [NodeID],
                                 random: (any RandomSource)? = nil) -> RaftNode {
        var node = RaftNode(config: config, recovered: RecoveredState(), random: random)
        let sorted = Array(Set(voters)).sorted()
        let entries = sorted.enumerated().map { offset, voter in
            Entry(term: 1, index: UInt64(offset + 1), kind: .configChange,
                  data: ConfChange(kind: .addVoter, node: voter).encode())
        }
        node.log.append(entries)
        node.log.advanceCommit(to: UInt64(entries.count))
        node.becomeFollower(term: 1, leader: 0)
        node.syncMembership()
        return node
    }

    // MARK: - Local requests

    /// Advances logical time by one tick: followers count towards an election, leaders
    /// heartbeat and check that a quorum is still reachable.
    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                campaign(transfer: false)
            }
        }
    }

    /// Tells a follower that its connection with `peer` ended (the transport saw the socket
    /// close). When `peer` is its leader, the leader has most likely died: the follower forgets
    /// it, so its lease no longer shields the leader from votes, and returns true — the caller
    /// then calls `campaign()` after a short random delay (sub-tick, so that two followers
    /// rarely collide) unless a leader has appeared meanwhile. Safety does not rest on this:
    /// pre-vote still needs a quorum, and voters that still hear a live leader refuse.
    public mutating func reportLeaderUnreachable(_ peer: NodeID) -> Bool {
        guard role == .follower, peer != 0, peer == leader, isPromotable else { return false }
        leader = 0
        electionElapsed = max(electionElapsed, config.electionTicks)
        randomizedElectionTimeout = max(randomizedElectionTimeout, electionElapsed + 1)
        return true
    }

    /// Whether this node follows no known leader and may start an election.
    public var isLeaderless: Bool { role == .follower && leader == 0 && isPromotable }

    /// Starts an election now (as if the election timeout had passed), with pre-vote if enabled.
    public mutating func campaign() {
        campaign(transfer: false)
    }

    /// Proposes application data. Throws unless this node is the leader and not transferring
    /// leadership. Returns the entry's index: it is committed when an entry with this index and
    /// the current term appears in `committedEntries` (a different term there means it was lost).
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(RaftError) -> UInt64 {
        try checkCanPropose()
        return appendEntries([Entry(term: term, index: 0, kind: .normal, data: data)])
    }

    /// Proposes a single-server membership change; see "Membership changes" above. Throws
    /// `.confChangePending` while an earlier change is uncommitted or this leader has not yet
    /// committed an entry of its term. Returns the entry's index.
    @discardableResult
    public mutating func proposeConfChange(_ change: ConfChange) throws(RaftError) -> UInt64 {
        try checkCanPropose()
        if log.lastConfIndex > log.committed || log.term(at: log.committed) != term {
            throw .confChangePending
        }
        try validate(change)
        return appendEntries([Entry(term: term, index: 0, kind: .configChange, data: change.encode())])
    }

    /// Starts handing leadership to `target`: once its log is caught up it is told to campaign
    /// at once (`timeoutNow`). Proposals are refused meanwhile; the transfer is abandoned after
    /// an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard target != id, voters.contains(target), let targetProgress = progress[target] else {
            throw .invalidRequest("transfer target \(target) is not another voter")
        }
        if leadTransferee == target { return }
        leadTransferee = target
        electionElapsed = 0
        if targetProgress.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            sendAppend(to: target)
        }
    }

    /// Requests a linearizable read (§8 of the Raft paper, "ReadIndex"). The answer is a
    /// `ReadState` with this `context` in a later `Ready`; `context` must be non-empty and unique
    /// among outstanding requests. The leader answers after a heartbeat round confirms it still
    /// leads. A request lost to a leader change never answers, so callers time out and retry.
    public mutating func readIndex(context: [UInt8]) throws(RaftError) {
        guard !context.isEmpty else { throw .invalidRequest("read context must not be empty") }
        if role == .leader {
            handleReadIndex(from: id, context: context)
        } else if leader != 0 {
            var request = Message(kind: .readIndex, from: id, to: leader, term: term)
            request.context = context
            send(request)
        } else {
            throw .notLeader(leader: 0)
        }
    }

    /// Captures the applied state as a snapshot and drops the log up to it, keeping the last
    /// `retaining` entries for slightly slow followers. Call right after `advance`, passing the
    /// state machine's contents at `appliedIndex`; persist the returned snapshot.
    public mutating func compact(snapshotData: [UInt8], retaining: UInt64 = 0) throws(RaftError) -> Snapshot {
        let index = log.applied
        guard index > (log.snapshot?.metadata.index ?? 0), log.pendingSnapshot == nil,
              let snapTerm = log.term(at: index) else {
            throw .compactionOutOfRange
        }
        let snap = Snapshot(
            metadata: SnapshotMetadata(index: index, term: snapTerm, conf: log.conf(at: index)),
            data: snapshotData)
        log.snapshot = snap
        if index > retaining {
            log.compact(through: index - retaining)
        }
        return snap
    }

    /// Tells the leader that sending a snapshot to `peer` failed (or finished) so it retries
    /// promptly instead of waiting for heartbeats to notice.
    public mutating func reportSnapshot(to peer: NodeID, failed: Bool) {
        guard role == .leader, var peerProgress = progress[peer], case .snapshot = peerProgress.state else { return }
        peerProgress.becomeProbe()
        progress[peer] = peerProgress
    }

    // MARK: - Observation

    /// The membership in force on this node.
    public var confState: ConfState { log.conf }

    /// The index of the last entry the application has applied (as reported through `advance`).
    public var appliedIndex: UInt64 { log.applied }

    /// Role, term, leader, indexes and (on the leader) per-peer progress.
    public var status: RaftStatus {
        var peers: [NodeID: PeerProgress] = [:]
        if role == .leader {
            for (peer, p) in progress {
                peers[peer] = PeerProgress(match: p.match, next: p.next, isLearner: learners.contains(peer),
                                           recentActive: p.recentActive)
            }
        }
        return RaftStatus(id: id, term: term, vote: vote, role: role, leader: leader, commit: log.committed,
                          applied: log.applied, lastIndex: log.lastIndex, conf: confState, progress: peers,
                          transferee: leadTransferee)
    }

    var isPromotable: Bool { voters.contains(id) }
    var quorum: Int { voters.count / 2 + 1 }
    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(leader: leader, role: role) }

    private func checkCanPropose() throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard progress[id] != nil else { throw .notMember }
        if leadTransferee != 0 { throw .transferInProgress }
    }

    /// Queues a message for the next `Ready`.
    mutating func send(_ message: Message) {
        messages.append(message)
    }

    mutating func resetRandomizedElectionTimeout() {
        randomizedElectionTimeout = random.next(in: config.electionTicks..<(2 * config.electionTicks))
    }
}
