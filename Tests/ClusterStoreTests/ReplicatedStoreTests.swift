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
        let store = ReplicatedStore(clock: { Date(timeIntervalSince1970: 0) })
        let first = try ReplicatedStore.outcome(from: store.apply(ReplicatedStore.command([.create(node("a"))]), at: 5))
        #expect(first == .applied(version: 5))
        let again = try ReplicatedStore.outcome(from: store.apply(ReplicatedStore.command([.create(node("a"))]), at: 6))
        #expect(again == .refused(.exists(.node, "a")))
        let stale = try ReplicatedStore.outcome(from: store.apply(ReplicatedStore.command([.update(node("a", version: 1))]), at: 7))
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
        _ = store.apply(try ReplicatedStore.command([.create(node("a")), .create(node("b"))]), at: 1)
        _ = store.apply(try ReplicatedStore.command([.create(node("c"))]), at: 2)
        token.cancel()
        _ = store.apply(try ReplicatedStore.command([.create(node("d"))]), at: 3)
        #expect(seen.withLockedValue { $0 } == ["a", "b", "c"])
    }

    @Test func aSnapshotRestoresTheSameState() throws {
        let store = ReplicatedStore()
        _ = store.apply(try ReplicatedStore.command([.create(node("a"))]), at: 1)
        let copy = ReplicatedStore()
        try copy.restore(from: store.encodedSnapshot())
        #expect(copy.snapshot == store.snapshot)
    }
}
