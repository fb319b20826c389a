import FoundationEssentials

/// docker's `--health-cmd`, `--health-interval`, `--health-timeout`,
/// `--health-retries` and `--health-start-period`, with docker's defaults.
/// A task is a host command, so the check runs as docker's CMD-SHELL does:
/// `/bin/sh -c COMMAND`, inside the task.
public struct HealthCheck: Codable, Equatable, Sendable {
    public var command: String
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    /// Failures in a row that make the task unhealthy.
    public var retries: Int
    /// Failures before this much time has passed since the task started do not count (until a first success).
    public var startPeriodSeconds: Double

    public static let defaultIntervalSeconds = 30.0
    public static let defaultTimeoutSeconds = 30.0
    public static let defaultRetries = 3

    /// Each probe is a process in the task and a status write to the
    /// managers' store: one a second per task at most.
    public static let intervalSeconds: ClosedRange<Double> = 1...(24 * 3600)
    public static let timeoutSeconds: ClosedRange<Double> = 0.1...(24 * 3600)
    public static let startPeriodSeconds: ClosedRange<Double> = 0...(24 * 3600)
    public static let retries: ClosedRange<Int> = 1...100
    public static let maximumCommandBytes = 4096

    public init(command: String, intervalSeconds: Double = defaultIntervalSeconds, timeoutSeconds: Double = defaultTimeoutSeconds,
                retries: Int = defaultRetries, startPeriodSeconds: Double = 0) {
        self.command = command
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.startPeriodSeconds = startPeriodSeconds
    }

    /// What runs in the task.
    public var shellCommand: [String] { ["/bin/sh", "-c", command] }

    /// Checks every field against its bounds; the first problem is the error.
    public func validate() throws(ShoalError) {
        guard !command.isEmpty, command.utf8.count <= Self.maximumCommandBytes, !command.utf8.contains(0) else {
            throw ShoalError("invalid --health-cmd", hint: "give a shell command of 1 to \(Self.maximumCommandBytes) bytes")
        }
        try Self.check(intervalSeconds, in: Self.intervalSeconds, option: "--health-interval")
        try Self.check(timeoutSeconds, in: Self.timeoutSeconds, option: "--health-timeout")
        try Self.check(startPeriodSeconds, in: Self.startPeriodSeconds, option: "--health-start-period")
        guard Self.retries.contains(retries) else {
            throw ShoalError("invalid --health-retries \(retries)", hint: "use \(Self.retries.lowerBound) to \(Self.retries.upperBound)")
        }
    }

    private static func check(_ seconds: Double, in range: ClosedRange<Double>, option: String) throws(ShoalError) {
        guard seconds.isFinite, range.contains(seconds) else {
            throw ShoalError("invalid \(option) \(Durations.text(seconds))",
                             hint: "use \(Durations.text(range.lowerBound)) to \(Durations.text(range.upperBound))")
        }
    }

    /// The check `service create` asks for: none without `--health-cmd`;
    /// the other options need it (there is no image whose check they could change).
    public static func requested(command: String?, interval: Double?, timeout: Double?, retries: Int?, startPeriod: Double?,
                                 disabled: Bool) throws(ShoalError) -> HealthCheck? {
        let tuned = interval != nil || timeout != nil || retries != nil || startPeriod != nil
        if disabled {
            guard command == nil, !tuned else { throw ShoalError("--no-healthcheck conflicts with --health-* options") }
            return nil
        }
        guard let command else {
            guard !tuned else { throw ShoalError("--health-interval, --health-timeout, --health-retries and --health-start-period need --health-cmd") }
            return nil
        }
        return HealthCheck(command: command, intervalSeconds: interval ?? defaultIntervalSeconds,
                           timeoutSeconds: timeout ?? defaultTimeoutSeconds, retries: retries ?? defaultRetries,
                           startPeriodSeconds: startPeriod ?? 0)
    }

    /// `service update`: `current` with the options given changed, or none with `--no-healthcheck`.
    public static func updated(_ current: HealthCheck?, command: String?, interval: Double?, timeout: Double?, retries: Int?,
                               startPeriod: Double?, disabled: Bool) throws(ShoalError) -> HealthCheck? {
        guard let current else {
            return try requested(command: command, interval: interval, timeout: timeout, retries: retries,
                                 startPeriod: startPeriod, disabled: disabled)
        }
        if disabled {
            guard command == nil, interval == nil, timeout == nil, retries == nil, startPeriod == nil else {
                throw ShoalError("--no-healthcheck conflicts with --health-* options")
            }
            return nil
        }
        var check = current
        if let command { check.command = command }
        if let interval { check.intervalSeconds = interval }
        if let timeout { check.timeoutSeconds = timeout }
        if let retries { check.retries = retries }
        if let startPeriod { check.startPeriodSeconds = startPeriod }
        return check
    }
}

/// A task's health, as docker's `State.Health`.
public struct TaskHealth: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case starting, healthy, unhealthy }

    /// One probe: when it ran, its exit code (-1: it could not run or timed out) and the start of its output.
    public struct Probe: Codable, Equatable, Sendable {
        public var start: Date
        public var end: Date
        public var exitCode: Int
        public var output: String

        enum CodingKeys: String, CodingKey { case start = "Start", end = "End", exitCode = "ExitCode", output = "Output" }

        public init(start: Date, end: Date, exitCode: Int, output: String) {
            (self.start, self.end, self.exitCode, self.output) = (start, end, exitCode, output)
        }
    }

    /// docker keeps the last 5 probes and 4096 bytes of each one's output.
    public static let keptProbes = 5
    public static let maximumOutputBytes = 4096

    public var status: Status
    public var failingStreak: Int
    public var log: [Probe]

    enum CodingKeys: String, CodingKey { case status = "Status", failingStreak = "FailingStreak", log = "Log" }

    public init(status: Status = .starting, failingStreak: Int = 0, log: [Probe] = []) {
        (self.status, self.failingStreak, self.log) = (status, failingStreak, log)
    }

    /// Within what docker keeps: the last probes, each output cut at a
    /// character boundary; what a peer sends is taken only this way.
    public var bounded: TaskHealth {
        var health = self
        health.failingStreak = min(max(failingStreak, 0), 1_000_000)
        health.log = log.suffix(Self.keptProbes).map { probe in
            var probe = probe
            probe.output = Self.prefix(probe.output, bytes: Self.maximumOutputBytes)
            return probe
        }
        return health
    }

    /// The longest start of `text` within `bytes` UTF-8 bytes.
    public static func prefix(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            guard used + size <= bytes else { break }
            result.append(character)
            used += size
        }
        return result
    }
}
