import ClusterWire
import Synchronization
import Testing
@testable import Manager

/// A user's write that met another write moving its object on is read and made again; other refusals are not.
@Suite struct WriteRetryTests {
    private final class Attempts: Sendable {
        let count = Mutex(0)
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
    }

    private static let movedOn = SwarmError("update out of sequence: node n1 is at version 12, not 10", kind: .outOfSequence)

    @Test func aWriteOutOfSequenceIsMadeAgainFromAFreshRead() async throws {
        let attempts = Attempts()
        let result = try await retryingOutOfSequence { () async throws -> String in
            if attempts.next() < 3 { throw Self.movedOn }
            return "written"
        }
        #expect(result == "written" && attempts.count.withLock { $0 } == 3)
    }

    @Test func itGivesUpAfterFiveAttemptsWithTheLastError() async {
        let attempts = Attempts()
        await #expect(throws: Self.movedOn) {
            try await retryingOutOfSequence { () async throws -> Void in _ = attempts.next(); throw Self.movedOn }
        }
        #expect(attempts.count.withLock { $0 } == 5)
    }

    @Test func otherRefusalsAreNotRetried() async {
        let attempts = Attempts()
        let taken = SwarmError("name web is taken", kind: .conflict)
        await #expect(throws: taken) {
            try await retryingOutOfSequence { () async throws -> Void in _ = attempts.next(); throw taken }
        }
        #expect(attempts.count.withLock { $0 } == 1)
    }
}
