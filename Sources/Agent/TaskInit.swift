#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem

/// `shoal task-init --hostname H --program PATH [--workdir D] -- CMD [ARGS…]`: what the agent
/// runs for every task (hidden from help). It runs before anything else in
/// the process, while it has one thread, because it unshares namespaces.
public enum TaskInit {
    public static let commandName = "task-init"

    /// Never returns: the process exits with the task's status.
    public static func main(_ arguments: [String]) -> Never {
        var hostname: String?
        var workdir: String?
        var program: String?
        var rest = arguments[...]
        while let option = rest.first, option != "--" {
            rest = rest.dropFirst()
            guard let value = rest.first else { fail("\(option) needs a value") }
            rest = rest.dropFirst()
            switch option {
            case "--hostname": hostname = value
            case "--workdir": workdir = value
            case "--program": program = value
            default: fail("unknown option \(option)")
            }
        }
        let command = Array(rest.dropFirst())
        guard let hostname, let program, !command.isEmpty else {
            fail("usage: shoal task-init --hostname H --program PATH [--workdir D] -- CMD [ARGS…]")
        }
        let argv = command.map { strdup($0) } + [nil]
        var error = [CChar](repeating: 0, count: 256)
        if let workdir {
            _ = shoal_task_init(hostname, program, workdir, argv, environ, 3, 4, &error, Int32(error.count))
        } else {
            _ = shoal_task_init(hostname, program, nil, argv, environ, 3, 4, &error, Int32(error.count))
        }
        fail(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    private static func fail(_ message: String) -> Never {
        let line = "shoal task-init: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(125)
    }
}
