import NIOConcurrencyHelpers

/// Connections that have not proven who they are — still in the TLS
/// handshake, or anonymous joiners — capped per source address and in all,
/// so that holding many open exhausts neither the daemon's files nor its memory.
final class UnverifiedConnections: Sendable {
    /// One connection's place under the caps, given back once (when it
    /// proves a member's identity or closes, whichever comes first).
    final class Slot: Sendable {
        private let released = NIOLockedValueBox(false)
        private let onRelease: @Sendable () -> Void

        fileprivate init(onRelease: @escaping @Sendable () -> Void) {
            self.onRelease = onRelease
        }

        func release() {
            guard released.withLockedValue({ done in defer { done = true }; return !done }) else { return }
            onRelease()
        }
    }

    private struct Counts {
        var total = 0
        var bySource: [String: Int] = [:]
    }

    let perSource: Int
    let total: Int
    private let counts = NIOLockedValueBox(Counts())

    init(perSource: Int, total: Int) {
        self.perSource = perSource
        self.total = total
    }

    /// A slot for a new connection from `source`; nil when a cap is reached.
    func admit(_ source: String) -> Slot? {
        let admitted = counts.withLockedValue { counts in
            guard counts.total < total, counts.bySource[source, default: 0] < perSource else { return false }
            counts.total += 1
            counts.bySource[source, default: 0] += 1
            return true
        }
        guard admitted else { return nil }
        return Slot { [counts] in
            counts.withLockedValue { counts in
                counts.total -= 1
                counts.bySource[source, default: 1] -= 1
                if counts.bySource[source] == 0 { counts.bySource[source] = nil }
            }
        }
    }
}
