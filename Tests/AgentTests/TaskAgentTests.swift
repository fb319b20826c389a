#if canImport(Glibc)
import Glibc
#endif
import Addressing
import ClusterStore
import ClusterWire
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import Netlink
import ShoalAPI
import Testing
@testable import Agent

/// A real agent (root): tasks start through the built `shoal task-init`, in a
/// network namespace the test makes, so the node's bridge never touches the host.
@Suite(.serialized) struct TaskAgentTests {
    private let directory: String
    private let namespace: String
    private let agent: TaskAgent
    private let shoalBinary: String
    private let reports = NIOLockedValueBox<[String: TaskStatus]>([:])

    init() async throws {
        directory = "/tmp/shoal-agent-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectory(directory, mode: 0o700)
        namespace = "\(directory)/netns"
        try Namespace.create(.network, at: namespace)
        // The test binary sits beside the package's products.
        let testBinary = CommandLine.arguments[0]
        let shoal = String(testBinary[..<(testBinary.lastIndex(of: "/") ?? testBinary.startIndex)]) + "/shoal"
        #expect(access(shoal, X_OK) == 0, "the shoal binary is built beside the tests at \(shoal)")
        shoalBinary = shoal
        agent = try TaskAgent(dataDirectory: directory, executable: shoal, networkNamespace: namespace,
                              coveredPaths: [directory], logger: Logger(label: "agent-test"))
        let reports = self.reports
        await agent.setReporter { batch in reports.withLockedValue { for r in batch { $0[r.taskID] = r.status } } }
    }

    /// network inspect on a worker shows what the managers sent, and only names a manager could have sent.
    @Test func networkInspectHereListsOnlyWellFormedPeers() async throws {
        let subnet = try #require(IPv4Network("172.30.0.0/24"))
        let network = ClusterProtocol.Network(id: Self.validID("n-internal"), name: "internal", vni: 4097, subnet: subnet,
                                              gateway: subnet.host(1), labels: ["team": "a"])
        let (good, bad) = (IPv4Address(0x0a00_0001), IPv4Address(0x0a00_0002))
        await agent.apply(ClusterProtocol.Assignments(
            tasks: [], retained: [], networks: [network],
            endpoints: [.init(networkID: network.id, address: subnet.host(5), vtep: good),
                        .init(networkID: network.id, address: subnet.host(6), vtep: bad)],
            peers: [.init(name: "w1", vtep: good), .init(name: "evil name\n", vtep: bad)]))
        let detail = try await agent.networkDetail("internal")
        #expect(detail.peers?.map(\.name) == ["w1"])
        #expect(detail.labels == ["team": "a"] && detail.containers == nil)
        await #expect(throws: SwarmError.self) { try await agent.networkDetail("other") }
        await cleanUp()
    }

    private func cleanUp() async {
        await agent.apply([], retained: [])
        await agent.shutdown()
        try? Namespace.remove(at: namespace)
        FileSystem.removeTree(directory)
    }

    /// A valid task id for a readable name ("t-exit" → "texitzzz…"); the start
    /// differs between names, as the task's link name is made of it.
    private static func validID(_ name: String) -> String {
        if ObjectID.isValid(name) { return name }
        let kept = String(name.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(ObjectID.length))
        return kept + String(repeating: "z", count: ObjectID.length - kept.count)
    }

    private func task(_ id: String, _ command: [String], env: [String] = [], resources: Resources = Resources()) -> TaskObject {
        TaskObject(meta: ObjectMeta(id: Self.validID(id)), serviceID: "s", serviceName: "svc", slot: 1, nodeID: "n",
                   spec: TaskSpec(command: command, env: env, resources: resources), generation: 1,
                   status: TaskStatus(state: .assigned, timestamp: Date()))
    }

    /// Generous: the CPU-bound Raft simulations running beside this suite can hold every cooperative thread for a while.
    private func waitFor(_ name: String, _ state: TaskState, seconds: Double = 120) async -> TaskStatus? {
        let id = Self.validID(name)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let status = reports.withLockedValue({ $0[id] }), status.state == state { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("task \(id) never reached \(state); last: \(String(describing: reports.withLockedValue { $0[id] }))")
        return nil
    }

    @Test func aTaskRunsInNamespacesOfItsOwnWithItsShortIDAsHostname() async throws {
        let id = "abcdefghijkl0123456789xyz"
        let script = "hostname; echo pid=$$; grep -c eth0 /proc/net/dev; echo \"$GREETING\""
        await agent.apply([task(id, ["sh", "-c", script], env: ["GREETING=hi there"])], retained: [id])
        let status = await waitFor(id, .complete)
        #expect(status?.exitCode == 0)
        let lines = await agent.logs(of: id, from: 0, tail: nil).lines
        #expect(lines == ["abcdefghijkl", "pid=2", "1", "hi there"])
        #expect(await agent.logs(of: id, from: 0, tail: 1).lines == ["hi there"])
        await cleanUp()
    }

    @Test func aNonZeroExitIsAFailureWithDockersError() async throws {
        await agent.apply([task("t-exit", ["sh", "-c", "exit 3"])], retained: [])
        let status = await waitFor("t-exit", .failed)
        #expect(status?.error == "task: non-zero exit (3)")
        await agent.apply([task("t-kill", ["sh", "-c", "kill -9 $$"])], retained: [])
        #expect(await waitFor("t-kill", .failed)?.error == "task: non-zero exit (137)")
        await cleanUp()
    }

    @Test func aTaskOverItsMemoryLimitIsOOMKilledAndSaysSo() async throws {
        let limits = Resources(limitMemoryBytes: 32 << 20)
        // tail keeps a line it has not ended: 64 MiB of zeros are one line.
        await agent.apply([task("t-oom", ["sh", "-c", "head -c 64M /dev/zero | tail"], resources: limits)], retained: [])
        let status = await waitFor("t-oom", .failed)
        #expect(status?.error == "task: non-zero exit (137): OOMKilled")
        #expect(status?.oomKilled == true)
        await cleanUp()
    }

    @Test func aTaskRunsInACgroupOfItsOwnWithItsLimitsThatGoesWithIt() async throws {
        let id = Self.validID("t-cgroup")
        let limits = Resources(limitNanoCPUs: 500_000_000, limitPids: 20)
        await agent.apply([task(id, ["sh", "-c", "cat /proc/self/cgroup; sleep 100"], resources: limits)], retained: [id])
        _ = await waitFor(id, .running)
        let tree = try #require(CgroupTree.detect(dataDirectory: directory))
        #expect(tree.taskIDs() == [id])
        let pidsLimit = tree.layout.settings(of: id, for: limits).first { $0.file.hasSuffix("pids.max") }
        #expect(pidsLimit.map { String(decoding: FileSystem.read($0.file) ?? [], as: UTF8.self).hasPrefix("20") } == true)
        let deadline = ContinuousClock.now + .seconds(20)
        var lines: [String] = []
        while lines.isEmpty && ContinuousClock.now < deadline {
            lines = await agent.logs(of: id, from: 0, tail: nil).lines
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(lines.contains { $0.hasSuffix("/\(tree.layout.parent)/\(id)") }, "the task's own processes are in it: \(lines)")
        await agent.apply([], retained: [])
        _ = await waitFor(id, .shutdown)
        while !tree.taskIDs().isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(tree.taskIDs().isEmpty, "removed with the task")
        await cleanUp()
    }

    @Test func aTaskTheManagersDropIsStoppedAndItsProcessesAreGone() async throws {
        await agent.apply([task("t-sleep", ["sh", "-c", "sleep 100 & exec sleep 100"])], retained: [])
        let running = await waitFor("t-sleep", .running)
        #expect(running?.address?.hasPrefix("172.") == true || running?.address?.hasPrefix("10.") == true)
        var stopped = task("t-sleep", ["sleep", "100"])
        stopped.desiredState = .shutdown
        await agent.apply([stopped], retained: [])
        #expect(await waitFor("t-sleep", .shutdown) != nil)
        #expect(!processExists(mentioning: "sleep 100"), "the background sleep died with the task's PID namespace")
        await cleanUp()
    }

    @Test func aStopRightAfterTheStartIsNotLost() async throws {
        // SIGTERM reaching a task's init before it can forward it must still end the command, well inside the grace period.
        let ids = (0..<30).map { "t-quick-\($0)" }
        await agent.apply(ids.map { task($0, ["sleep", "100"]) }, retained: [])
        let stopping = ContinuousClock.now  // most are still in their namespace handshake
        await agent.apply(ids.map { id in
            var stopped = task(id, ["sleep", "100"])
            stopped.desiredState = .shutdown
            return stopped
        }, retained: [])
        for id in ids { #expect(await waitFor(id, .shutdown) != nil) }
        // A SIGKILL comes only once the grace period is over: anything sooner was SIGTERM, however busy the machine.
        #expect(ContinuousClock.now - stopping < TaskAgent.stopGracePeriod, "SIGTERM did it, not the SIGKILL after the grace period")
        #expect(!processExists(mentioning: "sleep 100"), "no task outlives its stop")
        await cleanUp()
    }

    @Test func aCommandThatIsNotThereIsRejected() async throws {
        await agent.apply([task("t-none", ["no-such-program-here"])], retained: [])
        #expect(await waitFor("t-none", .rejected)?.error == "task: exec \"no-such-program-here\": executable file not found in $PATH")
        await cleanUp()
    }

    @Test func offsetsAndTailsFromAnywhereAreClampedNotTrappedOn() async throws {
        let id = "abcdefghijkl0123456789xyz"
        try FileSystem.makeDirectory("\(directory)/tasks/\(id)", mode: 0o700)
        RotatingLogWriter.write(["one", "two", "three"], to: "\(directory)/tasks/\(id)/output.log", limits: .standard)
        #expect(await agent.logs(of: id, from: -1, tail: nil) == TaskOutput(lines: ["one", "two", "three"], next: 14, more: false))
        #expect(await agent.logs(of: id, from: Int.min, tail: nil).lines == ["one", "two", "three"])
        #expect(await agent.logs(of: id, from: Int.max, tail: nil) == TaskOutput(lines: [], next: 14, more: false))
        #expect(await agent.logs(of: id, from: 0, tail: -1).lines == [])
        #expect(await agent.logs(of: id, from: 0, tail: Int.min).lines == [])
        #expect(await agent.logs(of: id, from: 0, tail: Int.max).lines == ["one", "two", "three"])
        #expect(await agent.logs(of: id, from: Int.max, tail: 2) == TaskOutput(lines: ["two", "three"], next: 14, more: false))
        #expect(await agent.logs(of: "abcdefghijkl0123456789xyq", from: 5, tail: nil) == TaskOutput(lines: [], next: 0, more: false))
        await cleanUp()
    }

    @Test func idsThatAreNotIdsNeverReachTheFileSystem() async throws {
        for bad in ["../../../../tmp/escape", "..", "", "t-exit", String(repeating: "a", count: 26)] {
            #expect(await agent.logs(of: bad, from: 0, tail: nil).lines.isEmpty)
            var assigned = task("placeholder", ["true"])
            assigned.meta.id = bad
            await agent.apply([assigned], retained: [bad])
        }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(FileSystem.list("\(directory)/tasks").isEmpty, "no directory made for an invalid id")
        #expect(reports.withLockedValue { $0.isEmpty }, "and nothing started")
        await cleanUp()
    }

    @Test func logsAreReadInBoundedPiecesAcrossRotations() async throws {
        let id = "abcdefghijkl0123456789xyz"
        try FileSystem.makeDirectory("\(directory)/tasks/\(id)", mode: 0o700)
        let path = "\(directory)/tasks/\(id)/output.log"
        // 1.5 pieces of output in files of 256 KiB: the oldest rotate away, the rest reads in order.
        let line = String(repeating: "x", count: 1000)
        let count = TaskAgent.logChunkBytes * 3 / 2 / 1005
        RotatingLogWriter.write((0..<count).map { fourDigits($0) + " " + line }, to: path,
                                limits: .init(maximumBytes: 256 << 10, maximumFiles: 5))
        var offset = 0
        var read: [String] = []
        var pieces = 0
        while true {
            let piece = await agent.logs(of: id, from: offset, tail: nil)
            read += piece.lines
            offset = piece.next
            pieces += 1
            if !piece.more { break }
        }
        #expect(pieces == 2, "a piece is at most \(TaskAgent.logChunkBytes) bytes")
        let first = try #require(read.first.flatMap { Int($0.prefix(4)) })
        #expect(first > 0, "the oldest output rotated away")
        #expect(read.map { Int($0.prefix(4)) ?? -1 } == Array(first..<count), "every kept line once, in order")
        #expect(FileSystem.list("\(directory)/tasks/\(id)").filter { $0.hasPrefix("output.log") }.count <= 6)
        await cleanUp()
    }

    @Test func aTasksOutputRotatesAtItsLimit() async throws {
        let limited = try TaskAgent(dataDirectory: directory + "/limited", executable: shoalBinary, networkNamespace: namespace,
                                    outputLimits: .init(maximumBytes: 4096, maximumFiles: 2), logger: Logger(label: "agent-test"))
        let reports = self.reports
        await limited.setReporter { batch in reports.withLockedValue { for r in batch { $0[r.taskID] = r.status } } }
        await limited.apply([task("chatty", ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done"])],
                            retained: [Self.validID("chatty")])
        #expect(await waitFor("chatty", .complete) != nil)
        let folder = "\(directory)/limited/tasks/\(Self.validID("chatty"))"
        // The last output is copied after the exit is seen: on a busy machine, a while after.
        func outputFiles() -> [String] { FileSystem.list(folder).filter { $0.hasPrefix("output.log") && $0 != "output.log.start" }.sorted() }
        let deadline = ContinuousClock.now + .seconds(10)
        while outputFiles() != ["output.log", "output.log.1"], ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        #expect(outputFiles() == ["output.log", "output.log.1"])
        #expect(await limited.logs(of: Self.validID("chatty"), from: 0, tail: 1).lines == ["line 1999"])
        await limited.apply([], retained: [])
        await limited.shutdown()
        await cleanUp()
    }

    @Test func taskExecRunsACommandInsideARunningTask() async throws {
        let id = Self.validID("t-exec")
        await agent.apply([task(id, ["sleep", "100"])], retained: [])
        _ = await waitFor(id, .running)
        let target = try await agent.execTarget("svc.1")
        #expect(target.taskID == id && target.name == "svc.1")
        #expect(try await agent.execTarget(String(id.prefix(5))).taskID == id)

        #expect(run(target, ["hostname"]) == (0, "\(id.prefix(12))\n"))
        let taskPIDNamespace = readLink("/proc/\(target.pid)/ns/pid_for_children")
        #expect(run(target, ["readlink", "/proc/1/ns/pid"]) == (0, (taskPIDNamespace ?? "?") + "\n"), "/proc is the task's")
        #expect(run(target, ["cat", "/proc/2/comm"]) == (0, "sleep\n"), "the task's command is PID 2 in its namespace")
        #expect(run(target, ["sh", "-c", "echo $HOSTNAME; exit 3"]) == (3, "\(id.prefix(12))\n"))
        #expect(run(target, ["sh", "-c", "kill -9 $$"]).status == 137)
        #expect(run(target, ["no-such-command"]) == (127, "shoal: exec: \"no-such-command\": executable file not found in $PATH\n"))
        var reused = target
        reused.netNamespaceInode += 1
        #expect(run(reused, ["true"]) == (1, "shoal: task svc.1 has stopped: see shoal service ps\n"), "a reused pid is refused")

        var stopped = task(id, ["sleep", "100"])
        stopped.desiredState = .shutdown
        await agent.apply([stopped], retained: [])
        _ = await waitFor(id, .shutdown)
        await #expect(throws: SwarmError.self) { try await agent.execTarget("svc.1") }
        await cleanUp()
    }

    /// What /proc/self/status says of a task's confinement, its data dir as
    /// it sees it, and whether it may make a user namespace.
    private static let sandboxProbe = "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr '\\t' ' '; "
        + "ls -A \"$1\" | wc -l; touch \"$1/x\" 2>/dev/null || echo read-only; unshare -U true 2>/dev/null || echo no-unshare"

    private func confinementLines(_ capabilities: String, seccomp: Int, unshare: Bool) -> [String] {
        ["CapInh: 0000000000000000", "CapPrm: \(capabilities)", "CapEff: \(capabilities)", "CapBnd: \(capabilities)",
         "CapAmb: 0000000000000000", "NoNewPrivs: 1", "Seccomp: \(seccomp)", "0", "read-only"] + (unshare ? [] : ["no-unshare"])
    }

    @Test func aTaskAndWhatExecRunsInItAreConfinedAsDockerConfinesAContainer() async throws {
        let id = Self.validID("t-sandbox")
        var confined = task(id, ["sh", "-c", Self.sandboxProbe + "; exec sleep 100", "probe", directory])
        await agent.apply([confined], retained: [id])
        _ = await waitFor(id, .running)
        let expected = confinementLines("00000000a80425fb", seccomp: 2, unshare: false)
        let deadline = ContinuousClock.now + .seconds(30)
        while await agent.logs(of: id, from: 0, tail: nil).lines.count < expected.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await agent.logs(of: id, from: 0, tail: nil).lines == expected)
        let target = try await agent.execTarget(id)
        let probed = run(target, ["sh", "-c", Self.sandboxProbe, "probe", directory])
        #expect(probed.status == 0 && probed.output == expected.joined(separator: "\n") + "\n", "exec: \(probed.output)")

        // --cap-add SYS_ADMIN and --security-opt seccomp=unconfined change exactly that.
        let opened = Self.validID("t-opened")
        var spec = TaskSpec(command: ["sh", "-c", Self.sandboxProbe, "probe", directory], capabilityAdd: ["CAP_SYS_ADMIN"],
                            securityOptions: [SecurityOptions.seccompUnconfined])
        spec.env = []
        confined.desiredState = .shutdown
        let openedTask = TaskObject(meta: ObjectMeta(id: opened), serviceID: "s", serviceName: "svc", slot: 2, nodeID: "n",
                                    spec: spec, generation: 1, status: TaskStatus(state: .assigned, timestamp: Date()))
        await agent.apply([confined, openedTask], retained: [id, opened])
        _ = await waitFor(opened, .complete)
        #expect(await agent.logs(of: opened, from: 0, tail: nil).lines
                == confinementLines("00000000a82425fb", seccomp: 0, unshare: true))
        await cleanUp()
    }

    @Test func readOnlyMountsAndAUserAreTheTasks() async throws {
        let id = Self.validID("t-mounts")
        let shared = "\(directory)-shared"
        try FileSystem.makeDirectory(shared, mode: 0o755)
        defer { FileSystem.removeTree(shared) }
        let script = "id -u; id -g; grep ^CapEff: /proc/self/status | tr '\\t' ' '; touch /etc/shoal-probe 2>/dev/null || echo root-read-only; "
            + "touch /tmp/x && echo tmp-writable; touch /mnt/x && echo tmpfs-writable; ls /media; "
            + "touch /media/y 2>/dev/null || echo bind-read-only"
        try FileSystem.writeAtomically("\(shared)/note", Array("from the node\n".utf8), mode: 0o644)
        var spec = TaskSpec(command: ["sh", "-c", script], readOnly: true,
                            mounts: ["type=tmpfs,target=/mnt,tmpfs-size=1m", "type=bind,source=\(shared),target=/media,readonly"],
                            user: "65534:65534")
        spec.env = []
        let mounted = TaskObject(meta: ObjectMeta(id: id), serviceID: "s", serviceName: "svc", slot: 1, nodeID: "n", spec: spec,
                                 generation: 1, status: TaskStatus(state: .assigned, timestamp: Date()))
        await agent.apply([mounted], retained: [id])
        _ = await waitFor(id, .complete)
        #expect(await agent.logs(of: id, from: 0, tail: nil).lines == [
            "65534", "65534", "CapEff: 0000000000000000", "root-read-only", "tmp-writable", "tmpfs-writable", "note",
            "bind-read-only",
        ])
        #expect(access("/etc/shoal-probe", F_OK) != 0)
        await cleanUp()
    }

    /// Runs `shoal task-exec` into `target` as `shoal exec` would (no tty, no stdin): its status and output.
    private func run(_ target: ExecTarget, _ command: [String]) -> (status: Int32, output: String) {
        guard let options = try? TaskExec.Options(target, tty: false, attachStdin: false, command: command) else {
            return (-1, "the target's confinement is not valid")
        }
        let arguments = ["shoal"] + options.arguments
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { return (-1, "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = target.env.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, shoalBinary, &actions, nil, argv, envp)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { return (-1, "spawn failed: \(spawned)") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = read(pipe[0], &buffer, buffer.count), count > 0 { output += buffer.prefix(count) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), String(decoding: output, as: UTF8.self))
    }

    private func processExists(mentioning text: String) -> Bool {
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            let found = FileSystem.list("/proc").contains { pid in
                guard pid.allSatisfy(\.isNumber), let bytes = FileSystem.read("/proc/\(pid)/cmdline") else { return false }
                let state = FileSystem.read("/proc/\(pid)/stat").map { String(decoding: $0, as: UTF8.self) } ?? ""
                return String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text) && !state.contains(") Z ")
            }
            if !found { return false }
            usleep(50_000)
        }
        return true
    }
}

/// Writes lines the way a task's output arrives: appended to a capped log.
private enum RotatingLogWriter {
    static func write(_ lines: [String], to path: String, limits: RotatingLog.Limits) {
        guard let log = try? RotatingLog(path: path, limits: limits) else {
            Issue.record("cannot open \(path)")
            return
        }
        for line in lines { log.append(Array((line + "\n").utf8)) }
    }
}

private func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    let count = readlink(path, &buffer, buffer.count)
    return count > 0 ? String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
}

/// Four digits, zero-padded.
private func fourDigits(_ value: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
