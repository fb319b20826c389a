import ClusterStore
import NIOConcurrencyHelpers

/// Which nodes are alive: when each was last heard from, and the status
/// changes that are due — `down` after three silent periods, `ready` again
/// when it is heard from.
final class NodeLiveness: Sendable {
    static let missedPeriodsBeforeDown = 3.0

    private struct State {
        var lastSeen: [String: ContinuousClock.Instant] = [:]
        /// When this manager last became leader: nobody is judged on silence before that.
        var leadingSince: ContinuousClock.Instant?
    }

    private let state = NIOLockedValueBox(State())

    func heard(from nodeID: String, at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { $0.lastSeen[nodeID] = now }
    }

    /// The status changes due now, for the leader to write; `selfID` is always ready.
    func statusChanges(nodes: [NodeObject], selfID: String, isLeader: Bool, period: Duration,
                       now: ContinuousClock.Instant = .now) -> [NodeObject] {
        state.withLockedValue { state in
            guard isLeader else {
                state.leadingSince = nil
                return []
            }
            let since = state.leadingSince ?? now
            state.leadingSince = since
            var changes: [NodeObject] = []
            for var node in nodes {
                let alive: Bool
                if node.meta.id == selfID {
                    alive = true
                } else {
                    let seen = max(state.lastSeen[node.meta.id] ?? since, since)
                    alive = now - seen < period * Self.missedPeriodsBeforeDown
                }
                if alive, node.state != .ready {
                    node.state = .ready
                    node.stateMessage = ""
                    changes.append(node)
                } else if !alive, node.state == .ready {
                    node.state = .down
                    node.stateMessage = "heartbeat failure"
                    changes.append(node)
                }
            }
            return changes
        }
    }
}
