#if canImport(Glibc)
import Glibc
#endif
import ClusterStore
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
        agent = try TaskAgent(dataDirectory: directory, executable: shoal, networkNamespace: namespace,
                              logger: Logger(label: "agent-test"))
        let reports = self.reports
        await agent.setReporter { batch in reports.withLockedValue { for r in batch { $0[r.taskID] = r.status } } }
    }

    private func cleanUp() async {
        await agent.apply([], retained: [])
        await agent.shutdown()
        try? Namespace.remove(at: namespace)
        FileSystem.removeTree(directory)
    }

    private func task(_ id: String, _ command: [String], env: [String] = []) -> TaskObject {
        TaskObject(meta: ObjectMeta(id: id), serviceID: "s", serviceName: "svc", slot: 1, nodeID: "n",
                   spec: TaskSpec(command: command, env: env), generation: 1,
                   status: TaskStatus(state: .assigned, timestamp: Date()))
    }

    /// Generous: the CPU-bound Raft simulations running beside this suite can hold every cooperative thread for a while.
    private func waitFor(_ id: String, _ state: TaskState, seconds: Double = 120) async -> TaskStatus? {
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
        let (lines, _) = await agent.logs(of: id, from: 0, tail: nil)
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
        #expect(ContinuousClock.now - stopping < TaskAgent.stopGracePeriod / 2, "SIGTERM did it, not the SIGKILL after the grace period")
        #expect(!processExists(mentioning: "sleep 100"), "no task outlives its stop")
        await cleanUp()
    }

    @Test func aCommandThatIsNotThereIsRejected() async throws {
        await agent.apply([task("t-none", ["no-such-program-here"])], retained: [])
        #expect(await waitFor("t-none", .rejected)?.error == "task: exec \"no-such-program-here\": executable file not found in $PATH")
        await cleanUp()
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
