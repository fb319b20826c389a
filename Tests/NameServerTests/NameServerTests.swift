#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Metrics
@testable import DNS
import NIOConcurrencyHelpers
import NIOPosix
import Netlink
import Testing
import TestSupport
@testable import NameServer

/// The server as a task meets it: listeners at 127.0.0.11:53 in a namespace
/// the test makes, and upstream servers the test runs on this namespace's
/// loopback (never the machine's resolver).
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct NameServerTests {
    private let network = "n1"
    private let virtualIP = IPv4Address(0x0a00_0102)  // 10.0.1.2
    private let taskAddress = IPv4Address(0x0a00_0103)  // 10.0.1.3

    private var directory: DNSDirectory {
        DNSDirectory(networks: [DNSDirectory.Network(id: network, name: "front", services: [
            DNSDirectory.Service(id: "s1", name: "web", endpointMode: .vip, virtualIP: virtualIP,
                                 tasks: [DNSDirectory.Task(id: "t1", slot: "1", address: taskAddress)]),
        ])])
    }

    /// Runs `body` with a server whose upstreams are `upstreams`, serving a task in a fresh namespace.
    private func withServer(upstreams: [StubUpstream] = [], _ body: (_ namespace: String, _ server: NameServer) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = NameServer(group: group, upstreams: try upstreams.map { try .init(ipAddress: "127.0.0.1", port: Int($0.port)) })
        server.update(directory)
        try await ThrowawayNamespaces("shoal-dns-test").with(["task"]) { paths in
            try RouteSocket.open(inNamespace: paths[0]).setUp("lo")
            try await server.serve(taskID: "t0", inNetworkNamespace: paths[0], networks: [network])
            try await body(paths[0], server)
            server.stopAll()
        }
        try await group.shutdownGracefully()
    }

    private func ask(_ name: String, _ type: DNSRecordType = .a, in namespace: String, over transport: DNSTransport = .udp) async throws -> DNSMessage {
        try await timedAsk(name, type, in: namespace, over: transport).reply
    }

    /// The reply, and how long the server took to give it (timed on the asking thread, not on the busy task pool).
    private func timedAsk(_ name: String, _ type: DNSRecordType = .a, in namespace: String,
                          over transport: DNSTransport = .udp) async throws -> (reply: DNSMessage, took: Duration) {
        var request = DigRequest(name: try DNSName(name))
        request.type = type
        let query = request.queryMessage(id: 0x1234).serialized()
        let (bytes, took) = try await offTheCooperativePool {
            let start = ContinuousClock.now
            let bytes = try QueryClient.exchange(query, server: ListeningSockets.address, port: 53, over: transport,
                                                 inNetworkNamespace: namespace)
            return (bytes, ContinuousClock.now - start)
        }
        return (try DNSMessage(parsing: bytes), took)
    }

    /// The server's count of `result` in /metrics.
    private func counted(_ result: String, by server: NameServer) -> Double? {
        server.metricFamilies().first { $0.name == "swarm_dns_queries_total" }?.samples
            .first { $0.labels == [Label("result", result)] }?.value
    }

    @Test func aTaskGetsItsNetworksNamesOverUDPAndTCP() async throws {
        try await withServer { namespace, server in
            for transport in [DNSTransport.udp, .tcp] {
                let reply = try await ask("web", in: namespace, over: transport)
                #expect(reply.header.responseCode == .noError && reply.header.id == 0x1234)
                #expect(reply.answers.map(\.data) == [.a(virtualIP)], "\(transport)")
            }
            let slot = try await ask("web.1", in: namespace)
            #expect(slot.answers.map(\.data) == [.a(taskAddress)])
            #expect(counted("noerror", by: server) == 3 && counted("forwarded", by: server) == nil)
        }
    }

    @Test func theRestIsAskedUpstreamAndOnlyTheMatchingReplyCounts() async throws {
        let upstream = try StubUpstream { query, _ in
            // A reply with another id comes first: it must be ignored, not passed on.
            [StubUpstream.reply(to: query, address: IPv4Address(0xc000_0207), id: query.header.id &+ 1),
             StubUpstream.reply(to: query, address: IPv4Address(0xc000_0208))]
        }
        try await withServer(upstreams: [upstream]) { namespace, server in
            let reply = try await ask("outside.example", in: namespace)
            #expect(counted("forwarded", by: server) == 1 && counted("noerror", by: server) == nil)
            #expect(reply.header.id == 0x1234, "the client's id comes back")
            #expect(reply.answers.map(\.data) == [.a(IPv4Address(0xc000_0208))])
        }
    }

    @Test func identicalQueriesInFlightShareOneUpstreamAttemptAndEachClientGetsItsID() async throws {
        let asked = NIOLockedValueBox(0)
        let upstream = try StubUpstream { query, _ in
            asked.withLockedValue { $0 += 1 }
            return [StubUpstream.reply(to: query, address: IPv4Address(0xc000_020b))]
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let forwarder = UpstreamForwarder(group: group, upstreams: [try .init(ipAddress: "127.0.0.1", port: Int(upstream.port))])
        let loop = group.next()
        func query(id: UInt16, name: String = "outside.example") throws -> DNSForwardedQuery {
            var request = DigRequest(name: try DNSName(name))
            request.type = .a
            guard case .forward(let query) = DNSDirectory(networks: []).respond(
                to: request.queryMessage(id: id).serialized(), over: .udp, fromNetworks: [], rotation: 0)
            else { throw DNSWireError.truncated }
            return query
        }
        let queries = try (1...5).map { try query(id: $0) } + [try query(id: 6, name: "other.example")]
        // Asked in one turn of the event loop, as a burst read from a socket is.
        let replies = try await loop.submit { queries.map { forwarder.forward($0, on: loop) } }.get()
        for (query, reply) in zip(queries, replies) {
            let message = try DNSMessage(parsing: try await reply.get())
            #expect(message.header.id == query.header.id)
            #expect(message.answers.map(\.data) == [.a(IPv4Address(0xc000_020b))])
        }
        #expect(asked.withLockedValue { $0 } == 2, "one attempt for the five identical queries, one for the other")
        try await group.shutdownGracefully()
    }

    @Test func aServerThatFailsPassesTheQueryToTheNext() async throws {
        let failing = try StubUpstream { query, _ in [StubUpstream.reply(to: query, code: .serverFailure)] }
        let working = try StubUpstream { query, _ in [StubUpstream.reply(to: query, address: IPv4Address(0xc000_0209))] }
        try await withServer(upstreams: [failing, working]) { namespace, _ in
            let reply = try await ask("outside.example", in: namespace)
            #expect(reply.answers.map(\.data) == [.a(IPv4Address(0xc000_0209))])
        }
    }

    @Test func aTruncatedReplyIsAskedAgainOverTCP() async throws {
        let upstream = try StubUpstream { query, transport in
            var reply = StubUpstream.reply(to: query, address: IPv4Address(0xc000_020a))
            if transport == .udp {
                reply.answers = []
                reply.header.isTruncated = true
            }
            return [reply]
        }
        try await withServer(upstreams: [upstream]) { namespace, _ in
            let reply = try await ask("outside.example", in: namespace)
            #expect(reply.answers.map(\.data) == [.a(IPv4Address(0xc000_020a))])
        }
    }

    @Test func silentOrAbsentUpstreamsGiveServfailWithinTheBudget() async throws {
        let silent = try StubUpstream { _, _ in [] }
        try await withServer(upstreams: [silent]) { namespace, _ in
            let (reply, took) = try await timedAsk("outside.example", in: namespace)
            #expect(reply.header.responseCode == .serverFailure)
            #expect(took < .seconds(3))
        }
        try await withServer { namespace, _ in
            let reply = try await ask("outside.example", in: namespace)
            #expect(reply.header.responseCode == .serverFailure, "no upstream at all")
        }
    }

    @Test func aStoppedTaskFreesItsAddress() async throws {
        try await withServer { namespace, server in
            server.stop(taskID: "t0")
            // The address is free again once the closes are through: serving the task anew binds it.
            let deadline = ContinuousClock.now + .seconds(5)
            while true {
                do {
                    try await server.serve(taskID: "t0", inNetworkNamespace: namespace, networks: [network])
                    break
                } catch where ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let reply = try await ask("web", in: namespace)
            #expect(reply.answers.count == 1)
        }
    }
}

/// An upstream DNS server on 127.0.0.1 (UDP and TCP on one port) that
/// answers each query with what `replies` returns, in order.
final class StubUpstream: @unchecked Sendable {
    let port: UInt16
    private let datagram: Int32
    private let stream: Int32

    init(_ replies: @escaping @Sendable (DNSMessage, DNSTransport) -> [DNSMessage]) throws {
        let datagram = try ListeningSockets.bound(SOCK_DGRAM, address: IPv4Address(0x7f00_0001), port: 0)
        self.datagram = datagram
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(datagram, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let stream = try ListeningSockets.bound(SOCK_STREAM, address: IPv4Address(0x7f00_0001), port: port)
        self.stream = stream
        listen(stream, 8)
        for fd in [datagram, stream] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
        runOnThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            var client = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            while true {
                let count = withUnsafeMutablePointer(to: &client) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(datagram, &buffer, buffer.count, 0, $0, &length) }
                }
                guard count > 0 else { return }
                guard let query = try? DNSMessage(parsing: Array(buffer[..<count])) else { continue }
                for reply in replies(query, .udp) {
                    let bytes = reply.serialized()
                    _ = withUnsafePointer(to: &client) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(datagram, bytes, bytes.count, 0, $0, length) }
                    }
                }
            }
        }
        runOnThread {
            while true {
                let connection = accept(stream, nil, nil)
                guard connection >= 0 else { return }
                var prefix = [UInt8](repeating: 0, count: 2)
                if recv(connection, &prefix, 2, Int32(MSG_WAITALL)) == 2 {
                    var body = [UInt8](repeating: 0, count: Int(prefix[0]) << 8 | Int(prefix[1]))
                    if recv(connection, &body, body.count, Int32(MSG_WAITALL)) == body.count, let query = try? DNSMessage(parsing: body) {
                        for reply in replies(query, .tcp) {
                            let bytes = reply.serialized()
                            let framed = [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
                            _ = send(connection, framed, framed.count, Int32(MSG_NOSIGNAL))
                        }
                    }
                }
                close(connection)
            }
        }
    }

    deinit {
        shutdown(datagram, Int32(SHUT_RDWR))
        shutdown(stream, Int32(SHUT_RDWR))
        close(datagram)
        close(stream)
    }

    static func reply(to query: DNSMessage, address: IPv4Address? = nil, code: DNSResponseCode = .noError,
                      id: UInt16? = nil) -> DNSMessage {
        var header = query.header.reply(code: code)
        if let id { header.id = id }
        let answers = address.map { [DNSRecord(name: query.questions[0].name, type: .a, ttl: 60, data: .a($0))] } ?? []
        return DNSMessage(header: header, questions: query.questions, answers: answers)
    }
}

/// Runs a blocking loop on a thread of its own: on dispatch's shared
/// threads it would wait its turn behind the test's own blocking calls.
private func runOnThread(_ body: @escaping @Sendable () -> Void) {
    final class Job {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let job = Unmanaged.passRetained(Job(body)).toOpaque()
    pthread_create(&thread, nil, { context in
        guard let context else { return nil }
        Unmanaged<Job>.fromOpaque(context).takeRetainedValue().body()
        return nil
    }, job)
    pthread_detach(thread)
}

@Suite struct TaskResolvConfTests {
    @Test func aTaskAsksTheEmbeddedServerWithTheHostsSearchDomains() {
        let host = """
            # written by the installer
            nameserver 10.255.255.53
            nameserver 1.1.1.1
            search lab.example corp.example
            options timeout:2 ndots:5 attempts:3
            """
        #expect(TaskResolvConf.text(hostResolvConf: host) == """
            search lab.example corp.example
            options timeout:2 attempts:3
            nameserver 127.0.0.11
            options ndots:0

            """)
        #expect(TaskResolvConf.text(hostResolvConf: "") == "nameserver 127.0.0.11\noptions ndots:0\n")
    }
}
