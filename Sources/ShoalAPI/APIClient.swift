#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A client of one daemon's local API: HTTP/1.1 + JSON over its unix socket.
/// Calls block; each opens its own connection, so a CLI command stays simple.
/// Every call has a deadline: a daemon that does not answer is named, never waited on forever.
public struct APIClient: Sendable {
    public let socketPath: String
    /// How long one call may take, connecting included. Long enough for the
    /// slowest legitimate call (`init` and `join` wait for an election).
    public var timeoutSeconds: Double
    /// Answers larger than this are refused; the API's answers are far smaller.
    static let maximumAnswerBytes = 64 << 20

    public init(socketPath: String, timeoutSeconds: Double = 70) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// Whether a daemon answers `GET /_ping` on the socket.
    public func ping() -> Bool {
        var quick = self
        quick.timeoutSeconds = min(timeoutSeconds, 5)
        guard let response = try? quick.send("GET", "/_ping") else { return false }
        return response.status == 200
    }

    /// `GET path`, decoding the JSON answer.
    public func get<Answer: Decodable>(_ path: String, as type: Answer.Type = Answer.self) throws -> Answer {
        try decode(try checked(send("GET", path)))
    }

    /// `GET path?query`, each key and value percent-encoded, decoding the JSON answer.
    public func get<Answer: Decodable>(_ path: String, query: [String: String],
                                       as type: Answer.Type = Answer.self) throws -> Answer {
        try get(RequestTarget(path: path, query: query).encoded)
    }

    /// `POST path` with a JSON body, decoding the JSON answer.
    public func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body,
                                                         as type: Answer.Type = Answer.self) throws -> Answer {
        let encoded = try JSONEncoder().encode(body)
        return try decode(try checked(send("POST", path, body: Array(encoded))))
    }

    /// Sends one request and reads the whole answer.
    /// `path` goes into the request line as it is: build it with `RequestTarget`.
    public func send(_ method: String, _ path: String, body: [UInt8] = []) throws -> HTTPResponse {
        guard !path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else {
            throw ShoalError("cannot send \(method) \(path): the path has characters a request line cannot carry",
                             hint: "percent-encode it")
        }
        let deadline = Monotonic.now + timeoutSeconds
        let fd = try connect()
        defer { close(fd) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\n"
        if !body.isEmpty { request += "Content-Type: application/json\r\n" }
        request += "Content-Length: \(body.count)\r\n\r\n"
        try writeAll(fd, Array(request.utf8) + body)
        let bytes = try readAnswer(fd, deadline: deadline)
        guard let response = HTTPResponse(parsing: bytes) else {
            throw ShoalError("the daemon at \(socketPath) sent a malformed answer",
                             hint: "check that it is a shoal daemon of version \(Defaults.version)")
        }
        return response
    }

    private func checked(_ response: HTTPResponse) throws -> HTTPResponse {
        guard (200..<300).contains(response.status) else {
            if let error = try? JSONDecoder().decode(APIErrorBody.self, from: Data(response.body)) {
                throw ShoalError(error.message)
            }
            throw ShoalError("the daemon answered \(response.status)", hint: "see its log for details")
        }
        return response
    }

    private func decode<Answer: Decodable>(_ response: HTTPResponse) throws -> Answer {
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(response.body))
        } catch {
            throw ShoalError("the daemon at \(socketPath) sent an answer this client cannot read",
                             hint: "use a shoal binary of the daemon's version")
        }
    }

    private func connect() throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ShoalError("socket path \(socketPath) is too long", hint: "use a path under 108 bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ShoalError("cannot create a socket: \(String(cString: strerror(errno)))") }
        // Bounds connect (a daemon whose backlog is full) and every write.
        let wholeSeconds = min(timeoutSeconds.rounded(.down), Double(Int32.max))
        var limit = timeval(tv_sec: Int(wholeSeconds), tv_usec: Int((timeoutSeconds - wholeSeconds) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            switch code {
            case EAGAIN, EINPROGRESS:
                throw notAnswering()
            case EACCES, EPERM:
                throw ShoalError("permission denied on \(socketPath)", hint: "run shoal as root")
            default:
                throw ShoalError("cannot connect to the shoal daemon at \(socketPath)",
                                 hint: "is 'shoal daemon' running? start it, or pick another with -H")
            }
        }
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw notAnswering() }
                throw ShoalError("lost the connection to the daemon at \(socketPath)", hint: "see its log")
            }
            offset += written
        }
    }

    /// Reads until the answer is complete (its Content-Length is in) or the
    /// daemon closes, whichever comes first, within `deadline`.
    private func readAnswer(_ fd: Int32, deadline: Double) throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !HTTPResponse.isComplete(result) {
            let remaining = deadline - Monotonic.now
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = remaining <= 0 ? 0 : poll(&entry, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw notAnswering() }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return result }
            if count < 0 {
                if errno == EINTR { continue }
                throw ShoalError("lost the connection to the daemon at \(socketPath)", hint: "see its log")
            }
            result += buffer[..<count]
            guard result.count <= Self.maximumAnswerBytes else {
                throw ShoalError("the daemon at \(socketPath) sent an answer larger than \(Self.maximumAnswerBytes >> 20) MiB",
                                 hint: "narrow the request")
            }
        }
        return result
    }

    private func notAnswering() -> ShoalError {
        ShoalError("the shoal daemon at \(socketPath) did not answer within \(Durations.text(timeoutSeconds))",
                   hint: "see its log; it may be busy or stuck")
    }
}
