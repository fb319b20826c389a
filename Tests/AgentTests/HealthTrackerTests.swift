import FoundationEssentials
import ShoalAPI
import Testing
@testable import Agent

/// docker's health states, on a clock the test moves.
@Suite struct HealthTrackerTests {
    private let started = Date(timeIntervalSince1970: 1_000_000)

    private func probe(at seconds: Double, _ exitCode: Int) -> TaskHealth.Probe {
        TaskHealth.Probe(start: started.addingTimeInterval(seconds), end: started.addingTimeInterval(seconds + 0.1),
                         exitCode: exitCode, output: "")
    }

    @Test func startingUntilTheFirstSuccessThenUnhealthyAfterRetriesFailuresInARow() {
        var tracker = HealthTracker(check: HealthCheck(command: "true", intervalSeconds: 1, retries: 3), startedAt: started)
        #expect(tracker.health.status == .starting)
        #expect(tracker.record(probe(at: 1, 1)).status == .starting)
        #expect(tracker.health.failingStreak == 1)
        #expect(tracker.record(probe(at: 2, 0)) == TaskHealth(status: .healthy, failingStreak: 0, log: [probe(at: 1, 1), probe(at: 2, 0)]))
        #expect(tracker.record(probe(at: 3, 1)).status == .healthy)
        #expect(tracker.record(probe(at: 4, 1)).status == .healthy)
        let unhealthy = tracker.record(probe(at: 5, 1))
        #expect(unhealthy.status == .unhealthy && unhealthy.failingStreak == 3)
        #expect(unhealthy.log.count == TaskHealth.keptProbes, "the last 5 probes")
        #expect(unhealthy.log.last == probe(at: 5, 1))
    }

    @Test func failuresInTheStartPeriodDoNotCountWhileStarting() {
        var tracker = HealthTracker(check: HealthCheck(command: "true", intervalSeconds: 1, retries: 1, startPeriodSeconds: 10),
                                    startedAt: started)
        for second in 1...9 { #expect(tracker.record(probe(at: Double(second), 1)).status == .starting) }
        #expect(tracker.health.failingStreak == 0)
        #expect(tracker.record(probe(at: 10, 1)).status == .unhealthy, "the period is over")
    }

    @Test func aHealthyTaskCountsFailuresEvenInItsStartPeriod() {
        var tracker = HealthTracker(check: HealthCheck(command: "true", intervalSeconds: 1, retries: 2, startPeriodSeconds: 60),
                                    startedAt: started)
        _ = tracker.record(probe(at: 1, 0))
        _ = tracker.record(probe(at: 2, 1))
        #expect(tracker.record(probe(at: 3, 1)).status == .unhealthy)
    }

    @Test func aTimedOutOrUnrunnableProbeIsAFailure() {
        var tracker = HealthTracker(check: HealthCheck(command: "true", intervalSeconds: 1, retries: 1), startedAt: started)
        #expect(tracker.record(probe(at: 1, -1)).status == .unhealthy)
    }
}
