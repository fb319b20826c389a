#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem
import ShoalAPI

/// `shoal task-exec --pid P --net-inode I --name N [--workdir D] [--tty] [--stdin] [--cgroup DIR]… [CONFINEMENT] -- CMD [ARGS…]`:
/// what `shoal exec` becomes once the daemon has said where the task is
/// (hidden from help). It joins the task's namespaces, which needs a process
/// with one thread, so `Main` dispatches it before anything else runs. Its
/// environment is the task's: the CLI passes it to execve. The command is
/// confined as the task (`Confinement`'s options; docker's default when left out)
/// and joins the task's cgroups first, so the task's limits hold it as well.
public enum TaskExec {
    public static let commandName = "task-exec"

    /// docker's status when the command could not be run at all.
    public static let cannotRunStatus: Int32 = 126

    public struct Options: Equatable, Sendable {
        public var pid: Int32
        public var netNamespaceInode: UInt64
        /// `<service>.<slot>`, for messages.
        public var name: String
        public var workdir: String?
        public var tty: Bool
        public var attachStdin: Bool
        public var confinement: Confinement
        public var cgroups: [String]
        public var command: [String]

        public init(pid: Int32, netNamespaceInode: UInt64, name: String, workdir: String?, tty: Bool, attachStdin: Bool,
                    confinement: Confinement = .standard, cgroups: [String] = [], command: [String]) {
            self.pid = pid
            self.netNamespaceInode = netNamespaceInode
            self.name = name
            self.workdir = workdir
            self.tty = tty
            self.attachStdin = attachStdin
            self.confinement = confinement
            self.cgroups = cgroups
            self.command = command
        }

        /// What `shoal exec` runs in `target`; a confinement the daemon could not have stored is the error.
        public init(_ target: ExecTarget, tty: Bool, attachStdin: Bool, command: [String]) throws(ShoalError) {
            self.init(pid: target.pid, netNamespaceInode: target.netNamespaceInode, name: target.name, workdir: target.workdir,
                      tty: tty, attachStdin: attachStdin,
                      confinement: try Confinement(capabilityAdd: target.capabilityAdd, capabilityDrop: target.capabilityDrop,
                                               securityOptions: target.securityOptions, user: target.user),
                      cgroups: target.cgroups ?? [], command: command)
        }

        /// The command line after `shoal`: what `parse` reads back.
        public var arguments: [String] {
            var arguments = [TaskExec.commandName, "--pid", String(pid), "--net-inode", String(netNamespaceInode), "--name", name]
            if let workdir { arguments += ["--workdir", workdir] }
            if tty { arguments.append("--tty") }
            if attachStdin { arguments.append("--stdin") }
            for cgroup in cgroups { arguments += ["--cgroup", cgroup] }
            return arguments + confinement.arguments + ["--"] + command
        }

        /// The options after `task-exec`, or why they are not.
        public static func parse(_ arguments: [String]) -> Result<Options, ShoalError> {
            var values: [String: String] = [:]
            var (tty, attachStdin) = (false, false)
            var confinement = Confinement.standard
            var cgroups: [String] = []
            var rest = arguments[...]
            while let option = rest.first, option != "--" {
                rest = rest.dropFirst()
                switch option {
                case "--tty": tty = true
                case "--stdin": attachStdin = true
                case "--cgroup":
                    guard let value = rest.first, value.hasPrefix("/") else { return .failure(ShoalError("task-exec: --cgroup needs a directory")) }
                    cgroups.append(value)
                    rest = rest.dropFirst()
                case "--pid", "--net-inode", "--name", "--workdir":
                    guard let value = rest.first else { return .failure(ShoalError("task-exec: \(option) needs a value")) }
                    values[option] = value
                    rest = rest.dropFirst()
                default:
                    guard let value = rest.first else { return .failure(ShoalError("task-exec: \(option) needs a value")) }
                    do {
                        guard try confinement.read(option, value) else { return .failure(ShoalError("task-exec: unknown option \(option)")) }
                    } catch {
                        return .failure(ShoalError("task-exec: \(error.message)"))
                    }
                    rest = rest.dropFirst()
                }
            }
            let command = Array(rest.dropFirst())
            guard let pid = values["--pid"].flatMap({ Int32($0) }), pid > 0,
                  let inode = values["--net-inode"].flatMap({ UInt64($0) }), let name = values["--name"],
                  !command.isEmpty else {
                return .failure(ShoalError("usage: shoal task-exec --pid P --net-inode I --name N [--workdir D] [--tty] [--stdin] -- CMD [ARGS…]"))
            }
            return .success(Options(pid: pid, netNamespaceInode: inode, name: name, workdir: values["--workdir"],
                                    tty: tty, attachStdin: attachStdin, confinement: confinement, cgroups: cgroups, command: command))
        }
    }

    /// The exec'd command's environment: the task's, with a TERM under `-t` when the task has none (as docker exec gives).
    public static func environment(_ taskEnvironment: [String], tty: Bool) -> [String] {
        guard tty, !taskEnvironment.contains(where: { $0.hasPrefix("TERM=") }) else { return taskEnvironment }
        return taskEnvironment + ["TERM=xterm"]
    }

    /// Runs the command in the task; its exit status, or why it could not run (with the status to exit with).
    public static func run(_ arguments: [String]) -> Result<Int32, ShoalError> {
        switch Options.parse(arguments) {
        case .failure(let error): .failure(ShoalError(error.message, exitCode: cannotRunStatus))
        case .success(let options): run(options)
        }
    }

    public static func run(_ options: Options) -> Result<Int32, ShoalError> {
        // A cgroup the task no longer has went with the task (it stopped): shoal_task_exec says so below.
        for cgroup in options.cgroups where !CgroupTree.join(cgroup) && errno != ENOENT {
            return .failure(ShoalError("cannot join task \(options.name)'s cgroup \(cgroup): \(String(cString: strerror(errno)))",
                                       exitCode: cannotRunStatus))
        }
        let argv = options.command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var error = [CChar](repeating: 0, count: 256)
        var confinement = options.confinement.system
        let code = shoal_task_exec(options.pid, options.netNamespaceInode, options.workdir, options.tty ? 1 : 0,
                                   options.attachStdin ? 1 : 0, argv, &confinement, &error, Int32(error.count))
        switch code {
        case SHOAL_TASK_EXEC_STOPPED:
            return .failure(ShoalError("task \(options.name) has stopped", hint: "see shoal service ps"))
        case ..<0:
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(ShoalError("cannot exec in task \(options.name): \(reason)", hint: "check that it still runs",
                                       exitCode: cannotRunStatus))
        default:
            return .success(code)
        }
    }
}
