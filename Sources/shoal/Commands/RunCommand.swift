#if canImport(Glibc)
import Glibc
#endif
import Agent
import ArgumentParser
import FoundationEssentials
import ShoalAPI

/// `shoal run`, as `docker run --rm --network NET`: the daemon makes a one-off
/// (a service of one task on this node, on NET, whose name resolves to it);
/// once its task runs, the command runs inside it as `shoal exec` runs one
/// (`shoal task-exec`), and the one-off is removed when the command ends or a
/// signal ends `shoal run`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a one-off command on this node, attached to an overlay network",
        usage: "shoal run [OPTIONS] --network NETWORK [--] COMMAND [ARG...]",
        discussion: """
            The command runs in a task of its own on this node, attached to NETWORK (an overlay network created with \
            --attachable), with the swarm's DNS: services resolve by name, and so does the one-off (--name). \
            The one-off is a service, shown by shoal service ls with the label \(OneOff.nodeLabel); it is always removed \
            when the command ends (--rm is accepted for docker's habit). If shoal run was killed, remove it with \
            shoal service rm NAME.
            """)

    @Flag(help: "Remove the one-off when it exits (always done)") var rm = false
    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY") var tty = false
    @Option(name: .shortAndLong, help: "Set environment variables (KEY=VALUE)") var env: [String] = []
    @Option(help: "Assign a name to the one-off (default: a generated one)") var name: String?
    @Option(help: "Connect the one-off to an attachable overlay network (required)", completion: NameCompletion.networks)
    var network: String?
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    /// The command without the `--` that may come before it.
    var commandLine: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    /// What ends `shoal run` early (the one-off is removed first); passed on to the command while it runs.
    static let endingSignals = [SIGINT, SIGTERM, SIGHUP]

    func validate() throws {
        // The command's arguments are captured as they are: `--help` before any command is shoal run's own.
        if ["--help", "-h"].contains(command.first) { throw CleanExit.helpRequest(self) }
        if network == nil {
            throw ValidationError("shoal run needs --network NETWORK: a one-off reaches the swarm's DNS on an attachable overlay network")
        }
        if commandLine.isEmpty { throw ValidationError("\"shoal run\" requires at least 1 argument") }
    }

    func run() throws {
        // Blocked before anything else: they are taken in turn by `nextSignal`, never by a handler.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in Self.endingSignals + [SIGCHLD] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        if tty && interactive && isatty(0) == 0 {
            throw ShoalError("the input device is not a TTY", hint: "leave out -t, or run shoal run from a terminal")
        }
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let oneOff: OneOffCreated = try client.post(OneOff.createPath, OneOffRequest(name: name, network: network ?? "", env: env))
        let status: Int32
        do {
            let target = try waitUntilRunning(oneOff, client: client, signals: signals)
            status = try runCommand(in: target, signals: signals)
        } catch {
            remove(oneOff, client: client)
            throw error
        }
        remove(oneOff, client: client)
        throw ExitCode(status)
    }

    /// The one-off's task once it runs on this node; a signal or a task that cannot start ends the wait.
    private func waitUntilRunning(_ oneOff: OneOffCreated, client: APIClient, signals: sigset_t) throws -> ExecTarget {
        let task = "\(oneOff.name).1"
        let deadline = Monotonic.now + OneOff.startTimeoutSeconds
        var lastWord = "it is not running yet"
        while Monotonic.now < deadline {
            let response = try client.send("GET", RequestTarget(path: "/tasks/exec", query: ["task": task]).encoded)
            if response.status == 200 {
                return try JSONDecoder().decode(ExecTarget.self, from: Data(response.body))
            }
            if let error = try? JSONDecoder().decode(APIErrorBody.self, from: Data(response.body)) { lastWord = error.message }
            // A manager reads the store: a task that has ended will not run.
            if let tasks: [TaskSummary] = try? client.get("/tasks", query: ["service": oneOff.id]),
               let ended = tasks.first(where: \.hasEnded) {
                let reason = ended.error.isEmpty ? ended.message : ended.error
                throw ShoalError("one-off \(oneOff.name) could not start: its task is \(ended.state) (\(reason))",
                                 hint: "check the network and the node with shoal network inspect and shoal node ps")
            }
            if let signal = Self.nextSignal(signals, waitingSeconds: 0.2), Self.endingSignals.contains(signal) {
                throw ExitCode(128 + signal)
            }
        }
        throw ShoalError("one-off \(oneOff.name) did not start on this node within \(Int(OneOff.startTimeoutSeconds)) s (\(lastWord))",
                         hint: "see shoal service ps \(oneOff.name)")
    }

    /// Runs the command in the task as `shoal exec` does, passing on the signals sent to `shoal run`; its exit status.
    private func runCommand(in target: ExecTarget, signals: sigset_t) throws -> Int32 {
        let command = OneOff.command(commandLine, environment: target.env, executable: try DaemonLauncher.currentExecutable(),
                                     isExecutable: { access($0, X_OK) == 0 })
        let options = try TaskExec.Options(target, tty: tty, attachStdin: interactive, command: command)
        let argv = (["shoal"] + options.arguments).map { strdup($0) } + [nil]
        let envp = TaskExec.environment(target.env, tty: tty).map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/proc/self/exe", nil, &attributes, argv, envp)
        guard spawned == 0 else {
            throw ShoalError("cannot run shoal task-exec: \(String(cString: strerror(spawned)))", hint: "check /proc is mounted",
                             exitCode: TaskExec.cannotRunStatus)
        }
        while true {
            var status: Int32 = 0
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { return OneOff.exitStatus(waitStatus: status) }
            if waited < 0 && errno != EINTR { return TaskExec.cannotRunStatus }
            // A terminal's ^C reaches the command itself (same process group): only a kill(2) is passed on.
            if let signal = Self.nextSignal(signals, waitingSeconds: 1, sentByAProcess: true), Self.endingSignals.contains(signal) {
                kill(pid, signal)
            }
        }
    }

    /// Removes the one-off; a failure is said, not fatal (the command's status stands).
    private func remove(_ oneOff: OneOffCreated, client: APIClient) {
        do {
            let _: MessageResponse = try client.post(OneOff.removePath, ServiceReferenceRequest(service: oneOff.id))
        } catch {
            writeToStandardError("shoal: cannot remove one-off \(oneOff.name) (\(error)): remove it with shoal service rm \(oneOff.name)\n")
        }
    }

    /// The next of the blocked `signals` that arrives within `waitingSeconds`; with `sentByAProcess`, one from the
    /// terminal (the kernel's) is taken but not returned.
    private static func nextSignal(_ signals: sigset_t, waitingSeconds: Double, sentByAProcess: Bool = false) -> Int32? {
        var signals = signals
        var info = siginfo_t()
        var timeout = timespec(tv_sec: Int(waitingSeconds), tv_nsec: Int((waitingSeconds - waitingSeconds.rounded(.down)) * 1e9))
        let signal = sigtimedwait(&signals, &info, &timeout)
        guard signal > 0 else { return nil }
        if sentByAProcess && info.si_code > 0 { return nil }
        return signal
    }
}
