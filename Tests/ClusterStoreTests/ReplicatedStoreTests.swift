import FoundationEssentials
import NIOConcurrencyHelpers
import Testing
@testable import ClusterStore

@Suite struct ReplicatedStoreTests {
    private func node(_ id: String, version: UInt64 = 0) -> StoredObject {
        .node(NodeObject(meta: ObjectMeta(id: id, version: version), hostname: id, advertiseAddress: "10.0.0.1:2377",
                         role: .manager, engineVersion: "0.1.0"))
    }

    @Test func theProposerLearnsWhetherItsBatchWon() throws {
        let store = ReplicatedStore()
        let first = try ReplicatedStore.outcome(from: store.apply(ReplicatedStore.command([.create(node("a"))], at: time), at: 5))
        #expect(first == .applied(version: 5))
        let again = try ReplicatedStore.outcome(from: store.apply(ReplicatedStore.command([.create(node("a"))], at: time), at: 6))
        #expect(again == .refused(.exists(.node, "a")))
        let stale = try ReplicatedStore.outcome(from: store.apply(ReplicatedStore.command([.update(node("a", version: 1))], at: time), at: 7))
        #expect(stale == .refused(.versionConflict(.node, "a", expected: 1, actual: 5)))
        let garbage = try ReplicatedStore.outcome(from: store.apply(Array("{".utf8), at: 8))
        #expect(garbage == .refused(.malformedCommand(index: 8)))
    }

    @Test func watchersSeeEveryChangeInLogOrderUntilTheyCancel() throws {
        let store = ReplicatedStore()
        let seen = NIOLockedValueBox<[String]>([])
        let token = store.watch { events in
            for case .created(let object) in events { seen.withLockedValue { $0.append(object.meta.id) } }
        }
        _ = store.apply(try ReplicatedStore.command([.create(node("a")), .create(node("b"))], at: time), at: 1)
        _ = store.apply(try ReplicatedStore.command([.create(node("c"))], at: time), at: 2)
        token.cancel()
        _ = store.apply(try ReplicatedStore.command([.create(node("d"))], at: time), at: 3)
        #expect(seen.withLockedValue { $0 } == ["a", "b", "c"])
    }

    private let time = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func applyStampsWhatTheCommandCarriesSoEveryManagerAndEveryReplayAgree() async throws {
        let proposedAt = Date(timeIntervalSince1970: 1_800_000_000.25)
        let create = try ReplicatedStore.command([.create(node("a"))], at: proposedAt)
        let update = try ReplicatedStore.command([.update(node("a", version: 1))], at: proposedAt + 60)
        let first = ReplicatedStore()
        _ = first.apply(create, at: 1)
        _ = first.apply(update, at: 2)
        // Another manager applies the same log later; so does this one after a restart.
        try await Task.sleep(for: .milliseconds(5))
        let second = ReplicatedStore()
        _ = second.apply(create, at: 1)
        _ = second.apply(update, at: 2)
        #expect(second.encodedSnapshot() == first.encodedSnapshot())
        let meta = try #require(second.snapshot.get(.node, "a")?.meta)
        #expect(meta.createdAt == proposedAt)
        #expect(meta.updatedAt == proposedAt + 60)
        let restored = ReplicatedStore()
        try restored.restore(from: first.encodedSnapshot())
        #expect(restored.snapshot == first.snapshot)
    }

    @Test func aBatchLoggedBeforeCommandsCarriedATimeReplaysTheSameEveryTime() throws {
        let legacy = Array(try JSONEncoder().encode([Write.create(node("a"))]))
        let store = ReplicatedStore()
        #expect(try ReplicatedStore.outcome(from: store.apply(legacy, at: 1)) == .applied(version: 1))
        #expect(store.snapshot.get(.node, "a")?.meta.createdAt == Date(timeIntervalSince1970: 0))
    }

    @Test func aSnapshotRestoresTheSameState() throws {
        let store = ReplicatedStore()
        _ = store.apply(try ReplicatedStore.command([.create(node("a"))], at: time), at: 1)
        let copy = ReplicatedStore()
        try copy.restore(from: store.encodedSnapshot())
        #expect(copy.snapshot == store.snapshot)
    }
}
