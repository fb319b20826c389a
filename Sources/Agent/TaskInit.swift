#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem

/// `shoal task-init --hostname H --program PATH [--workdir D] -- CMD [ARGS…]`: what the agent
/// runs for every task (hidden from help). It runs before anything else in
/// the process, while it has one thread, because it unshares namespaces.
public enum TaskInit {
    public static let commandName = "task-init"

    /// The exit status of a task-init that could not start its task.
    public static let failureStatus: Int32 = 125

    /// Returns only when the task could not be started, with why (the
    /// caller exits `failureStatus`); otherwise the task's program replaces this process.
    public static func start(_ arguments: [String]) -> String {
        var hostname: String?
        var workdir: String?
        var program: String?
        var rest = arguments[...]
        while let option = rest.first, option != "--" {
            rest = rest.dropFirst()
            guard let value = rest.first else { return "\(option) needs a value" }
            rest = rest.dropFirst()
            switch option {
            case "--hostname": hostname = value
            case "--workdir": workdir = value
            case "--program": program = value
            default: return "unknown option \(option)"
            }
        }
        let command = Array(rest.dropFirst())
        guard let hostname, let program, !command.isEmpty else {
            return "usage: shoal task-init --hostname H --program PATH [--workdir D] -- CMD [ARGS…]"
        }
        let argv = command.map { strdup($0) } + [nil]
        var error = [CChar](repeating: 0, count: 256)
        if let workdir {
            _ = shoal_task_init(hostname, program, workdir, argv, environ, 3, 4, &error, Int32(error.count))
        } else {
            _ = shoal_task_init(hostname, program, nil, argv, environ, 3, 4, &error, Int32(error.count))
        }
        return String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
