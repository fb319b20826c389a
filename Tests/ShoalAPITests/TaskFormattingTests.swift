import FoundationEssentials
import ShoalAPI
import Testing

@Suite struct TaskFormattingTests {
    private let now = Date(timeIntervalSince1970: 1_000_000)

    private func task(_ id: String, slot: Int, node: String, desired: String, state: String, since: Double,
                      error: String = "", created: Double) -> TaskSummary {
        TaskSummary(id: id, name: "web.\(slot).\(id)", serviceID: "s", serviceName: "web", slot: slot, nodeID: node,
                    node: node, command: ["shoal", "whoami"], desiredState: desired, state: state,
                    stateSince: now - since, message: "", error: error, exitCode: nil, address: nil,
                    createdAt: now - created)
    }

    @Test func durationsReadAsDockersDo() {
        #expect(TaskFormatting.humanDuration(0.4) == "less than a second")
        #expect(TaskFormatting.humanDuration(1) == "1 second")
        #expect(TaskFormatting.humanDuration(42) == "42 seconds")
        #expect(TaskFormatting.humanDuration(61) == "about a minute")
        #expect(TaskFormatting.humanDuration(150) == "2 minutes")
        #expect(TaskFormatting.humanDuration(3600) == "about an hour")
        #expect(TaskFormatting.humanDuration(5 * 3600) == "5 hours")
        #expect(TaskFormatting.humanDuration(3 * 86400) == "3 days")
    }

    @Test func aCommandStaysOnOneLineWithItsWordsBounded() {
        #expect(TaskFormatting.commandLine(["sleep", "100"]) == "sleep 100")
        #expect(TaskFormatting.commandLine(["sh", "-c", "while true; do\n\techo \"hi\" > /x; done", ""])
                == #"sh -c "while true; do\n\techo \"hi\" > /x; done" """#)
        #expect(TaskFormatting.commandLine(["a\u{1}b", "c\\d", "é"]) == #""a\x01b" "c\\d" é"#)
    }

    @Test func psRowsPutEachSlotsNewestTaskFirstAndItsHistoryUnderIt() {
        let tasks = [
            task("faapm76m2wgd0000000000000", slot: 1, node: "swarm01", desired: "shutdown", state: "failed", since: 180,
                 error: "task: non-zero exit (137)", created: 600),
            task("lmeet488s78q0000000000000", slot: 1, node: "swarm02", desired: "running", state: "running", since: 120,
                 created: 170),
            task("zzzz00000000000000000000a", slot: 2, node: "swarm01", desired: "running", state: "pending", since: 0.2,
                 error: "no suitable node (scheduling constraints not satisfied on 3 nodes)", created: 1),
        ]
        let rows = TaskFormatting.rows(tasks, now: now)
        #expect(rows[0] == ["lmeet488s78q", "web.1", "shoal whoami", "swarm02", "Running", "Running 2 minutes ago", "", ""])
        #expect(rows[1] == ["faapm76m2wgd", " \\_ web.1", "shoal whoami", "swarm01", "Shutdown", "Failed 3 minutes ago",
                            "\"task: non-zero exit (137)\"", ""])
        #expect(rows[2][5] == "Pending less than a second ago")
        #expect(rows[2][6] == "\"no suitable node (scheduling …\"", "ERROR is cut to 30 characters")
    }

    @Test func progressRowsDrawDockersBar() {
        let running = TaskFormatting.progressRow(label: "1/3", state: "running", error: "", bar: true)
        #expect(running == "1/3: running   [" + String(repeating: "=", count: 50) + ">]")
        let starting = TaskFormatting.progressRow(label: "2/3", state: "starting", error: "", bar: true)
        #expect(starting.hasPrefix("2/3: starting  [" + String(repeating: "=", count: 44) + ">      ]"))
        #expect(TaskFormatting.progressRow(label: "3/3", state: "pending", error: "no suitable node", bar: true)
            == "3/3: no suitable node")
        #expect(TaskFormatting.progressRow(label: "1/1", state: "running", error: "", bar: false) == "1/1: running  ")
    }

    @Test func logLinesArePrefixedWithTaskAndNodePadded() {
        let lines = [LogsResponse.Line(task: "web.1.abc", node: "lab-2", text: "hello"),
                     LogsResponse.Line(task: "web.10.abc", node: "lab-3", text: "there")]
        #expect(TaskFormatting.logLines(lines, raw: false) == ["web.1.abc@lab-2     | hello", "web.10.abc@lab-3    | there"])
        #expect(TaskFormatting.logLines(lines, raw: true) == ["hello", "there"])
    }
}
