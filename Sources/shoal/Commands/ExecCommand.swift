#if canImport(Glibc)
import Glibc
#endif
import Agent
import ArgumentParser
import ShoalAPI

/// `shoal exec`, as docker exec: the daemon says where the task is; this
/// process then becomes `shoal task-exec`, which enters the task's namespaces.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Execute a command in a running task",
        usage: "shoal exec [OPTIONS] TASK [--] COMMAND [ARG...]",
        discussion: "TASK is a task id (a unique prefix is enough), its full name, or SERVICE.SLOT, e.g. web.1. The task must run on the node of the daemon asked (-H).")

    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY") var tty = false
    @Argument(help: "The task.", completion: NameCompletion.tasks) var task: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    /// The command without the `--` that may separate it from the task.
    var commandLine: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        if commandLine.isEmpty { throw ValidationError("\"shoal exec\" requires at least 2 arguments") }
    }

    func run() throws {
        try TaskReference.validate(task)
        if tty && interactive && isatty(0) == 0 {
            throw ShoalError("the input device is not a TTY", hint: "leave out -t, or run shoal exec from a terminal")
        }
        let target: ExecTarget = try SwarmClient.daemon(startingIfNeeded: false).get("/tasks/exec", query: ["task": task])
        let options = try TaskExec.Options(target, tty: tty, attachStdin: interactive, command: commandLine)
        let argv = (["shoal"] + options.arguments).map { strdup($0) } + [nil]
        let envp = TaskExec.environment(target.env, tty: tty).map { strdup($0) } + [nil]
        execve("/proc/self/exe", argv, envp)
        throw ShoalError("cannot run shoal task-exec: \(String(cString: strerror(errno)))", hint: "check /proc is mounted",
                         exitCode: TaskExec.cannotRunStatus)
    }
}
