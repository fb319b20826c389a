import FoundationEssentials
import NIOConcurrencyHelpers

/// The store as the Raft log replicates it: a command is a JSON batch of
/// writes; applying it answers with the outcome, so the proposer learns
/// whether its compare-and-swap won. Readers get copies; watchers get every
/// event in log order.
public final class ReplicatedStore: Sendable {
    /// The answer a proposer gets back for its batch.
    public enum Outcome: Codable, Equatable, Sendable {
        case applied(version: UInt64)
        case refused(StoreError)
    }

    private let state = NIOLockedValueBox(Store())
    private let watchers = NIOLockedValueBox<[UInt64: @Sendable ([StoreEvent]) -> Void]>([:])
    private let nextWatcher = NIOLockedValueBox<UInt64>(0)
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
    }

    /// A consistent copy of everything this node has applied.
    public var snapshot: Store { state.withLockedValue { $0 } }

    public static func command(_ batch: [Write]) throws -> [UInt8] { Array(try JSONEncoder().encode(batch)) }

    public static func outcome(from answer: [UInt8]) throws -> Outcome {
        try JSONDecoder().decode(Outcome.self, from: Data(answer))
    }

    /// Applies one committed command (called by the Raft host, in log order).
    public func apply(_ command: [UInt8], at index: UInt64) -> [UInt8] {
        let outcome: Outcome
        var events: [StoreEvent] = []
        if let batch = try? JSONDecoder().decode([Write].self, from: Data(command)) {
            let now = clock()
            let result = state.withLockedValue { store in
                Result { () throws(StoreError) in try store.apply(batch, version: index, now: now) }
            }
            switch result {
            case .success(let applied):
                events = applied
                outcome = .applied(version: index)
            case .failure(let error):
                outcome = .refused(error)
            }
        } else {
            outcome = .refused(.malformedCommand(index: index))
        }
        if !events.isEmpty {
            for watcher in watchers.withLockedValue({ Array($0.values) }) { watcher(events) }
        }
        return (try? Array(JSONEncoder().encode(outcome))) ?? []
    }

    public func encodedSnapshot() -> [UInt8] {
        (try? Array(JSONEncoder().encode(snapshot))) ?? []
    }

    public func restore(from bytes: [UInt8]) throws {
        let restored = try JSONDecoder().decode(Store.self, from: Data(bytes))
        state.withLockedValue { $0 = restored }
    }

    /// Calls `onEvents` with every later batch of events, until cancelled.
    public func watch(_ onEvents: @escaping @Sendable ([StoreEvent]) -> Void) -> WatchToken {
        let id = nextWatcher.withLockedValue { id in id += 1; return id }
        watchers.withLockedValue { $0[id] = onEvents }
        return WatchToken(cancel: { [weak self] in _ = self?.watchers.withLockedValue { $0.removeValue(forKey: id) } })
    }
}

public struct WatchToken: Sendable {
    public let cancel: @Sendable () -> Void
}
