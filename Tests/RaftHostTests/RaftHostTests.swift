#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import Raft
import RaftStorage
import ShoalAPI
import Testing
@testable import RaftHost

/// Three hosts in one process, each with a real WAL on disk, wired to each
/// other by direct calls instead of the network, with a 20 ms tick.
@Suite(.serialized) struct RaftHostTests {
    final class Journal: ReplicatedStateMachine, @unchecked Sendable {
        private let lock = NIOLock()
        private var commands: [[UInt8]] = []
        var applied: [[UInt8]] { lock.withLock { commands } }

        func apply(_ command: [UInt8], at index: UInt64) -> [UInt8] {
            lock.withLock { commands.append(command) }
            return Array("ok \(index)".utf8)
        }
        func snapshot() -> [UInt8] { lock.withLock { commands.flatMap { [UInt8(truncatingIfNeeded: $0.count)] + $0 } } }
        func restore(from snapshot: [UInt8]) throws {
            var restored: [[UInt8]] = []
            var position = 0
            while position < snapshot.count {
                let length = Int(snapshot[position])
                restored.append(Array(snapshot[position + 1..<position + 1 + length]))
                position += 1 + length
            }
            lock.withLock { commands = restored }
        }
    }

    final class Cluster: @unchecked Sendable {
        let folder: String
        let lock = NIOLock()
        var hosts: [NodeID: RaftHost] = [:]
        var journals: [NodeID: Journal] = [:]
        let ids: [NodeID] = [1, 2, 3]
        /// When set, messages travel as `RaftWire` payloads of at most this many bytes, as over the transport.
        let payloadLimit: Int?
        let snapshotInterval: UInt64
        var assemblers: [NodeID: RaftMessageAssembler] = [:]
        var largestPayload = 0
        var chunkedSnapshots = 0

        init(payloadLimit: Int? = nil, snapshotInterval: UInt64 = RaftHost.defaultSnapshotInterval) throws {
            self.payloadLimit = payloadLimit
            self.snapshotInterval = snapshotInterval
            var template = Array("/tmp/shoal-raft-host-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw RaftHost.Failure(reason: .stopped) }
            folder = String(cString: made)
        }

        func start(_ id: NodeID) throws {
            let (wal, recovered) = try WAL.open(directory: "\(folder)/\(id)", fileSystem: PosixFileSystem())
            let config = RaftConfig(id: id)
            let node = recovered == RecoveredState()
                ? RaftNode.bootstrap(config: config, voters: ids)
                : RaftNode(config: config, recovered: recovered)
            let journal = Journal()
            let host = try RaftHost(node: node, wal: wal, recoveredSnapshot: recovered.snapshot, stateMachine: journal, tickMilliseconds: 20,
                                snapshotInterval: snapshotInterval, maximumProposalBytes: 4096,
                                logger: Logger(label: "raft-host-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                send: { [weak self] messages in
                                    guard let self else { return }
                                    for message in messages { self.deliver(message) }
                                },
                                onStorageFailure: { _ in })
            lock.withLock {
                hosts[id] = host
                journals[id] = journal
            }
            host.start()
        }

        private func deliver(_ message: Message) {
            guard let receiver = lock.withLock({ hosts[message.to] }) else { return }
            guard let payloadLimit else { return receiver.receive(message) }
            let payloads = RaftWire.payloads(for: message, maximumPayloadBytes: payloadLimit, messageID: .random(in: 1...UInt64.max))
            if message.kind == .installSnapshot && payloads.count > 1 { lock.withLock { chunkedSnapshots += 1 } }
            for payload in payloads {
                switch payload {
                case .whole(let bytes):
                    lock.withLock { largestPayload = max(largestPayload, bytes.count) }
                    if let decoded = try? Message(decoding: bytes) { receiver.receive(decoded) }
                case .chunk(let bytes):
                    let leader = receiver.currentStatus.leader
                    let whole: [UInt8]? = lock.withLock {
                        largestPayload = max(largestPayload, bytes.count)
                        var assembler = assemblers[message.to] ?? RaftMessageAssembler(maximumMessageBytes: 1 << 20, timeout: .seconds(5))
                        defer { assemblers[message.to] = assembler }
                        return assembler.add(bytes, from: message.from, leader: leader, now: .now)
                    }
                    if let whole, let decoded = try? Message(decoding: whole) { receiver.receive(decoded) }
                }
            }
        }

        func stop(_ id: NodeID) {
            lock.withLock { hosts.removeValue(forKey: id) }?.stop()
        }

        func leader(timeout: Duration = .seconds(10)) async throws -> RaftHost {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            while clock.now < deadline {
                if let leader = lock.withLock({ hosts.values.first { $0.currentStatus.isLeader } }) { return leader }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw RaftHost.Failure(reason: .notLeader(leader: 0))
        }

        /// Proposes through whoever leads, retrying across leader changes as a client would.
        func propose(_ command: [UInt8]) async throws -> [UInt8] {
            var lastError: RaftHost.Failure?
            for _ in 0..<50 {
                do {
                    return try await leader().propose(command)
                } catch let failure as RaftHost.Failure {
                    lastError = failure
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            throw lastError ?? RaftHost.Failure(reason: .stopped)
        }

        func shutdown() {
            for id in ids { stop(id) }
            FileSystem.removeTree(folder)
        }
    }

    /// Followers apply a moment after the leader answers: a busy machine stretches that moment.
    private func waitUntilEveryMemberApplied(_ entries: [[UInt8]], in cluster: Cluster) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while cluster.ids.contains(where: { cluster.journals[$0]?.applied != entries }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func proposalsAreAppliedEverywhereInOrder() async throws {
        let cluster = try Cluster()
        defer { cluster.shutdown() }
        for id in cluster.ids { try cluster.start(id) }
        var answers: [[UInt8]] = []
        for i in 0..<20 { answers.append(try await cluster.propose([UInt8(i)])) }
        #expect(answers.allSatisfy { String(decoding: $0, as: UTF8.self).hasPrefix("ok ") })
        try await waitUntilEveryMemberApplied((0..<20).map { [UInt8($0)] }, in: cluster)
        for id in cluster.ids {
            #expect(cluster.journals[id]?.applied == (0..<20).map { [UInt8($0)] })
        }
        // What /metrics reports: every member's indexes and term; the leader counted the 20 proposals.
        let leader = try await cluster.leader()
        let statistics = leader.currentStatus.statistics
        #expect(statistics.proposals == 20 && statistics.refusedProposals == 0)
        #expect(statistics.syncLatency.count >= 20 && statistics.syncLatency.sum > 0)
        for host in cluster.hosts.values {
            let status = host.currentStatus
            #expect(status.term >= 1 && status.commitIndex >= 20 && status.appliedIndex >= 20)
        }
    }

    @Test func aReadBarrierOnAFollowerWaitsForWhatTheLeaderCommitted() async throws {
        let cluster = try Cluster()
        defer { cluster.shutdown() }
        for id in cluster.ids { try cluster.start(id) }
        for i in 0..<5 { _ = try await cluster.propose([UInt8(i)]) }
        let leader = try await cluster.leader()
        let follower = try #require(cluster.hosts.values.first { $0.id != leader.id })
        try await follower.readBarrier()
        #expect((cluster.journals[follower.id]?.applied.count ?? 0) >= 5)
    }

    @Test func aFollowerRefusesProposalsNamingTheLeader() async throws {
        let cluster = try Cluster()
        defer { cluster.shutdown() }
        for id in cluster.ids { try cluster.start(id) }
        let leader = try await cluster.leader()
        let follower = try #require(cluster.hosts.values.first { $0.id != leader.id })
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: RaftHost.Failure(reason: .notLeader(leader: leader.id))) { try await follower.propose([1]) }
        // The status is published once the host's round ends, just after the refusal is answered.
        let deadline = ContinuousClock.now + .seconds(2)
        while follower.currentStatus.statistics.refusedProposals == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(follower.currentStatus.statistics.refusedProposals == 1)
    }

    @Test func aNewLeaderTakesOverAndARestartedNodeCatchesUpFromItsWAL() async throws {
        let cluster = try Cluster()
        defer { cluster.shutdown() }
        for id in cluster.ids { try cluster.start(id) }
        _ = try await cluster.propose([1])
        let first = try await cluster.leader()
        cluster.stop(first.id)
        _ = try await cluster.propose([2])
        let second = try await cluster.leader()
        #expect(second.id != first.id)
        try cluster.start(first.id)  // from its WAL: it still has [1] and learns [2]
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while cluster.journals[first.id]?.applied != [[1], [2]], clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(cluster.journals[first.id]?.applied == [[1], [2]])
    }

    @Test func anOversizedProposalIsRefusedUpFrontAndTheLogStaysUsable() async throws {
        let cluster = try Cluster()
        defer { cluster.shutdown() }
        for id in cluster.ids { try cluster.start(id) }
        _ = try await cluster.propose([1])
        let leader = try await cluster.leader()
        await #expect(throws: RaftHost.Failure(reason: .tooLarge(bytes: 5016, limit: 4096))) {
            try await leader.propose([UInt8](repeating: 9, count: 5000))
        }
        #expect(String(decoding: try await cluster.propose([2]), as: UTF8.self).hasPrefix("ok "))
        try await waitUntilEveryMemberApplied([[1], [2]], in: cluster)
        for id in cluster.ids { #expect(cluster.journals[id]?.applied == [[1], [2]]) }
    }

    @Test func aSnapshotLargerThanAFrameReachesANewFollowerInChunks() async throws {
        let payloadLimit = 1024
        let cluster = try Cluster(payloadLimit: payloadLimit, snapshotInterval: 10)
        defer { cluster.shutdown() }
        try cluster.start(1)
        try cluster.start(2)
        let commands = (0..<40).map { [UInt8](repeating: UInt8($0), count: 200) }  // 8 KB of state
        for command in commands { _ = try await cluster.propose(command) }
        try cluster.start(3)  // its log starts where the others' was compacted away: only a snapshot helps
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while cluster.lock.withLock({ cluster.journals[3] })?.applied != commands, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(cluster.journals[3]?.applied == commands)
        #expect(cluster.lock.withLock { cluster.chunkedSnapshots } >= 1, "the snapshot travelled in pieces")
        #expect(cluster.lock.withLock { cluster.largestPayload } <= payloadLimit)
    }
}

@Suite struct RaftMessageAssemblerTests {
    private let start = ContinuousClock.now
    private var snapshotMessage: Message {
        var message = Message(kind: .installSnapshot, from: 1, to: 2, term: 3)
        message.snapshot = Snapshot(metadata: SnapshotMetadata(index: 9, term: 3, conf: ConfState(voters: [1, 2])),
                                    data: (0..<5000).map { UInt8(truncatingIfNeeded: $0) })
        return message
    }

    private func chunks(_ message: Message, id: UInt64 = 7) -> [[UInt8]] {
        RaftWire.payloads(for: message, maximumPayloadBytes: 1000, messageID: id).compactMap {
            if case .chunk(let bytes) = $0 { bytes } else { nil }
        }
    }

    @Test func aSmallMessageTravelsWhole() {
        #expect(RaftWire.payloads(for: Message(kind: .heartbeat, from: 1, to: 2, term: 1), maximumPayloadBytes: 1000, messageID: 1)
            == [.whole(Message(kind: .heartbeat, from: 1, to: 2, term: 1).encode())])
    }

    @Test func chunksInOrderFromTheLeaderMakeTheMessageAgain() throws {
        var assembler = RaftMessageAssembler(maximumMessageBytes: 1 << 20, timeout: .seconds(5))
        let pieces = chunks(snapshotMessage)
        #expect(pieces.count == 6)
        #expect(pieces.allSatisfy { $0.count <= 1000 })
        var whole: [UInt8]?
        for piece in pieces { whole = assembler.add(piece, from: 1, leader: 1, now: start) }
        #expect(try Message(decoding: try #require(whole)) == snapshotMessage)
        #expect(!assembler.isAssembling)
    }

    @Test func chunksFromAPeerThatDoesNotLeadAreDropped() {
        var assembler = RaftMessageAssembler(maximumMessageBytes: 1 << 20, timeout: .seconds(5))
        for piece in chunks(snapshotMessage) { #expect(assembler.add(piece, from: 1, leader: 2, now: start) == nil) }
        for piece in chunks(snapshotMessage) { #expect(assembler.add(piece, from: 1, leader: 0, now: start) == nil) }
        #expect(!assembler.isAssembling)
    }

    @Test func aMessageOverTheCapIsNeverHeld() {
        var assembler = RaftMessageAssembler(maximumMessageBytes: 4000, timeout: .seconds(5))
        for piece in chunks(snapshotMessage) { #expect(assembler.add(piece, from: 1, leader: 1, now: start) == nil) }
        #expect(!assembler.isAssembling)
    }

    @Test func aMissingOrForgedChunkDropsTheMessage() {
        var assembler = RaftMessageAssembler(maximumMessageBytes: 1 << 20, timeout: .seconds(5))
        var pieces = chunks(snapshotMessage)
        pieces.remove(at: 2)
        for piece in pieces { #expect(assembler.add(piece, from: 1, leader: 1, now: start) == nil) }
        #expect(!assembler.isAssembling)
        // An offset near UInt64.max must not overflow.
        var forged = chunks(snapshotMessage)[1]
        for index in 16..<24 { forged[index] = 0xFF }
        #expect(assembler.add(forged, from: 1, leader: 1, now: start) == nil)
        #expect(assembler.add([1, 2, 3], from: 1, leader: 1, now: start) == nil)
    }

    @Test func anIncompleteMessageIsDroppedAfterTheTimeout() {
        var assembler = RaftMessageAssembler(maximumMessageBytes: 1 << 20, timeout: .seconds(5))
        let pieces = chunks(snapshotMessage)
        _ = assembler.add(pieces[0], from: 1, leader: 1, now: start)
        assembler.discardIfStale(now: start + .seconds(4))
        #expect(assembler.isAssembling)
        assembler.discardIfStale(now: start + .seconds(6))
        #expect(!assembler.isAssembling)
        #expect(assembler.add(pieces[1], from: 1, leader: 1, now: start + .seconds(6)) == nil, "its rest is no use")
        // The leader sends it again, from the start: it goes through.
        var whole: [UInt8]?
        for piece in chunks(snapshotMessage, id: 8) { whole = assembler.add(piece, from: 1, leader: 1, now: start + .seconds(7)) }
        #expect(whole == snapshotMessage.encode())
    }
}
