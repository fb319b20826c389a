import ClusterCA
import ClusterStore
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers

/// The leader's task work, one pass at a time so its writes never race each
/// other: take in the statuses agents reported, let the orchestrator, the
/// allocator and the scheduler act on the result, write it in bounded batches (one Raft entry
/// each, so no entry outgrows what a follower can be sent), then have the
/// dispatcher hand every node its assignments. A pass runs when the store changes, when reports
/// arrive, and every quarter second (for restart delays).
final class TaskLoop: Sendable {
    private let inbox = NIOLockedValueBox<[String: (nodeID: String, report: TaskReport)]>([:])
    private let wake: AsyncStream<Void>.Continuation
    private let stream: AsyncStream<Void>

    init() {
        (stream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func poke() { wake.yield() }

    /// Statuses a node's agent reported (kept until a pass writes them).
    func receive(_ reports: [TaskReport], from nodeID: String) {
        guard !reports.isEmpty else { return }
        inbox.withLockedValue { inbox in
            for report in reports { inbox[report.taskID] = (nodeID, report) }
        }
        wake.yield()
    }

    /// Runs passes until cancelled; `isLeader` gates them, `propose` writes a
    /// batch stamped with the pass's time, `dispatch` hands out what a pass
    /// leaves and `stepDown` is called in a pass that finds this node no longer leading.
    func run(store: ReplicatedStore, isLeader: @escaping @Sendable () -> Bool,
             propose: @escaping @Sendable ([Write], Date) async throws -> Void,
             dispatch: @Sendable (Store) -> Void, stepDown: @Sendable () -> Void, logger: Logger) async {
        let token = store.watch { [wake] _ in wake.yield() }
        defer { token.cancel() }
        let ticker = Task { [wake] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                wake.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in stream {
            guard !Task.isCancelled else { break }
            guard isLeader() else {
                inbox.withLockedValue { $0 = [:] }
                stepDown()
                continue
            }
            let reports = inbox.withLockedValue { $0 }
            let plan = Self.pass(over: store.snapshot, reports: reports, now: Date(), newID: Base36.objectID)
            do {
                // Each batch stands alone (its writes name the versions this pass read); after a
                // refused one, the next pass plans again from what was written.
                for batch in StoreLimits.batches(plan.writes) { try await propose(batch, plan.now) }
            } catch {
                logger.debug("task pass deferred: \(error)")
                continue
            }
            // Reports written (or already current) leave the inbox, unless a newer one came meanwhile.
            inbox.withLockedValue { inbox in
                for (id, entry) in reports where inbox[id]?.report == entry.report { inbox[id] = nil }
            }
            dispatch(store.snapshot)
        }
    }

    /// One pass's decisions, without I/O: the reports taken in, then each
    /// stage acting on what the one before decided.
    static func pass(over store: Store, reports: [String: (nodeID: String, report: TaskReport)], now: Date,
                     newID: @escaping () -> String) -> TaskPlan {
        var plan = TaskPlan(store: store, now: now, newID: newID)
        TaskIntake.apply(reports, to: &plan)
        Orchestrator(historyLimit: store.taskHistoryLimit).reconcile(&plan)
        Allocator().allocate(&plan)
        Scheduler().schedule(&plan)
        return plan
    }
}
