/// The ranges every value a user or a peer can send must fall in. The CLI,
/// the local API and the agent check against these same ranges, so nothing
/// the CLI refuses gets in another way.
public enum Limits {
    /// `init --heartbeat-period`, in seconds.
    public static let heartbeatPeriodSeconds: ClosedRange<Double> = 0.1...60
    /// Durations such as `--restart-delay`, in seconds (a week at most).
    public static let durationSeconds: ClosedRange<Double> = 0...(7 * 24 * 3600)
    /// `--restart-max-attempts` (0: no limit).
    public static let restartMaxAttempts: ClosedRange<Int> = 0...1_000_000
    /// `service logs --tail`, in lines.
    public static let logTailLines: ClosedRange<Int> = 0...100_000
    /// Byte offsets into a task's output (`service logs` cursors).
    public static let logOffset: ClosedRange<Int> = 0...Int(Int64.max)

    /// Whether `text` is a plain token a peer may put in the store: 1 to
    /// `maximumBytes` bytes of printable ASCII, no spaces (addresses, hostnames).
    public static func isPlainToken(_ text: String, maximumBytes: Int) -> Bool {
        !text.isEmpty && text.utf8.count <= maximumBytes && !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f })
    }

    /// The heartbeat period to wait for, from a value that may come from an
    /// old log entry: out-of-range and non-finite values are clamped, never trapped on.
    public static func heartbeatPeriod(clamping seconds: Double) -> Duration {
        let safe = seconds.isFinite ? min(max(seconds, heartbeatPeriodSeconds.lowerBound), heartbeatPeriodSeconds.upperBound) : Defaults.heartbeatPeriodSeconds
        return .milliseconds(Int((safe * 1000).rounded()))
    }
}

/// Ids of swarm objects (nodes, services, tasks): 25 characters of
/// lowercase base 36, as `Base36.objectID()` makes them. Ids that name files
/// (`tasks/<id>/output.log`) are checked against this where they arrive.
public enum ObjectID {
    public static let length = 25

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
    }
}
