import Addressing
import Foundation

/// A blocking HTTP/1.1 client on one keep-alive TCP connection: the load
/// generator runs one per simulated client, on a thread of its own, so both
/// stores are driven exactly alike.
final class KeepAliveClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let host: String
    let port: UInt16
    private let timeoutMilliseconds: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(endpoint: String, timeoutMilliseconds: Int = 5_000) throws {
        let trimmed = endpoint.replacingOccurrences(of: "http://", with: "")
        guard let address = HostPort(trimmed) else { throw Failure(description: "bad endpoint \(endpoint)") }
        host = address.host
        port = UInt16(address.port)
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer = []
    }

    /// POSTs `body` to `path`; returns the status and body. Reconnects as needed.
    func post(_ path: String, body: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        if fd < 0 { try connect() }
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        do {
            try writeAll(Array(head.utf8) + body)
            return try readResponse()
        } catch {
            disconnect()
            throw error
        }
    }

    private func connect() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            disconnect()
            throw Failure(description: "connect \(host):\(port): errno \(code)")
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += n
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv: errno \(errno)") }
        buffer += chunk[..<n]
    }

    private func readResponse() throws -> (status: Int, body: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd = buffer.firstRange(of: separator)
        while headerEnd == nil {
            try fill()
            headerEnd = buffer.firstRange(of: separator)
        }
        guard let headerEnd else { throw Failure(description: "no header") }
        let head = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self).lowercased()
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw Failure(description: "bad status line") }
        var length = 0
        for line in lines.dropFirst() where line.hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        if head.contains("transfer-encoding: chunked") { throw Failure(description: "chunked answers are not expected") }
        while buffer.count < headerEnd.upperBound + length { try fill() }
        let body = Array(buffer[headerEnd.upperBound..<headerEnd.upperBound + length])
        buffer.removeFirst(headerEnd.upperBound + length)
        return (status, body)
    }
}
