import ClusterWire
import Testing
@testable import Manager

/// A read is answered only once a quorum confirmed it; never from a copy that may be stale.
@Suite struct LinearizableReadTests {
    @Test func aReadBarrierThatNeverCompletesFailsWithDockersNoLeaderError() async {
        // (No bound on the elapsed time here: other suites' Raft simulations may hold the cooperative pool.)
        await #expect(throws: SwarmError.noLeader) {
            try await ManagerRuntime.confirm(within: 0.1) { try await Task.sleep(for: .seconds(3600)) }
        }
        #expect(SwarmError.noLeader.kind == .unavailable)
    }

    @Test func aReadBarrierThatFailsFailsTheRead() async {
        struct NoLeader: Error {}
        await #expect(throws: SwarmError.noLeader) { try await ManagerRuntime.confirm(within: 5) { throw NoLeader() } }
    }

    @Test func aConfirmedReadAnswers() async throws {
        try await ManagerRuntime.confirm(within: 5) {}
    }
}
