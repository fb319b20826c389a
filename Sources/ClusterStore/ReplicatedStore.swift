import FoundationEssentials
import NIOConcurrencyHelpers

/// The store as the Raft log replicates it: a command is a JSON batch of
/// writes stamped with its proposer's time; applying it answers with the
/// outcome, so the proposer learns whether its compare-and-swap won. Apply
/// reads no clock: every manager, and every replay, computes the same state.
/// Readers get copies; watchers get every event in log order.
public final class ReplicatedStore: Sendable {
    /// The answer a proposer gets back for its batch.
    public enum Outcome: Codable, Equatable, Sendable {
        case applied(version: UInt64)
        case refused(StoreError)
    }

    private let state = NIOLockedValueBox(Store())
    private let watchers = NIOLockedValueBox<[UInt64: @Sendable ([StoreEvent]) -> Void]>([:])
    private let nextWatcher = NIOLockedValueBox<UInt64>(0)

    public init() {}

    /// A consistent copy of everything this node has applied.
    public var snapshot: Store { state.withLockedValue { $0 } }

    /// What the log carries: the writes and the time their proposer stamped them with.
    struct Command: Codable {
        var writes: [Write]
        var at: Date
    }

    /// The command for `batch`, proposed at `time` (createdAt/updatedAt of what it writes).
    public static func command(_ batch: [Write], at time: Date) throws -> [UInt8] {
        Array(try JSONEncoder().encode(Command(writes: batch, at: time)))
    }

    /// The command's writes and time; entries written before commands carried a
    /// time were a bare batch, stamped with the epoch so their replay is stable too.
    static func decode(_ command: [UInt8]) -> Command? {
        let decoder = JSONDecoder()
        if let stamped = try? decoder.decode(Command.self, from: Data(command)) { return stamped }
        return (try? decoder.decode([Write].self, from: Data(command))).map { Command(writes: $0, at: Date(timeIntervalSince1970: 0)) }
    }

    public static func outcome(from answer: [UInt8]) throws -> Outcome {
        try JSONDecoder().decode(Outcome.self, from: Data(answer))
    }

    /// Applies one committed command (called by the Raft host, in log order).
    public func apply(_ command: [UInt8], at index: UInt64) -> [UInt8] {
        let outcome: Outcome
        var events: [StoreEvent] = []
        if let command = Self.decode(command) {
            let result = state.withLockedValue { store in
                Result { () throws(StoreError) in try store.apply(command.writes, version: index, now: command.at) }
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

    /// The whole state, byte for byte the same on every manager that applied the same log.
    public func encodedSnapshot() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? Array(encoder.encode(snapshot))) ?? []
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
