import FoundationEssentials
import Testing
@testable import ClusterStore

@Suite struct StoreTests {
    private let now = Date(timeIntervalSince1970: 1_700_000_000)

    private func node(_ id: String, hostname: String, version: UInt64 = 0) -> NodeObject {
        NodeObject(meta: ObjectMeta(id: id, version: version), hostname: hostname, advertiseAddress: "10.0.0.1:2377",
                   role: .worker, engineVersion: "0.1.0")
    }

    @Test func aCreatedObjectTakesTheLogIndexAsItsVersion() throws {
        var store = Store()
        let events = try store.apply([.create(.node(node("n1", hostname: "lab-1")))], version: 7, now: now)
        let stored = try #require(store.get(.node, "n1"))
        #expect(stored.meta.version == 7)
        #expect(stored.meta.createdAt == now)
        #expect(events == [.created(stored)])
    }

    @Test func ofTwoUpdatesFromTheSameReadOnlyTheFirstWins() throws {
        var store = Store()
        _ = try store.apply([.create(.node(node("n1", hostname: "lab-1")))], version: 3, now: now)
        var drain = node("n1", hostname: "lab-1", version: 3)
        drain.availability = .drain
        var pause = node("n1", hostname: "lab-1", version: 3)
        pause.availability = .pause
        _ = try store.apply([.update(.node(drain))], version: 4, now: now)
        #expect(throws: StoreError.versionConflict(.node, "n1", expected: 3, actual: 4)) {
            try store.apply([.update(.node(pause))], version: 5, now: now)
        }
        #expect(store.nodes.first?.availability == .drain)
    }

    @Test func aBatchAppliesWhollyOrNotAtAll() throws {
        var store = Store()
        _ = try store.apply([.create(.node(node("n1", hostname: "lab-1")))], version: 1, now: now)
        #expect(throws: StoreError.exists(.node, "n1")) {
            try store.apply([.create(.node(node("n2", hostname: "lab-2"))), .create(.node(node("n1", hostname: "again")))],
                            version: 2, now: now)
        }
        #expect(store.get(.node, "n2") == nil)
        #expect(store.nodes.map(\.hostname) == ["lab-1"])
    }

    @Test func deletesCheckTheVersionToo() throws {
        var store = Store()
        _ = try store.apply([.create(.node(node("n1", hostname: "lab-1")))], version: 1, now: now)
        #expect(throws: StoreError.versionConflict(.node, "n1", expected: 9, actual: 1)) {
            try store.apply([.delete(.node, id: "n1", expectedVersion: 9)], version: 2, now: now)
        }
        #expect(throws: StoreError.notFound(.node, "zz")) {
            try store.apply([.delete(.node, id: "zz", expectedVersion: 1)], version: 2, now: now)
        }
        let events = try store.apply([.delete(.node, id: "n1", expectedVersion: 1)], version: 3, now: now)
        #expect(store.nodes.isEmpty)
        #expect(events.count == 1)
    }

    @Test func theStoreSurvivesASnapshotRoundTrip() throws {
        var store = Store()
        _ = try store.apply([.create(.node(node("n1", hostname: "lab-1"))), .create(.node(node("n2", hostname: "lab-2")))],
                            version: 1, now: now)
        let restored = try JSONDecoder().decode(Store.self, from: JSONEncoder().encode(store))
        #expect(restored == store)
    }
}
