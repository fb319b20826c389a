#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import NIOPosix
import ShoalAPI
import TestSupport
import Testing
@testable import Daemon

/// The local API end to end: the NIO server on a real unix socket, the
/// blocking client the CLI uses (called off the cooperative pool, which the
/// server's router needs).
@Suite(.serialized) struct APIServerTests {
    private struct Echo: Codable, Equatable { var text: String }

    private func withServer(_ body: (String) async throws -> Void) async throws {
        var template = Array("/tmp/shoal-api-test-XXXXXX".utf8CString)
        let folder = String(cString: try #require(mkdtemp(&template)))
        let socketPath = "\(folder)/api.sock"
        var router = HTTPRouter()
        router.add("GET", "/_ping") { _ in .text("OK") }
        router.add("POST", "/echo") { request in try .json(request.decode(Echo.self)) }
        router.add("GET", "/query") { request in .text(request.query["name"] ?? "-") }
        router.add("GET", "/refuse") { _ in throw APIError(status: 409, message: "version conflict") }
        let server = try APIServer.start(.unixSocket(path: socketPath), router: router, group: MultiThreadedEventLoopGroup.singleton)
        do {
            try await body(socketPath)
        } catch {
            try? server.close()
            throw error
        }
        try server.close()
        unlink(socketPath)
        rmdir(folder)
    }

    @Test func pingAndJSONRoundTrip() async throws {
        try await withServer { socketPath in
            let client = APIClient(socketPath: socketPath)
            let answer: Echo = try await offTheCooperativePool { try client.post("/echo", Echo(text: "hello")) }
            #expect(answer == Echo(text: "hello"))
            // A ping gives up after 5 s; CPU-bound tests sharing the pool can hold the router longer than that.
            var answered = false
            for _ in 0..<12 where !answered { answered = try await offTheCooperativePool { client.ping() } }
            #expect(answered)
            let query = try await offTheCooperativePool { try client.send("GET", "/query?name=lab-2&x=1") }
            #expect(String(decoding: query.body, as: UTF8.self) == "lab-2")
        }
    }

    @Test func theSocketIsForRootOnly() async throws {
        try await withServer { socketPath in
            var info = stat()
            #expect(stat(socketPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
        }
    }

    @Test func errorsComeBackAsOneLineMessages() async throws {
        try await withServer { socketPath in
            let client = APIClient(socketPath: socketPath)
            let refused = try await offTheCooperativePool { () -> ShoalError? in
                do { let _: Echo = try client.get("/refuse") } catch let error as ShoalError { return error }
                return nil
            }
            #expect(refused == ShoalError("version conflict"))
            #expect(try await offTheCooperativePool { try client.send("GET", "/nowhere") }.status == 404)
            #expect(try await offTheCooperativePool { try client.send("DELETE", "/echo") }.status == 405)
            let malformed = try await offTheCooperativePool { try client.send("POST", "/echo", body: Array("{not json".utf8)) }
            #expect(malformed.status == 400)
        }
    }

    @Test func aMissingDaemonIsAClearError() throws {
        let client = APIClient(socketPath: "/tmp/shoal-no-such-daemon.sock")
        #expect(!client.ping())
        #expect(throws: ShoalError.self) { let _: Echo = try client.get("/info") }
    }
}
