#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ShoalAPI

/// docker's health state machine, fed one probe at a time (the probes
/// carry the time, so tests give it any clock): starting until the first
/// success, healthy after a success, unhealthy after `retries` failures in
/// a row. While starting, failures within the start period do not count.
struct HealthTracker: Sendable {
    let check: HealthCheck
    /// When the task's command started.
    let startedAt: Date
    private(set) var health = TaskHealth()

    init(check: HealthCheck, startedAt: Date) {
        self.check = check
        self.startedAt = startedAt
    }

    mutating func record(_ probe: TaskHealth.Probe) -> TaskHealth {
        health.log.append(probe)
        if probe.exitCode == 0 {
            health.failingStreak = 0
            health.status = .healthy
        } else if health.status == .starting, probe.start < startedAt.addingTimeInterval(check.startPeriodSeconds) {
            // Still in its start period: the task may not be ready yet.
        } else {
            health.failingStreak += 1
            if health.failingStreak >= check.retries { health.status = .unhealthy }
        }
        health = health.bounded
        return health
    }
}

/// One run of a health check: `/bin/sh -c COMMAND` entered into the task
/// as `shoal exec` enters it (`shoal task-exec`, the task's namespaces and
/// confinement), its output in a file of the task's directory, stopped at
/// the timeout (SIGTERM, which task-exec hands to the shell, then SIGKILL).
enum HealthProbe {
    static func run(_ check: HealthCheck, in target: ExecTarget, supervisor: ProcessSupervisor, executable: String,
                    outputPath: String) async -> TaskHealth.Probe {
        let start = Date()
        func failed(_ reason: String) -> TaskHealth.Probe { TaskHealth.Probe(start: start, end: Date(), exitCode: -1, output: reason) }
        let options: TaskExec.Options
        do {
            options = try TaskExec.Options(target, tty: false, attachStdin: false, command: check.shellCommand)
        } catch {
            return failed(error.message)
        }
        let output = open(outputPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { return failed("cannot open \(outputPath): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else { return failed("cannot open /dev/null: \(String(cString: strerror(errno)))") }
        defer { close(null) }
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
        let child: ProcessSupervisor.Child
        do {
            child = try await supervisor.spawn(
                ProcessSupervisor.Launch(executable: executable, arguments: ["shoal"] + options.arguments, environment: target.env,
                                         descriptors: [0: null, 1: output, 2: output], output: nil),
                exited: { code in
                    exited.yield(code)
                    exited.finish()
                })
        } catch {
            return failed("\(error)")
        }
        let timeout = Duration.milliseconds(Int64((check.timeoutSeconds * 1000).rounded()))
        let deadline = Task { () -> Bool in
            guard (try? await Task.sleep(for: timeout)) != nil else { return false }
            child.signal(SIGTERM)
            if (try? await Task.sleep(for: .seconds(1))) != nil { child.signal(SIGKILL) }
            return true
        }
        var code: Int32 = -1
        for await exit in exits { code = exit }
        deadline.cancel()
        if await deadline.value {
            return TaskHealth.Probe(start: start, end: Date(), exitCode: -1,
                                    output: "Health check exceeded timeout (\(Durations.text(check.timeoutSeconds)))")
        }
        var bytes = [UInt8](repeating: 0, count: TaskHealth.maximumOutputBytes)
        let count = bytes.withUnsafeMutableBytes { pread(output, $0.baseAddress, $0.count, 0) }
        let text = String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self)
        return TaskHealth.Probe(start: start, end: Date(), exitCode: Int(code),
                                output: TaskHealth.prefix(text, bytes: TaskHealth.maximumOutputBytes))
    }
}
