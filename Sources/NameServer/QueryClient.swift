#if canImport(Glibc)
import Glibc
#endif
import Addressing
import DNS
import Netlink

/// `shoal dig`'s side of the wire: one query, one reply, over a socket made
/// in the caller's network namespace (or a task's, to ask as the task would).
/// Blocking: the CLI has nothing else to do meanwhile.
public enum QueryClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `query` to `server:port` and returns the reply whose id matches,
    /// or throws dig's "no servers could be reached" after `timeoutMilliseconds`.
    public static func exchange(_ query: [UInt8], server: IPv4Address, port: UInt16, over transport: DNSTransport,
                                inNetworkNamespace path: String? = nil, timeoutMilliseconds: Int32 = 5000) throws -> [UInt8] {
        let fd = try path.map { path in try Namespace.run(inNetworkNamespace: path) { try connected(transport, server, port) } }
            ?? connected(transport, server, port)
        defer { close(fd) }
        let deadline = now() + Int(timeoutMilliseconds)
        switch transport {
        case .udp:
            guard send(fd, query, query.count, 0) == query.count else { throw unreachable(server, port) }
            var buffer = [UInt8](repeating: 0, count: 65535)
            while true {
                try wait(fd, until: deadline, server, port)
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count >= 0 else { throw unreachable(server, port) }
                // Another id is a stray: keep waiting for ours.
                if count >= 2, buffer[0] == query[0], buffer[1] == query[1] { return Array(buffer[..<count]) }
            }
        case .tcp:
            let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
            guard send(fd, framed, framed.count, Int32(MSG_NOSIGNAL)) == framed.count else { throw unreachable(server, port) }
            let length = try read(2, from: fd, until: deadline, server, port)
            return try read(Int(length[0]) << 8 | Int(length[1]), from: fd, until: deadline, server, port)
        }
    }

    private static func connected(_ transport: DNSTransport, _ server: IPv4Address, _ port: UInt16) throws -> Int32 {
        let type = transport == .udp ? SOCK_DGRAM : SOCK_STREAM
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot open a socket: \(String(cString: strerror(errno)))") }
        var address = server.socketAddress(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw unreachable(server, port)
        }
        return fd
    }

    private static func read(_ count: Int, from fd: Int32, until deadline: Int, _ server: IPv4Address, _ port: UInt16) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: max(count, 1))
        while bytes.count < count {
            try wait(fd, until: deadline, server, port)
            let got = recv(fd, &buffer, count - bytes.count, 0)
            guard got > 0 else { throw unreachable(server, port) }
            bytes += buffer[..<got]
        }
        return bytes
    }

    private static func wait(_ fd: Int32, until deadline: Int, _ server: IPv4Address, _ port: UInt16) throws {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let left = deadline - now()
        guard left > 0, poll(&entry, 1, Int32(left)) == 1 else {
            throw Failure(description: ";; connection timed out; no servers could be reached")
        }
    }

    private static func unreachable(_ server: IPv4Address, _ port: UInt16) -> Failure {
        Failure(description: ";; communications error to \(server)#\(port): \(String(cString: strerror(errno)))")
    }

    /// Milliseconds on the monotonic clock.
    static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }
}
