#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// Runs `body` inside the network namespace pinned at `path`, or right here for nil.
func inNetworkNamespace<T>(_ path: String?, _ body: () throws -> T) throws -> T {
    if let path { try Namespace.run(inNetworkNamespace: path, body) } else { try body() }
}

/// Turns IPv4 forwarding on in the calling thread's network namespace.
func enableIPv4Forwarding() throws {
    try setSysctl("net/ipv4/ip_forward", "1")
}

/// Writes `value` to sysctl `name` (a path under /proc/sys) of the calling
/// thread's network namespace (a net sysctl belongs to the namespace of the
/// thread that opens it); `missingIsFine` where the kernel may lack it.
func setSysctl(_ name: String, _ value: String, missingIsFine: Bool = false) throws {
    let operation = "set \(name.split(separator: "/").joined(separator: ".")) to \(value)"
    let fd = open("/proc/sys/\(name)", O_WRONLY | O_CLOEXEC)
    if fd < 0 && errno == ENOENT && missingIsFine { return }
    guard fd >= 0 else { throw SystemError.errno(operation) }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw SystemError.errno(operation) }
}
