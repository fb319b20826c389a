#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem
import ShoalAPI

/// `shoal task-init --hostname H --program PATH [OPTIONS] -- CMD [ARGS…]`:
/// what the agent runs for every task (hidden from help). It runs before
/// anything else in the process, while it has one thread, because it
/// unshares namespaces. Options: `--workdir D`; `--resolv-conf PATH` and
/// `--hostname-file PATH` (bound read-only over /etc/resolv.conf and
/// /etc/hostname); `--cover PATH` (repeatable: hidden under an empty
/// read-only tmpfs, or /dev/null for a file); `--read-only` (the node's tree
/// read-only, a writable /tmp); `--mount SPEC` (repeatable, docker's long
/// syntax); the confinement's `--user UID[:GID]`, `--capabilities 0xMASK` and
/// `--seccomp default|unconfined` (root, docker's default set and profile
/// when left out); `--cgroup DIR` (repeatable: joined first, so everything the
/// task runs is limited from its start).
public enum TaskInit {
    public static let commandName = "task-init"

    /// The exit status of a task-init that could not start its task.
    public static let failureStatus: Int32 = 125

    /// What the command line asks for.
    struct Options: Equatable {
        var hostname: String
        var program: String
        var workdir: String?
        var resolvConf: String?
        var hostnameFile: String?
        var covers: [String] = []
        var readOnly = false
        var mounts: [TaskMount] = []
        var confinement = Confinement.standard
        var cgroups: [String] = []
        var command: [String]

        static let usage = "usage: shoal task-init --hostname H --program PATH [--workdir D] [--resolv-conf PATH] "
            + "[--hostname-file PATH] [--cover PATH]… [--read-only] [--mount SPEC]… [--user UID[:GID]] [--capabilities 0xMASK] "
            + "[--seccomp default|unconfined] [--cgroup DIR]… -- CMD [ARGS…]"

        static func parse(_ arguments: [String]) throws(ShoalError) -> Options {
            var values: [String: String] = [:]
            var covers: [String] = []
            var readOnly = false
            var mounts: [TaskMount] = []
            var confinement = Confinement.standard
            var cgroups: [String] = []
            var rest = arguments[...]
            while let option = rest.first, option != "--" {
                rest = rest.dropFirst()
                if option == "--read-only" {
                    readOnly = true
                    continue
                }
                guard let value = rest.first else { throw ShoalError("\(option) needs a value") }
                rest = rest.dropFirst()
                switch option {
                case "--hostname", "--workdir", "--program", "--resolv-conf", "--hostname-file": values[option] = value
                case "--cover": covers.append(value)
                case "--mount": mounts.append(try TaskMount(parsing: value))
                case "--cgroup": cgroups.append(value)
                default:
                    guard try confinement.read(option, value) else { throw ShoalError("unknown option \(option)") }
                }
            }
            let command = Array(rest.dropFirst())
            guard let hostname = values["--hostname"], let program = values["--program"], !command.isEmpty else {
                throw ShoalError(usage)
            }
            return Options(hostname: hostname, program: program, workdir: values["--workdir"], resolvConf: values["--resolv-conf"],
                           hostnameFile: values["--hostname-file"], covers: covers, readOnly: readOnly, mounts: mounts,
                           confinement: confinement, cgroups: cgroups, command: command)
        }

        /// The command line after `shoal`: what `parse` reads back.
        var arguments: [String] {
            var arguments = [TaskInit.commandName, "--hostname", hostname, "--program", program]
            if let workdir { arguments += ["--workdir", workdir] }
            if let resolvConf { arguments += ["--resolv-conf", resolvConf] }
            if let hostnameFile { arguments += ["--hostname-file", hostnameFile] }
            for cover in covers { arguments += ["--cover", cover] }
            if readOnly { arguments.append("--read-only") }
            for mount in mounts { arguments += ["--mount", mount.text] }
            for cgroup in cgroups { arguments += ["--cgroup", cgroup] }
            return arguments + confinement.arguments + ["--"] + command
        }
    }

    /// Returns only when the task could not be started, with why (the
    /// caller exits `failureStatus`); otherwise the task's program replaces this process.
    public static func start(_ arguments: [String]) -> String {
        let options: Options
        do {
            options = try Options.parse(arguments)
        } catch {
            return error.message
        }
        for cgroup in options.cgroups {
            guard CgroupTree.join(cgroup) else { return "cannot join the task's cgroup \(cgroup): \(String(cString: strerror(errno)))" }
        }
        // Nothing here returns on success: the copies live until the program replaces this process.
        let argv = options.command.map { strdup($0) } + [nil]
        let covers: [UnsafePointer<CChar>?] = options.covers.map { UnsafePointer(strdup($0)) }
        let coverList = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(covers.count, 1))
        coverList.initialize(from: covers, count: covers.count)
        let mountList = UnsafeMutablePointer<shoal_mount>.allocate(capacity: max(options.mounts.count, 1))
        for (index, mount) in options.mounts.enumerated() {
            (mountList + index).initialize(to: shoal_mount(
                tmpfs: mount.kind == .tmpfs ? 1 : 0, source: mount.source.map { UnsafePointer(strdup($0)) },
                target: UnsafePointer(strdup(mount.target)), read_only: mount.readOnly ? 1 : 0,
                tmpfs_size: UInt64(mount.tmpfsSize ?? 0)))
        }
        var mounts = shoal_task_mounts(resolv_conf: options.resolvConf.map { UnsafePointer(strdup($0)) },
                                       hostname_file: options.hostnameFile.map { UnsafePointer(strdup($0)) },
                                       covers: UnsafePointer(coverList), cover_count: Int32(covers.count),
                                       read_only_root: options.readOnly ? 1 : 0, mounts: UnsafePointer(mountList),
                                       mount_count: Int32(options.mounts.count))
        var confinement = options.confinement.system
        var error = [CChar](repeating: 0, count: 512)
        _ = shoal_task_init(options.hostname, options.program, options.workdir, argv, environ, 3, 4, &mounts, &confinement,
                            &error, Int32(error.count))
        return String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
