import Testing
@testable import Raft

/// Seeds to run, from the environment: RAFT_SEED=n replays one seed (with a log of what
/// happened), RAFT_SEEDS=n changes how many seeds the sweep runs (default 1,000), RAFT_TICKS=n
/// how many chaos ticks each runs (default 400), RAFT_TRACE=1 prints deliveries at the end.
enum SimulationSettings {
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    static var replaySeed: UInt64? { environment("RAFT_SEED").flatMap { UInt64($0) } }
    static var seedCount: Int { environment("RAFT_SEEDS").flatMap { Int($0) } ?? 1_000 }
    static let chunks = 8
    static var chaosTicks: Int { environment("RAFT_TICKS").flatMap { Int($0) } ?? 400 }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Cluster simulation")
struct SimulationTests {
    static func runSeed(_ seed: UInt64) -> SimulationFailure? {
        do {
            var simulator = try ClusterSimulator(seed: seed, chaosTicks: SimulationSettings.chaosTicks)
            try simulator.run()
            return nil
        } catch let failure as SimulationFailure {
            return failure
        } catch {
            return SimulationFailure(seed: seed, tick: -1, what: "unexpected error \(error)")
        }
    }

    /// Chunks run one at a time: each holds a thread of the cooperative pool
    /// until it ends, and the other suites' servers and clients need one too.
    @Test("safety and convergence hold across random seeds (drops, delays, duplicates, partitions, crashes, membership changes)",
          .serialized, arguments: 0..<SimulationSettings.chunks)
    func seedSweep(chunk: Int) {
        guard SimulationSettings.replaySeed == nil else { return }
        let count = SimulationSettings.seedCount
        var seed = chunk
        while seed < count {
            if let failure = Self.runSeed(UInt64(seed)) {
                Issue.record("\(failure)")
                return
            }
            seed += SimulationSettings.chunks
        }
    }

    @Test("replay one seed from RAFT_SEED")
    func replay() throws {
        guard let seed = SimulationSettings.replaySeed else { return }
        var simulator = try ClusterSimulator(seed: seed, chaosTicks: SimulationSettings.chaosTicks)
        print("seed \(seed): \(simulator.profile)")
        simulator.seedTrace = SimulationSettings.environment("RAFT_TRACE") != nil
        do {
            try simulator.run()
        } catch {
            Issue.record("\(error)")
        }
        print("seed \(seed): stats \(simulator.stats), acked \(simulator.acked.count), reads \(simulator.readsAnswered)")
    }

    @Test("the simulator exercises what it claims to (elections, crashes, membership, snapshots, reads)")
    func coverage() throws {
        var totals = (elections: 0, crashes: 0, mid: 0, conf: 0, snaps: 0, acked: 0, reads: 0)
        for seed in UInt64(0)..<20 {
            var simulator = try ClusterSimulator(seed: seed, chaosTicks: SimulationSettings.chaosTicks)
            try simulator.run()
            totals.elections += simulator.stats.elections
            totals.crashes += simulator.stats.crashes
            totals.mid += simulator.stats.midWriteCrashes
            totals.conf += simulator.stats.confChanges
            totals.snaps += simulator.stats.snapshots
            totals.acked += simulator.acked.count
            totals.reads += simulator.readsAnswered
        }
        #expect(totals.elections > 20)
        #expect(totals.crashes > 5)
        #expect(totals.mid > 0)
        #expect(totals.conf > 5)
        #expect(totals.snaps > 20)
        #expect(totals.acked > 500)
        #expect(totals.reads > 10)
    }
}
