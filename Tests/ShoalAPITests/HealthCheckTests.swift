import FoundationEssentials
import ShoalAPI
import Testing

/// docker's health check options: their durations, defaults, conflicts and bounds.
@Suite struct HealthCheckTests {
    @Test func durationsAreDockers() throws {
        #expect(try Durations.seconds("30s", option: "--health-interval") == 30)
        #expect(try Durations.seconds("1m30s", option: "--health-interval") == 90)
        #expect(try Durations.seconds("500ms", option: "--health-timeout") == 0.5)
        for bad in ["", "30", "1x", "-1s", "s"] {
            #expect(throws: ShoalError.self) { try Durations.seconds(bad, option: "--health-interval") }
        }
    }

    @Test func aCommandAloneTakesDockersDefaults() throws {
        let check = try #require(try HealthCheck.requested(command: "test -f /tmp/ok", interval: nil, timeout: nil, retries: nil,
                                                           startPeriod: nil, disabled: false))
        #expect(check == HealthCheck(command: "test -f /tmp/ok", intervalSeconds: 30, timeoutSeconds: 30, retries: 3, startPeriodSeconds: 0))
        #expect(check.shellCommand == ["/bin/sh", "-c", "test -f /tmp/ok"])
        #expect(try HealthCheck.requested(command: nil, interval: nil, timeout: nil, retries: nil, startPeriod: nil, disabled: false) == nil)
        #expect(try HealthCheck.requested(command: nil, interval: nil, timeout: nil, retries: nil, startPeriod: nil, disabled: true) == nil)
    }

    @Test func noHealthcheckConflictsWithTheOtherOptionsAndTheyNeedACommand() {
        #expect(throws: ShoalError("--no-healthcheck conflicts with --health-* options")) {
            try HealthCheck.requested(command: "true", interval: nil, timeout: nil, retries: nil, startPeriod: nil, disabled: true)
        }
        #expect(throws: ShoalError.self) {
            try HealthCheck.requested(command: nil, interval: 5, timeout: nil, retries: nil, startPeriod: nil, disabled: false)
        }
        let current = HealthCheck(command: "true")
        #expect(throws: ShoalError("--no-healthcheck conflicts with --health-* options")) {
            try HealthCheck.updated(current, command: nil, interval: nil, timeout: nil, retries: 2, startPeriod: nil, disabled: true)
        }
    }

    @Test func anUpdateChangesOnlyWhatItGives() throws {
        let current = HealthCheck(command: "true", intervalSeconds: 5, timeoutSeconds: 2, retries: 4, startPeriodSeconds: 1)
        let retried = try HealthCheck.updated(current, command: nil, interval: nil, timeout: nil, retries: 7, startPeriod: nil,
                                              disabled: false)
        #expect(retried == HealthCheck(command: "true", intervalSeconds: 5, timeoutSeconds: 2, retries: 7, startPeriodSeconds: 1))
        #expect(try HealthCheck.updated(current, command: nil, interval: nil, timeout: nil, retries: nil, startPeriod: nil,
                                        disabled: true) == nil)
        #expect(try HealthCheck.updated(current, command: nil, interval: nil, timeout: nil, retries: nil, startPeriod: nil,
                                        disabled: false) == current)
        let added = try HealthCheck.updated(nil, command: "test -f /ok", interval: 2, timeout: nil, retries: nil, startPeriod: nil,
                                            disabled: false)
        #expect(added == HealthCheck(command: "test -f /ok", intervalSeconds: 2))
        let request = ServiceUpdateRequest(service: "web", healthRetries: 1)
        #expect(try request.healthCheck(updating: current)?.retries == 1)
    }

    @Test func boundsAreCheckedWithOneLineErrors() throws {
        try HealthCheck(command: "true", intervalSeconds: 1, timeoutSeconds: 0.5, retries: 1).validate()
        let refused: [(HealthCheck, String)] = [
            (HealthCheck(command: ""), "invalid --health-cmd"),
            (HealthCheck(command: String(repeating: "x", count: 4097)), "invalid --health-cmd"),
            (HealthCheck(command: "true", intervalSeconds: 0), "invalid --health-interval 0s: use 1s to 86400s"),
            (HealthCheck(command: "true", intervalSeconds: -1), "invalid --health-interval"),
            (HealthCheck(command: "true", intervalSeconds: .infinity), "invalid --health-interval"),
            (HealthCheck(command: "true", intervalSeconds: 2 * 86400), "invalid --health-interval"),
            (HealthCheck(command: "true", timeoutSeconds: 0), "invalid --health-timeout"),
            (HealthCheck(command: "true", startPeriodSeconds: -1), "invalid --health-start-period"),
            (HealthCheck(command: "true", retries: 0), "invalid --health-retries 0: use 1 to 100"),
            (HealthCheck(command: "true", retries: 101), "invalid --health-retries"),
        ]
        for (check, message) in refused {
            do {
                try check.validate()
                Issue.record("accepted \(check)")
            } catch {
                #expect(error.message.hasPrefix(message), "\(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
    }

    @Test func aHealthIsBoundedAsDockerKeepsIt() {
        let now = Date(timeIntervalSince1970: 1_000)
        let probes = (0..<8).map { TaskHealth.Probe(start: now, end: now, exitCode: $0, output: String(repeating: "é", count: 3000)) }
        let bounded = TaskHealth(status: .unhealthy, failingStreak: -4, log: probes).bounded
        #expect(bounded.log.map(\.exitCode) == [3, 4, 5, 6, 7], "the last 5 probes")
        #expect(bounded.log.allSatisfy { $0.output.utf8.count == 4096 }, "4096 bytes, whole characters")
        #expect(bounded.failingStreak == 0)
    }

    @Test func theHealthIsShownInDockersShape() throws {
        let probe = TaskHealth.Probe(start: Date(timeIntervalSince1970: 0), end: Date(timeIntervalSince1970: 1), exitCode: 1, output: "no")
        let text = String(decoding: try JSONEncoder().encode(TaskHealth(status: .starting, failingStreak: 1, log: [probe])), as: UTF8.self)
        for key in ["\"Status\":\"starting\"", "\"FailingStreak\":1", "\"Log\":[", "\"Start\"", "\"End\"", "\"ExitCode\":1", "\"Output\":\"no\""] {
            #expect(text.contains(key), "\(text)")
        }
    }
}
