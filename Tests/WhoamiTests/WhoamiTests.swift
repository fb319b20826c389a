import NIOHTTP1
import NIOPosix
import ShoalAPI
import Testing
@testable import Whoami

@Suite struct WhoamiTests {
    @Test func theAnswerNamesTheHostItsAddressesAndTheCaller() {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/path?x=1")
        head.headers.add(name: "Host", value: "web")
        let text = WhoamiServer.answer(hostname: "task1", addresses: ["127.0.0.1", "10.0.0.5"], remote: "10.0.0.2:5000", head: head)
        #expect(text == "Hostname: task1\nIP: 127.0.0.1\nIP: 10.0.0.5\nRemoteAddr: 10.0.0.2:5000\nGET /path?x=1 HTTP/1.1\nHost: web\n")
    }

    @Test func itServesOverRealHTTP() throws {
        let channel = try WhoamiServer.start(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton)
        defer { try? channel.close().wait() }
        let port = try #require(channel.localAddress?.port)
        // A plain TCP exchange: one request, read to the end.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let request = Array("GET / HTTP/1.1\r\nHost: whoami\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        let response = try #require(HTTPResponse(parsing: bytes))
        #expect(response.status == 200)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains("Hostname: "))
        #expect(text.contains("IP: 127.0.0.1"))
        #expect(text.contains("RemoteAddr: 127.0.0.1:"))
        #expect(text.contains("Host: whoami"))
    }
}
