#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Netlink

/// The sockets of a task's embedded DNS server, made inside its network
/// namespace (a socket belongs for good to the namespace of the thread that
/// created it) and handed to the event loops that serve them.
struct ListeningSockets {
    let datagram: Int32
    let stream: Int32

    /// docker's address for the embedded server.
    static let address = IPv4Address(0x7F00_000B)  // 127.0.0.11
    static let port: UInt16 = 53

    /// Binds UDP and TCP `address:port` in the network namespace at `path` (a
    /// `/proc/PID/ns/net` or a pinned file).
    static func open(inNetworkNamespace path: String, address: IPv4Address = address, port: UInt16 = port) throws -> ListeningSockets {
        try Namespace.run(inNetworkNamespace: path) {
            let datagram = try bound(SOCK_DGRAM, address: address, port: port)
            do {
                let stream = try bound(SOCK_STREAM, address: address, port: port)
                guard listen(stream, 64) == 0 else {
                    let error = SystemError.errno("listen on \(address):\(port)")
                    close(stream)
                    throw error
                }
                return ListeningSockets(datagram: datagram, stream: stream)
            } catch {
                close(datagram)
                throw error
            }
        }
    }

    /// A non-blocking, close-on-exec socket of `type` bound to `address:port`.
    static func bound(_ type: __socket_type, address: IPv4Address, port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.errno("open a socket for \(address):\(port)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = address.socketAddress(port: port)
        let rc = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let error = SystemError.errno("bind \(address):\(port)")
            close(fd)
            throw error
        }
        return fd
    }
}

extension IPv4Address {
    func socketAddress(port: UInt16) -> sockaddr_in {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        socketAddress.sin_addr.s_addr = value.bigEndian
        return socketAddress
    }
}
