import Dispatch
import Glibc
import Testing
import TestSupport
@testable import DNS

/// ISC dig (bind9-dnsutils) against the responder on a loopback port: dig must read our replies,
/// and print them line for line as `DigExchange` does (banner and timings aside). Skipped when
/// dig is not installed.
@Suite struct DigInteropTests {
    /// A UDP socket on 127.0.0.1 and an ephemeral port, answering with `directory` from network n1.
    struct LoopbackServer: Sendable {
        let socket: Int32
        let port: UInt16

        init() throws {
            let descriptor = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
                }
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            try #require(descriptor >= 0 && bound)
            socket = descriptor
            port = UInt16(bigEndian: address.sin_port)
        }

        /// Answers `count` queries (or fewer, if one does not come within 5 s); returns the replies.
        func serve(_ directory: DNSDirectory, count: Int) -> [[UInt8]] {
            var replies: [[UInt8]] = []
            var buffer = [UInt8](repeating: 0, count: DNSDirectory.maximumUDPPayload)
            for round in 0..<count {
                var peer = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let received = withUnsafeMutablePointer(to: &peer) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket, &buffer, buffer.count, 0, $0, &length) }
                }
                guard received > 0 else { break }
                let reply: [UInt8]
                switch directory.respond(to: Array(buffer[0..<received]), over: .udp, fromNetworks: ["n1"], rotation: UInt64(round)) {
                case .answer(let bytes): reply = bytes
                case .forward(let forwarded): reply = forwarded.serverFailure()
                case .drop: continue
                }
                replies.append(reply)
                _ = withUnsafePointer(to: &peer) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, reply, reply.count, 0, $0, length) }
                }
            }
            close(socket)
            return replies
        }
    }

    /// The text of a file, or "" when it cannot be read.
    func contents(of path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while case let count = fread(&chunk, 1, chunk.count, file), count > 0 { bytes += chunk[0..<count] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// dig's lines but the banner (another program's name) and the two timings.
    func comparable(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("; <<>>") && !$0.hasPrefix(";; Query time:") && !$0.hasPrefix(";; WHEN:") }
    }

    /// The replies a server thread sent, handed over when it is done.
    final class Served: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var replies: [[UInt8]] = []
    }

    /// Synchronous throughout, the server on a thread of its own: once started, the test needs no
    /// other thread of the cooperative pool, which a long test may be holding.
    @Test func realDigReadsOurRepliesAndPrintsThemAsWeDo() throws {
        guard runQuietly(["sh", "-c", "command -v dig"]) == 0 else {
            print("dig (bind9-dnsutils) is not installed: the interop test is skipped")
            return
        }
        let directory = try makeDirectory()
        let server = try LoopbackServer()
        let queries = [["tasks.whoami"], ["-x", "10.0.1.4"], ["whoami", "AAAA"], ["WhoAmI.2"], ["nosuch.example"],
                       ["tasks.whoami", "+short"]]
        let served = Served()
        DispatchQueue.global().async {
            served.replies = server.serve(directory, count: queries.count)
            served.done.signal()
        }
        var outputs: [String] = []
        for (index, words) in queries.enumerated() {
            let path = "/tmp/shoal-dns-interop-\(getpid())-\(index)"
            let command = (["dig", "@127.0.0.1", "-p", String(server.port), "+tries=1", "+time=5"] + words).joined(separator: " ")
            #expect(runQuietly(["sh", "-c", "\(command) > \(path)"]) == 0, "\(command)")
            outputs.append(contents(of: path))
            unlink(path)
        }
        served.done.wait()
        try #require(served.replies.count == queries.count)
        for (index, words) in queries.enumerated() {
            let bytes = served.replies[index]
            let query = try DigRequest(arguments: words).queryMessage(id: 0)
            let ours = DigExchange(arguments: words, version: "test", serverGiven: true, query: query,
                                   reply: try DNSMessage(parsing: bytes),
                                   replySize: bytes.count, elapsedMilliseconds: 0, server: "127.0.0.1", port: server.port,
                                   transport: .udp, date: "")
            if words.contains("+short") {
                #expect(outputs[index] == ours.shortText)
            } else {
                #expect(comparable(outputs[index]) == comparable(ours.text), "\(words)")
            }
        }
    }
}
