import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Warnings a peer can cause at will — one per frame or per connection — so
/// that a peer cannot fill the daemon's log: each kind is logged at most once
/// per interval, the next report saying how many were left out meanwhile.
public final class RateLimitedWarnings: Sendable {
    private struct Seen {
        var lastLogged: NIODeadline
        var leftOut: Int
    }

    private let interval: TimeAmount
    /// Keyed by kind: a fixed set of names, or one per known peer, so it stays small.
    private let seen = NIOLockedValueBox<[String: Seen]>([:])

    public init(interval: TimeAmount = .seconds(10)) {
        self.interval = interval
    }

    public func warning(_ kind: String, _ message: @autoclosure () -> String, level: Logger.Level = .warning, logger: Logger) {
        let now = NIODeadline.now()
        let leftOut: Int? = seen.withLockedValue { seen in
            if let entry = seen[kind], now - entry.lastLogged < interval {
                seen[kind]?.leftOut += 1
                return nil
            }
            defer { seen[kind] = Seen(lastLogged: now, leftOut: 0) }
            return seen[kind]?.leftOut ?? 0
        }
        guard let leftOut else { return }
        logger.log(level: level, "\(message())\(leftOut > 0 ? " (and \(leftOut) more like it since the last report)" : "")")
    }
}
