#if canImport(Glibc)
import Glibc
#endif
import Lab
import ShoalAPI

/// The global `-H/--host` option: which daemon a command talks to.
enum HostOption {
    /// Takes `-H X`, `--host X` or `--host=X` from the front of the command
    /// line (before the command name, as docker has it) and exports it as
    /// SHOAL_HOST, so every command resolves its daemon the same way.
    static func extract(from arguments: inout [String]) throws {
        while let first = arguments.first, first.hasPrefix("-") {
            let value: String
            if first == "-H" || first == "--host" {
                guard arguments.count > 1 else {
                    throw ShoalError("\(first) needs a value", hint: "give a socket path, unix:// URL or lab node name")
                }
                value = arguments[1]
                arguments.removeFirst(2)
            } else if first.hasPrefix("--host=") {
                value = String(first.dropFirst("--host=".count))
                arguments.removeFirst()
            } else {
                return
            }
            setenv(Defaults.hostEnvironmentVariable, value, 1)
        }
    }

    /// The socket of the daemon chosen by SHOAL_HOST (or the default).
    static func socketPath() throws -> String {
        guard let raw = getenv(Defaults.hostEnvironmentVariable), raw.pointee != 0 else {
            return Defaults.socketPath
        }
        return try resolve(String(cString: raw))
    }

    static func resolve(_ host: String) throws -> String {
        if host.hasPrefix("unix://") { return String(host.dropFirst("unix://".count)) }
        if host.contains("://") {
            throw ShoalError("unsupported host \(host)", hint: "use a unix socket path, a unix:// URL or a lab node name")
        }
        if host.contains("/") { return host }
        guard let node = Lab.node(named: host) else {
            throw ShoalError("no lab node named '\(host)'", hint: "see 'shoal lab ls' for the nodes, or give a socket path")
        }
        return node.socketPath
    }

    static func client() throws -> APIClient { APIClient(socketPath: try socketPath()) }
}

/// Fails with a one-line error unless running as root.
func requireRoot(_ command: String) throws {
    guard geteuid() == 0 else {
        throw ShoalError("\(command) needs root", hint: "run it as root, e.g. with sudo")
    }
}
