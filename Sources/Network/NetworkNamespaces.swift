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
    let fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError.errno("enable IPv4 forwarding") }
    defer { close(fd) }
    guard write(fd, "1", 1) == 1 else { throw SystemError.errno("enable IPv4 forwarding") }
}
