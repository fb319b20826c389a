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

        init() throws {
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
                                logger: Logger(label: "raft-host-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                send: { [weak self] messages in
                                    guard let self else { return }
                                    for message in messages { self.lock.withLock { self.hosts[message.to] }?.receive(message) }
                                },
                                onStorageFailure: { _ in })
            lock.withLock {
                hosts[id] = host
                journals[id] = journal
            }
            host.start()
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

    @Test func proposalsAreAppliedEverywhereInOrder() async throws {
        let cluster = try Cluster()
        defer { cluster.shutdown() }
        for id in cluster.ids { try cluster.start(id) }
        var answers: [[UInt8]] = []
        for i in 0..<20 { answers.append(try await cluster.propose([UInt8(i)])) }
        #expect(answers.allSatisfy { String(decoding: $0, as: UTF8.self).hasPrefix("ok ") })
        try await Task.sleep(for: .milliseconds(200))
        for id in cluster.ids {
            #expect(cluster.journals[id]?.applied == (0..<20).map { [UInt8($0)] })
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
}
