#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Dispatch
import Netlink
import Synchronization

// Real traffic between namespaces a test made: servers that answer with
// their own address, and clients that ask them through VIPs and published ports.

/// A socket address for `address:port`.
private func socketAddress(_ address: IPv4Address, _ port: UInt16) -> sockaddr_in {
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_port = port.bigEndian
    socketAddress.sin_addr.s_addr = address.value.bigEndian
    return socketAddress
}

private func withSocketAddress<T>(_ address: IPv4Address, _ port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var value = socketAddress(address, port)
    return withUnsafePointer(to: &value) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
}

/// Every read and write on `fd` gives up after `seconds` (a connect too).
private func setTimeouts(_ fd: Int32, seconds: Int = 2) {
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
}

private func socketType(_ transport: TransportProtocol) -> Int32 {
    Int32(transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
}

/// A server bound to `address:port` inside a namespace, on a thread of its
/// own (the dispatch pool has as many threads as cores and would starve a
/// second server): it answers each TCP connection with its address and a
/// newline, then echoes until the client closes; each UDP datagram with its address.
final class AddressServer: Sendable {
    private let fd: Int32
    private let transport: TransportProtocol
    private let answer: [UInt8]
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(inNamespace namespace: String, _ transport: TransportProtocol, _ address: IPv4Address, port: UInt16) throws {
        fd = try Namespace.run(inNetworkNamespace: namespace) {
            let fd = socket(AF_INET, socketType(transport), 0)
            guard fd >= 0 else { throw SystemError.errno("socket") }
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            guard withSocketAddress(address, port, { bind(fd, $0, $1) }) == 0 else {
                let error = SystemError.errno("bind \(address):\(port)")
                close(fd)
                throw error
            }
            if transport == .tcp { listen(fd, 64) }
            return fd
        }
        self.transport = transport
        answer = Array("\(address)\n".utf8)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let server = Unmanaged<AddressServer>.fromOpaque(context).takeRetainedValue()
            server.serve()
            return nil
        }, context) == 0 else {
            Unmanaged<AddressServer>.fromOpaque(context).release()
            close(fd)
            throw SystemError.errno("start a server thread")
        }
        pthread_detach(thread)
    }

    /// Until stopped: the listening or datagram socket and every open connection, polled together.
    private func serve() {
        defer { finished.signal() }
        var connections: [Int32] = []
        defer { connections.forEach { close($0) } }
        var buffer = [UInt8](repeating: 0, count: 512)
        while !stopped.load(ordering: .relaxed) {
            var polled = ([fd] + connections).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), 50) > 0 else { continue }
            for entry in polled where entry.revents != 0 {
                if entry.fd != fd {
                    let count = read(entry.fd, &buffer, buffer.count)
                    if count > 0, write(entry.fd, buffer, count) == count { continue }
                    close(entry.fd)
                    connections.removeAll { $0 == entry.fd }
                } else if transport == .tcp {
                    let connection = accept(fd, nil, nil)
                    guard connection >= 0 else { continue }
                    if write(connection, answer, answer.count) == answer.count { connections.append(connection) } else { close(connection) }
                } else {
                    var peer = sockaddr_storage()
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let count = withUnsafeMutablePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
                    }
                    guard count > 0 else { continue }
                    _ = withUnsafePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, answer, answer.count, 0, $0, length) }
                    }
                }
            }
        }
    }

    /// Stops serving and closes the socket.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        finished.wait()
        close(fd)
    }
}

/// A client's socket, connected inside a namespace.
final class Connection {
    let fd: Int32

    /// Connects from inside `namespace`; for UDP, also sends a first datagram.
    init(from namespace: String, _ transport: TransportProtocol, to address: IPv4Address, port: UInt16) throws {
        fd = try Namespace.run(inNetworkNamespace: namespace) {
            let fd = socket(AF_INET, socketType(transport), 0)
            guard fd >= 0 else { throw SystemError.errno("socket") }
            setTimeouts(fd)
            guard withSocketAddress(address, port, { connect(fd, $0, $1) }) == 0 else {
                let error = SystemError.errno("connect to \(address):\(port)")
                close(fd)
                throw error
            }
            return fd
        }
        if transport == .udp { try send("?") }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw SystemError.errno("send") }
    }

    /// What arrives next (up to 512 bytes).
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { throw count == 0 ? SystemError("receive", reason: "closed") : SystemError.errno("receive") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

/// The address of the server that answers a new connection (TCP) or datagram (UDP) to `address:port` from `namespace`.
func whoAnswers(from namespace: String, _ transport: TransportProtocol, _ address: IPv4Address, port: UInt16) throws -> String {
    let connection = try Connection(from: namespace, transport, to: address, port: port)
    return try connection.receive().trimmingNewline()
}

/// How many of `count` new connections each server answered.
func spread(of count: Int, from namespace: String, _ transport: TransportProtocol, _ address: IPv4Address,
            port: UInt16) throws -> [String: Int] {
    var answers: [String: Int] = [:]
    for _ in 0..<count {
        let server = try whoAnswers(from: namespace, transport, address, port: port)
        answers[server, default: 0] += 1
    }
    return answers
}

extension String {
    func trimmingNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}

/// The monotonic clock, in seconds.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
