import ClusterStore
import FoundationEssentials
import ShoalAPI
import Testing
@testable import Agent

/// How `shoal exec` finds the task it is given, and what it hands `task-exec`.
struct TaskLookupTests {
    private static func task(_ id: String, slot: Int, _ state: TaskState, created: Double) -> TaskObject {
        TaskObject(meta: ObjectMeta(id: id, createdAt: Date(timeIntervalSince1970: created)), serviceID: "s", serviceName: "web",
                   slot: slot, nodeID: "n1", spec: TaskSpec(command: ["sleep", "9"]), generation: 1,
                   status: TaskStatus(state: state, timestamp: Date(timeIntervalSince1970: created)))
    }

    private let tasks = [
        task("aaaa1111", slot: 1, .complete, created: 1),
        task("aaaa2222", slot: 1, .running, created: 2),
        task("bbbb3333", slot: 1, .failed, created: 3),
        task("cccc4444", slot: 2, .shutdown, created: 4),
        task("cccc5555", slot: 2, .complete, created: 5),
    ]

    private func resolve(_ reference: String) -> String {
        switch TaskLookup.resolve(reference, in: tasks) {
        case .found(let task): task.meta.id
        case .ambiguous(let matches): "ambiguous \(matches)"
        case .notFound: "not found"
        }
    }

    @Test(arguments: [
        ("aaaa1111", "aaaa1111"),                 // an id, even of a task that ended
        ("web.1.bbbb3333", "bbbb3333"),           // the full name
        ("web.1", "aaaa2222"),                    // a slot: its running task, though a newer one failed
        ("web.2", "cccc5555"),                    // a slot with none running: its newest
        ("bbbb", "bbbb3333"),                     // a unique id prefix
        ("aaaa", "ambiguous 2"),
        ("web.3", "not found"),
        ("web", "not found"),                     // a service is not a task
        ("", "not found"),
    ])
    func referencesResolveAsDockerFindsContainers(reference: String, expected: String) {
        #expect(resolve(reference) == expected)
    }

    @Test func summariesFromTheStoreResolveTheSameWay() {
        let summaries = tasks.map { task in
            TaskSummary(id: task.meta.id, name: task.name, serviceID: "s", serviceName: "web", slot: task.slot, nodeID: "n1",
                        node: "lab-2", command: [], desiredState: "running", state: task.status.state.rawValue,
                        stateSince: task.status.timestamp, message: "", error: "", exitCode: nil, address: nil,
                        createdAt: task.meta.createdAt)
        }
        guard case .found(let task) = TaskLookup.resolve("web.1", in: summaries) else {
            Issue.record("web.1 not found")
            return
        }
        #expect(task.id == "aaaa2222")
        #expect(TaskLookup.notRunning(summaries[0], now: Date(timeIntervalSince1970: 4))
                == "task web.1 is not running (Complete 3 seconds ago)")
    }

    @Test(arguments: ["web.1", "abc", "web.1.abcdefghijklmnopqrstuvwxy", "my_svc-2.10"])
    func plainReferencesAreAccepted(reference: String) throws {
        try TaskReference.validate(reference)
    }

    @Test(arguments: ["", "web 1", "../etc", "web/1", "web.1\n", "é", String(repeating: "a", count: 257)])
    func otherReferencesAreRefusedInOneLine(reference: String) {
        #expect(throws: ShoalError.self) { try TaskReference.validate(reference) }
    }

    @Test func taskExecOptionsRoundTrip() {
        let options = TaskExec.Options(pid: 42, netNamespaceInode: 4026532000, name: "web.1", workdir: "/srv", tty: true,
                                       attachStdin: true, cgroups: ["/sys/fs/cgroup/memory/shoal/t1", "/sys/fs/cgroup/pids/shoal/t1"],
                                       command: ["sh", "-c", "echo --tty"])
        #expect(options.arguments == ["task-exec", "--pid", "42", "--net-inode", "4026532000", "--name", "web.1",
                                      "--workdir", "/srv", "--tty", "--stdin", "--cgroup", "/sys/fs/cgroup/memory/shoal/t1",
                                      "--cgroup", "/sys/fs/cgroup/pids/shoal/t1", "--", "sh", "-c", "echo --tty"])
        #expect(TaskExec.Options.parse(Array(options.arguments.dropFirst())) == .success(options))
        var plain = options
        (plain.workdir, plain.tty, plain.attachStdin, plain.cgroups) = (nil, false, false, [])
        #expect(TaskExec.Options.parse(Array(plain.arguments.dropFirst())) == .success(plain))
    }

    @Test(arguments: [
        ["--pid", "42", "--net-inode", "7", "--name", "web.1", "--"],                     // no command
        ["--pid", "0", "--net-inode", "7", "--name", "web.1", "--", "sh"],                // no such pid
        ["--pid", "x", "--net-inode", "7", "--name", "web.1", "--", "sh"],
        ["--pid", "42", "--name", "web.1", "--", "sh"],                                   // no inode
        ["--pid", "42", "--net-inode", "7", "--name", "web.1", "--bogus", "--", "sh"],
        ["--pid", "42", "--net-inode"],
        ["--pid", "42", "--net-inode", "7", "--name", "web.1", "--cgroup", "relative", "--", "sh"],  // a cgroup is a directory's path
    ])
    func taskExecRefusesIncompleteOptions(arguments: [String]) {
        guard case .failure = TaskExec.Options.parse(arguments) else {
            Issue.record("accepted \(arguments)")
            return
        }
    }
}
