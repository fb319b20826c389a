#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// Runs `body` inside the network namespace pinned at `path`, or right here for nil.
func inNetworkNamespace<T>(_ path: String?, _ body: () throws -> T) throws -> T {
    if let path { try Namespace.run(inNetworkNamespace: path, body) } else { try body() }
}

/// Turns IPv4 forwarding on in the calling thread's network namespace
/// (the sysctl belongs to the namespace of the thread that opens it).
func enableIPv4Forwarding() throws {
    try writeSysctl("net/ipv4/ip_forward", "1", "enable IPv4 forwarding")
}

/// Writes `value` to `/proc/sys/<name>` of the calling thread's network
/// namespace; `missingIsFine` when the kernel may lack the setting.
func writeSysctl(_ name: String, _ value: String, _ operation: String, missingIsFine: Bool = false) throws {
    let fd = open("/proc/sys/\(name)", O_WRONLY | O_CLOEXEC)
    if fd < 0 && errno == ENOENT && missingIsFine { return }
    guard fd >= 0 else { throw SystemError.errno(operation) }
    defer { close(fd) }
    guard write(fd, value, value.utf8.count) == value.utf8.count else { throw SystemError.errno(operation) }
}
