import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Raft
import RaftStorage

/// Runs one `RaftNode` against a real clock, disk and network, on a thread
/// of its own, following the node's contract: persist (fsync), then send,
/// then apply, then advance.
///
/// Everything that reaches the node — peer messages, proposals, ticks — is
/// queued and taken in batches, so many proposals arriving during one fsync
/// share the next one. A failed write or fsync stops the host for good
/// (`onStorageFailure`): it never goes on as if the data had been persisted.
public final class RaftHost: Sendable {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public enum Reason: Equatable, Sendable {
            case notLeader(leader: NodeID), stopped, rejected(String)
            /// The command could not be replicated in one frame: it was never appended.
            case tooLarge(bytes: Int, limit: Int)
        }
        public var reason: Reason
        public var description: String {
            switch reason {
            case .notLeader(let leader): leader == 0 ? "no leader elected yet" : "not the leader; the leader is \(leader)"
            case .stopped: "the consensus host has stopped"
            case .rejected(let why): why
            case .tooLarge(let bytes, let limit):
                "the write is \(bytes) bytes, over the \(limit) bytes one replicated entry may hold: make it smaller or split it"
            }
        }
    }

    /// What the node said about itself after its last `Ready`.
    public struct Status: Sendable, Equatable {
        public var leader: NodeID
        public var isLeader: Bool
        public var appliedIndex: UInt64
        public var commitIndex: UInt64 = 0
        public var term: UInt64 = 0
        /// On the leader: how far each member has replicated, and whether it
        /// was heard from within the last election timeout.
        public var peers: [NodeID: Peer] = [:]
        public var statistics = Statistics()

        public init(leader: NodeID, isLeader: Bool, appliedIndex: UInt64, commitIndex: UInt64 = 0, term: UInt64 = 0,
                    statistics: Statistics = Statistics()) {
            self.leader = leader
            self.isLeader = isLeader
            self.appliedIndex = appliedIndex
            self.commitIndex = commitIndex
            self.term = term
            self.statistics = statistics
        }
    }

    /// What the host counted since it started, for `/metrics`.
    public struct Statistics: Sendable, Equatable {
        /// Proposals this node put in its log as leader, and those it refused (not the leader, or invalid).
        public var proposals: UInt64 = 0
        public var refusedProposals: UInt64 = 0
        /// Snapshots written: compactions and snapshots received from a leader.
        public var snapshots: UInt64 = 0
        /// How long each fsync'd write of the log took.
        public var syncLatency = Histogram.syncLatency()

        public init() {}
    }

    public struct Peer: Sendable, Equatable {
        public var match: UInt64
        public var isLearner: Bool
        public var recentlyActive: Bool
    }

    private typealias Completion = @Sendable (Result<[UInt8], Failure>) -> Void

    private struct Inbox {
        var messages: [Message] = []
        var lostPeers: [NodeID] = []
        var proposals: [(command: [UInt8], completion: Completion)] = []
        var confChanges: [(change: ConfChange, completion: Completion)] = []
        var reads: [Completion] = []
        var stopping = false
    }

    public let id: NodeID
    private let inbox = NIOLockedValueBox(Inbox())
    private let wakeUp = ConditionLock<Bool>(value: false)
    private let status: NIOLockedValueBox<Status>
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let core: NIOLockedValueBox<Core>

    /// Compaction: keep a snapshot every this many applied entries, by default.
    public static let defaultSnapshotInterval: UInt64 = 10_000
    /// Proposals above this many bytes are refused by default: an entry, and
    /// the append that carries it, must fit in a 16 MiB transport frame.
    public static let defaultMaximumProposalBytes = 8 << 20

    /// The largest command `propose` accepts.
    public let maximumProposalBytes: Int

    /// `recoveredSnapshot` is the snapshot storage recovered (if any): the
    /// state machine starts from it, then the node re-applies what follows.
    public init(node: RaftNode, wal: WAL, recoveredSnapshot: Snapshot?, stateMachine: any ReplicatedStateMachine & Sendable,
                tickMilliseconds: Int64 = 100, snapshotInterval: UInt64 = RaftHost.defaultSnapshotInterval,
                maximumProposalBytes: Int = RaftHost.defaultMaximumProposalBytes, logger: Logger,
                send: @escaping @Sendable ([Message]) -> Void,
                onStorageFailure: @escaping @Sendable (Error) -> Void) throws {
        if let recoveredSnapshot { try stateMachine.restore(from: recoveredSnapshot.data) }
        id = node.id
        self.maximumProposalBytes = maximumProposalBytes
        status = NIOLockedValueBox(Status(leader: 0, isLeader: false, appliedIndex: node.appliedIndex))
        core = NIOLockedValueBox(Core(node: node, wal: wal, stateMachine: stateMachine,
                                      tickNanoseconds: UInt64(tickMilliseconds) * 1_000_000,
                                      snapshotInterval: max(1, snapshotInterval), logger: logger,
                                      send: send, onStorageFailure: onStorageFailure,
                                      snapshotIndex: recoveredSnapshot?.metadata.index ?? 0))
    }

    public func start() {
        thread.start()
        thread.submit { [self] _ in self.run() }
    }

    /// Stops the loop; pending proposals fail with `.stopped`.
    public func stop() {
        inbox.withLockedValue { $0.stopping = true }
        signal()
        try? thread.syncShutdownGracefully()
    }

    public var currentStatus: Status { status.withLockedValue { $0 } }

    /// Hands a peer's message to the node.
    public func receive(_ message: Message) {
        inbox.withLockedValue { $0.messages.append(message) }
        signal()
    }

    /// The transport saw the connection with `peer` end. If it was the leader,
    /// this follower campaigns within a tick instead of an election timeout.
    public func peerDisconnected(_ peer: NodeID) {
        inbox.withLockedValue { $0.lostPeers.append(peer) }
        signal()
    }

    /// Replicates `command` and returns the state machine's answer once it
    /// was applied here. Fails at once when this node is not the leader, or
    /// when the command is larger than `maximumProposalBytes`.
    public func propose(_ command: [UInt8]) async throws(Failure) -> [UInt8] {
        let bytes = command.count + ProposalID.encodedBytes
        guard bytes <= maximumProposalBytes else {
            throw Failure(reason: .tooLarge(bytes: bytes, limit: maximumProposalBytes))
        }
        let result: Result<[UInt8], Failure> = await withCheckedContinuation { continuation in
            let accepted = inbox.withLockedValue { inbox in
                guard !inbox.stopping else { return false }
                inbox.proposals.append((command, { continuation.resume(returning: $0) }))
                return true
            }
            if accepted { signal() } else { continuation.resume(returning: .failure(Failure(reason: .stopped))) }
        }
        return try result.get()
    }

    /// Returns once this node has applied everything committed when the call
    /// was made, as confirmed by the leader with a quorum (ReadIndex): a read
    /// of the state machine after it is linearizable. Fails without a leader.
    public func readBarrier() async throws(Failure) {
        let result: Result<[UInt8], Failure> = await withCheckedContinuation { continuation in
            let accepted = inbox.withLockedValue { inbox in
                guard !inbox.stopping else { return false }
                inbox.reads.append({ continuation.resume(returning: $0) })
                return true
            }
            if accepted { signal() } else { continuation.resume(returning: .failure(Failure(reason: .stopped))) }
        }
        _ = try result.get()
    }

    /// Proposes a membership change; returns once it is applied here.
    public func proposeConfChange(_ change: ConfChange) async throws(Failure) {
        let result: Result<[UInt8], Failure> = await withCheckedContinuation { continuation in
            let accepted = inbox.withLockedValue { inbox in
                guard !inbox.stopping else { return false }
                inbox.confChanges.append((change, { continuation.resume(returning: $0) }))
                return true
            }
            if accepted { signal() } else { continuation.resume(returning: .failure(Failure(reason: .stopped))) }
        }
        _ = try result.get()
    }

    private func signal() {
        wakeUp.lock()
        wakeUp.unlock(withValue: true)
    }

    private func run() {
        var nextTick = NIODeadline.now().uptimeNanoseconds + core.withLockedValue { $0.tickNanoseconds }
        while true {
            let now = NIODeadline.now().uptimeNanoseconds
            let wakeAt = min(nextTick, core.withLockedValue { $0.campaignAt } ?? .max)
            if now < wakeAt, wakeUp.lock(whenValue: true, timeoutSeconds: Double(wakeAt - now) / 1e9) {
                wakeUp.unlock(withValue: false)
            }
            let work = inbox.withLockedValue { inbox in
                defer { inbox.messages = []; inbox.proposals = []; inbox.lostPeers = []; inbox.confChanges = []; inbox.reads = [] }
                return inbox
            }
            let keepGoing = core.withLockedValue { core in
                if work.stopping {
                    core.failAll(Failure(reason: .stopped))
                    for proposal in work.proposals { proposal.completion(.failure(Failure(reason: .stopped))) }
                    for change in work.confChanges { change.completion(.failure(Failure(reason: .stopped))) }
                    for read in work.reads { read(.failure(Failure(reason: .stopped))) }
                    return false
                }
                let tickDue = NIODeadline.now().uptimeNanoseconds >= nextTick
                if tickDue { nextTick += core.tickNanoseconds }
                return core.process(work.messages, work.proposals, confChanges: work.confChanges, reads: work.reads,
                                    lostPeers: work.lostPeers, tick: tickDue)
            }
            status.withLockedValue { $0 = core.withLockedValue { $0.status } }
            if !keepGoing { return }
        }
    }
}

/// The node, its storage and its application, touched only by the host
/// thread (under `RaftHost.core`'s lock): that confinement is why the
/// non-Sendable `WAL` class may live here.
private struct Core: @unchecked Sendable {
    var node: RaftNode
    let wal: WAL
    let stateMachine: any ReplicatedStateMachine & Sendable
    let tickNanoseconds: UInt64
    let snapshotInterval: UInt64
    let logger: Logger
    let send: @Sendable ([Message]) -> Void
    let onStorageFailure: @Sendable (Error) -> Void
    var pending: [ProposalID: @Sendable (Result<[UInt8], RaftHost.Failure>) -> Void] = [:]
    /// Reads waiting for the leader's confirmation (index nil) or for this node to apply up to it.
    var pendingReads: [ProposalID: (index: UInt64?, completion: @Sendable (Result<[UInt8], RaftHost.Failure>) -> Void)] = [:]
    var random = SystemRandomNumberGenerator()
    var failed = false
    var snapshotIndex: UInt64 = 0
    var leader: NodeID = 0
    /// When to campaign after losing the leader's connection (monotonic ns).
    var campaignAt: UInt64?

    var statistics = RaftHost.Statistics()

    var status: RaftHost.Status {
        let full = node.status
        var status = RaftHost.Status(leader: leader, isLeader: leader == node.id, appliedIndex: node.appliedIndex,
                                     commitIndex: full.commit, term: full.term, statistics: statistics)
        if status.isLeader {
            status.peers = full.progress.mapValues {
                RaftHost.Peer(match: $0.match, isLearner: $0.isLearner, recentlyActive: $0.recentActive)
            }
        }
        return status
    }

    mutating func failAll(_ failure: RaftHost.Failure) {
        for completion in pending.values { completion(.failure(failure)) }
        for read in pendingReads.values { read.completion(.failure(failure)) }
        pending = [:]
        pendingReads = [:]
    }

    /// One round: step everything in, then drain `Ready`s. False once storage failed.
    mutating func process(_ messages: [Message],
                          _ proposals: [(command: [UInt8], completion: @Sendable (Result<[UInt8], RaftHost.Failure>) -> Void)],
                          confChanges: [(change: ConfChange, completion: @Sendable (Result<[UInt8], RaftHost.Failure>) -> Void)],
                          reads: [@Sendable (Result<[UInt8], RaftHost.Failure>) -> Void],
                          lostPeers: [NodeID], tick: Bool) -> Bool {
        guard !failed else {
            for read in reads { read(.failure(RaftHost.Failure(reason: .stopped))) }
            for proposal in proposals { proposal.completion(.failure(RaftHost.Failure(reason: .stopped))) }
            for change in confChanges { change.completion(.failure(RaftHost.Failure(reason: .stopped))) }
            return false
        }
        if tick { node.tick() }
        for message in messages { node.step(message) }
        let now = NIODeadline.now().uptimeNanoseconds
        for peer in lostPeers where node.reportLeaderUnreachable(peer) {
            // A random point within the next tick, so two followers rarely collide.
            campaignAt = now + UInt64.random(in: 0..<tickNanoseconds, using: &random)
        }
        if let due = campaignAt, now >= due {
            campaignAt = nil
            if node.isLeaderless { node.campaign() }
        }
        for proposal in proposals {
            let id = ProposalID(node: node.id, nonce: random.next())
            do {
                _ = try node.propose(id.encoded + proposal.command)
                pending[id] = proposal.completion
                statistics.proposals += 1
            } catch .notLeader(let leader) {
                statistics.refusedProposals += 1
                proposal.completion(.failure(RaftHost.Failure(reason: .notLeader(leader: leader))))
            } catch {
                statistics.refusedProposals += 1
                proposal.completion(.failure(RaftHost.Failure(reason: .rejected("\(error)"))))
            }
        }
        for var request in confChanges {
            let id = ProposalID(node: node.id, nonce: random.next())
            request.change.context = id.encoded + request.change.context
            do {
                _ = try node.proposeConfChange(request.change)
                pending[id] = request.completion
            } catch .notLeader(let leader) {
                request.completion(.failure(RaftHost.Failure(reason: .notLeader(leader: leader))))
            } catch {
                request.completion(.failure(RaftHost.Failure(reason: .rejected("\(error)"))))
            }
        }
        for read in reads {
            let id = ProposalID(node: node.id, nonce: random.next())
            do {
                try node.readIndex(context: id.encoded)
                pendingReads[id] = (index: nil, completion: read)
            } catch .notLeader(let leader) {
                read(.failure(RaftHost.Failure(reason: .notLeader(leader: leader))))
            } catch {
                read(.failure(RaftHost.Failure(reason: .rejected("\(error)"))))
            }
        }
        while node.hasReady {
            let ready = node.ready()
            do {
                if let snapshot = ready.snapshot {
                    try wal.saveSnapshot(snapshot)
                    statistics.snapshots += 1
                }
                let started = ContinuousClock.now
                if try wal.save(hardState: ready.hardState, entries: ready.entries) {
                    let elapsed = (ContinuousClock.now - started).components
                    statistics.syncLatency.observe(Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
                }
            } catch {
                logger.critical("cannot persist the raft log: \(error); stopping")
                failed = true
                failAll(RaftHost.Failure(reason: .stopped))
                onStorageFailure(error)
                return false
            }
            if !ready.messages.isEmpty { send(ready.messages) }
            if let snapshot = ready.snapshot {
                do {
                    try stateMachine.restore(from: snapshot.data)
                    snapshotIndex = snapshot.metadata.index
                } catch {
                    logger.critical("cannot restore a snapshot: \(error); stopping")
                    failed = true
                    onStorageFailure(error)
                    return false
                }
            }
            for entry in ready.committedEntries { apply(entry) }
            for state in ready.readStates {
                guard let (id, _) = ProposalID.split(state.context), pendingReads[id] != nil else { continue }
                pendingReads[id]?.index = state.index
            }
            if let soft = ready.softState {
                leader = soft.leader
                // Proposals made while leading may never commit now; their callers retry.
                if soft.role != .leader { failAll(RaftHost.Failure(reason: .notLeader(leader: soft.leader))) }
            }
            node.advance(ready)
        }
        completeReads()
        compactIfDue()
        return true
    }

    /// Answers the reads whose index this node has applied.
    private mutating func completeReads() {
        let applied = node.appliedIndex
        for (id, read) in pendingReads {
            guard let index = read.index, index <= applied else { continue }
            pendingReads[id] = nil
            read.completion(.success([]))
        }
    }

    private mutating func apply(_ entry: Entry) {
        switch entry.kind {
        case .normal:
            guard let (id, command) = ProposalID.split(entry.data) else { return }  // a leader's empty entry
            let answer = stateMachine.apply(command, at: entry.index)
            pending.removeValue(forKey: id)?(.success(answer))
        case .configChange:
            guard var change = try? ConfChange(decoding: entry.data) else { return }
            if let (id, context) = ProposalID.split(change.context) {
                change.context = context
                pending.removeValue(forKey: id)?(.success([]))
            }
            stateMachine.membershipChanged(change)
        }
    }

    private mutating func compactIfDue() {
        let applied = node.appliedIndex
        guard applied >= snapshotIndex + snapshotInterval else { return }
        do {
            let snapshot = try node.compact(snapshotData: stateMachine.snapshot())
            try wal.saveSnapshot(snapshot)
            try wal.compact()
            snapshotIndex = snapshot.metadata.index
            statistics.snapshots += 1
        } catch {
            logger.warning("cannot compact the raft log: \(error)")
        }
    }
}

/// Marks a proposal so the proposer recognises it when it is applied: the
/// proposing node and a random nonce, 16 bytes in front of the command.
struct ProposalID: Hashable {
    static let encodedBytes = 16

    var node: NodeID
    var nonce: UInt64

    var encoded: [UInt8] { withUnsafeBytes(of: node.bigEndian, Array.init) + withUnsafeBytes(of: nonce.bigEndian, Array.init) }

    static func split(_ data: [UInt8]) -> (ProposalID, [UInt8])? {
        guard data.count >= 16 else { return nil }
        func word(_ offset: Int) -> UInt64 { data[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        return (ProposalID(node: word(0), nonce: word(8)), Array(data[16...]))
    }
}
