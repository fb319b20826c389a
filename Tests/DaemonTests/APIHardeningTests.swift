#if canImport(Glibc)
import Glibc
#endif
import Agent
import ClusterWire
import ClusterStore
import FoundationEssentials
import Logging
import Manager
import NIOCore
import NIOPosix
import Raft
import ShoalAPI
import TestSupport
import Testing
@testable import Daemon

/// What a careless or hostile local client can send: malformed request
/// lines, half requests, silence, and out-of-range values on every route.
@Suite(.serialized) struct APIHardeningTests {
    private static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/shoal-api-hard-XXXXXX".utf8CString)
        return String(cString: try #require(mkdtemp(&template)))
    }

    private func withServer(router: HTTPRouter? = nil, requestTimeout: TimeAmount = .seconds(30),
                            _ body: (String) async throws -> Void) async throws {
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let socketPath = "\(folder)/api.sock"
        var fallback = HTTPRouter()
        fallback.add("GET", "/_ping") { _ in .text("OK") }
        fallback.add("GET", "/query") { request in .text(request.query["name"] ?? "-") }
        let server = try APIServer.start(.unixSocket(path: socketPath), router: router ?? fallback,
                                         group: MultiThreadedEventLoopGroup.singleton, requestTimeout: requestTimeout)
        defer { try? server.close() }
        try await body(socketPath)
    }

    /// A raw connection: sends `bytes`, then reads until the daemon closes or `seconds` pass.
    private static func exchange(_ socketPath: String, _ bytes: [UInt8], seconds: Int32 = 5) throws -> (answer: String, closed: Bool) {
        let fd = try connect(socketPath)
        defer { close(fd) }
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, seconds * 1000) == 1 else { return (String(decoding: answer, as: UTF8.self), false) }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return (String(decoding: answer, as: UTF8.self), true) }
            answer += buffer[..<count]
        }
    }

    private static func connect(_ path: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(rc == 0)
        return fd
    }

    @Test func aMalformedRequestLineGetsA400AndTheConnectionCloses() async throws {
        try await withServer { socketPath in
            let (answer, closed) = try await offTheCooperativePool {
                try Self.exchange(socketPath, Array("GET /tasks?service=a b HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            }
            #expect(answer.hasPrefix("HTTP/1.1 400"))
            #expect(closed, "the daemon hung up after its 400")
            #expect(try await offTheCooperativePool { try APIClient(socketPath: socketPath).send("GET", "/_ping") }.status == 200,
                    "and goes on answering")
        }
    }

    @Test func aBadQueryGetsA400AndTheDaemonLives() async throws {
        try await withServer { socketPath in
            let client = APIClient(socketPath: socketPath)
            for target in ["/query?=", "/query?%zz=1", "/query?name=%", "/query?&=", "/query?name=a&name=b"] {
                let answer = try await offTheCooperativePool { try client.send("GET", target) }
                #expect(answer.status == 400, "\(target)")
                #expect(!String(decoding: answer.body, as: UTF8.self).contains("\n"), "one line")
            }
            let decoded = try await offTheCooperativePool {
                try client.send("GET", RequestTarget(path: "/query", query: ["name": "x&node=y"]).encoded)
            }
            #expect(String(decoding: decoded.body, as: UTF8.self) == "x&node=y")
            #expect(try await offTheCooperativePool { try client.send("GET", "/_ping") }.status == 200)
        }
    }

    @Test func anIdleOrHalfSentConnectionIsClosedAfterTheTimeout() async throws {
        try await withServer(requestTimeout: .milliseconds(300)) { socketPath in
            let started = ContinuousClock.now
            #expect(try await offTheCooperativePool { try Self.exchange(socketPath, []).closed }, "an idle connection is closed")
            #expect(try await offTheCooperativePool { try Self.exchange(socketPath, Array("GET /_ping HTTP/1.1\r\nHost: x\r\n".utf8)).closed },
                    "half a request too")
            #expect(ContinuousClock.now - started < .seconds(4))
            // A whole request still gets its answer.
            let (answer, _) = try await offTheCooperativePool {
                try Self.exchange(socketPath, Array("GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), seconds: 60)
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func theClientGivesUpOnASilentDaemonAndNamesIt() throws {
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let socketPath = "\(folder)/silent.sock"
        // Listens, never answers.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(listener, 8) == 0)
        let client = APIClient(socketPath: socketPath, timeoutSeconds: 0.5)
        let started = ContinuousClock.now
        #expect(throws: ShoalError("the shoal daemon at \(socketPath) did not answer within 500ms",
                                   hint: "see its log; it may be busy or stuck")) {
            let _: DaemonInfo = try client.get("/info")
        }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    // MARK: The daemon's own routes

    /// The daemon's real router over a swarm this node is not part of yet.
    private static func daemonRouter(in folder: String) -> HTTPRouter {
        let swarm = Swarm(dataDirectory: folder, hostname: "test", group: MultiThreadedEventLoopGroup.singleton,
                          runner: IdleRunner(), logger: Logger(label: "test"))
        return Daemon.makeRouter(DaemonConfiguration(dataDirectory: folder, socketPath: "\(folder)/api.sock"), swarm: swarm)
    }

    @Test(arguments: [
        ("/swarm/init", #"{"heartbeatPeriod":1e300,"forceNewCluster":false}"#),
        ("/swarm/init", #"{"heartbeatPeriod":0,"forceNewCluster":false}"#),
        ("/swarm/init", #"{"heartbeatPeriod":-1,"forceNewCluster":false}"#),
        ("/swarm/init", #"{"heartbeatPeriod":1,"forceNewCluster":false,"listenAddress":"0.0.0.0:70000"}"#),
        ("/swarm/init", #"{"heartbeatPeriod":1,"forceNewCluster":false,"certExpirySeconds":30}"#),
        ("/swarm/update", #"{"certExpirySeconds":1e300}"#),
        ("/swarm/join", #"{"token":"","remoteAddress":"10.0.0.1:2377"}"#),
        ("/swarm/join", #"{"token":"SWMTKN-1-a-b","remoteAddress":"10.0.0.1:-1"}"#),
        ("/nodes/update", #"{"node":"n","availability":"gone","force":false}"#),
        ("/nodes/remove", #"{"node":"","force":false}"#),
        ("/services/create", #"{"name":"web","replicas":1,"command":["true"],"env":[],"constraints":[],"restartCondition":"any","restartDelaySeconds":1e300,"restartMaxAttempts":0}"#),
        ("/services/create", #"{"name":"web","replicas":1,"command":["true"],"env":[],"constraints":[],"restartCondition":"any","restartDelaySeconds":-1,"restartMaxAttempts":0}"#),
        ("/services/create", #"{"name":"web","replicas":1,"command":["true"],"env":[],"constraints":[],"restartCondition":"any","restartDelaySeconds":1,"restartMaxAttempts":-1}"#),
        ("/services/update", #"{"service":"web","replicas":-1,"envAdd":[],"envRemove":[],"constraintAdd":[],"constraintRemove":[]}"#),
        ("/services/inspect", #"{"service":""}"#),
        ("/services/logs", #"{"target":"web","tail":-1,"cursor":{}}"#),
        ("/services/logs", #"{"target":"web","cursor":{"abcdefghijkl0123456789xyz":-1}}"#),
        ("/services/logs", #"{"target":"web","cursor":{"../../etc":0}}"#),
    ])
    func outOfRangeValuesGetAOneLine400AndNothingIsWritten(path: String, body: String) async throws {
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let answer = await Self.daemonRouter(in: folder).respond(
            to: APIRequest(method: "POST", path: path, query: [:], body: Array(body.utf8)))
        #expect(answer.status == 400, "\(path) \(body)")
        let message = try JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body)).message
        #expect(!message.isEmpty && !message.contains("\n"))
        #expect(FileSystem.list(folder).isEmpty, "nothing written for \(path)")
    }

    @Test(arguments: [(nil, 400), ("", 400), ("web/1", 400), ("web.1&x", 400), (String(repeating: "a", count: 300), 400),
                      ("web.1", 404)] as [(String?, Int)])
    func execChecksTheTaskReferenceAndAnswersFromThisNodesTasks(task: String?, status: Int) async throws {
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let answer = await Self.daemonRouter(in: folder).respond(
            to: APIRequest(method: "GET", path: "/tasks/exec", query: task.map { ["task": $0] } ?? [:], body: []))
        #expect(answer.status == status)
        let message = try JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body)).message
        #expect(!message.isEmpty && !message.contains("\n"))
        if status == 404 { #expect(message.hasPrefix("no such task on this node: web.1: run shoal exec on the node that runs it")) }
    }

    @Test(arguments: [OneOff.createPath, OneOff.removePath])
    func oneOffCallsOutsideASwarmAreOneLineAndWriteNothing(path: String) async throws {
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let body = path == OneOff.createPath ? #"{"network":"net","env":[]}"# : #"{"service":"probe"}"#
        let answer = await Self.daemonRouter(in: folder).respond(
            to: APIRequest(method: "POST", path: path, query: [:], body: Array(body.utf8)))
        #expect(answer.status >= 400)
        let message = try JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body)).message
        #expect(message == SwarmError.notInSwarm.description)
        #expect(FileSystem.list(folder).isEmpty)
    }

    @Test func initRefusesAHeartbeatPeriodNoManagerCouldRunWith() async throws {
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let swarm = Swarm(dataDirectory: folder, hostname: "test", group: MultiThreadedEventLoopGroup.singleton,
                          runner: IdleRunner(), logger: Logger(label: "test"))
        await #expect(throws: SwarmError.self) {
            _ = try await swarm.initialize(advertiseAddress: "127.0.0.1:2377", listenAddress: "127.0.0.1:2377",
                                           heartbeatPeriodSeconds: 1e300)
        }
        #expect(FileSystem.list(folder).isEmpty)
    }

    // MARK: Fuzz

    @Test func randomTargetsAndBodiesNeverCrashTheParserOrTheRouter() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        print("APIHardeningTests fuzz seed: \(seed)")
        var random = SplitMix64(seed: seed)
        let folder = try Self.temporaryDirectory()
        defer { FileSystem.removeTree(folder) }
        let router = Self.daemonRouter(in: folder)
        let alphabet = Array("/?&=%+ #abcxyz0189AFaf-._~\u{0}\u{7f}é".utf8) + [0xff, 0xc3]
        let paths = ["/_ping", "/info", "/tasks", "/nodes", "/services", "/swarm/join-token", "/services/logs",
                     "/services/inspect", "/nodes/inspect", "/nodes/update", "/services/update"]
        let bodies = [#"{"target":"x","tail":"#, #"{"service":"#, #"{"node":"x","availability":"#, "", "null", "[]"]
        // A hang shows as one slow answer; the whole run's time only says how busy the machine is.
        var slowest = Duration.zero
        for round in 0..<100_000 {
            let length = Int(random.next() % 40)
            var bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            if round % 2 == 0 { bytes = Array(paths[Int(random.next() % UInt64(paths.count))].utf8) + [UInt8(ascii: "?")] + bytes }
            let target = String(decoding: bytes, as: UTF8.self)
            guard let parsed = RequestTarget(parsing: target) else { continue }
            // Only reads and refused writes: nothing here may start a swarm.
            guard round % 10 == 0 else { continue }
            var body = Array(bodies[Int(random.next() % UInt64(bodies.count))].utf8)
            body += (0..<Int(random.next() % 24)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let method = random.next() % 2 == 0 ? "GET" : "POST"
            let asked = ContinuousClock.now
            let answer = await router.respond(to: APIRequest(method: method, path: parsed.path, query: parsed.query, body: body))
            slowest = max(slowest, ContinuousClock.now - asked)
            #expect((200..<600).contains(answer.status))
        }
        #expect(slowest < .seconds(5), "seed \(seed)")
    }

    @Test func randomBytesOverTheSocketNeverCrashTheServer() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        print("APIHardeningTests socket fuzz seed: \(seed)")
        var random = SplitMix64(seed: seed)
        try await withServer(requestTimeout: .milliseconds(200)) { socketPath in
            let prefixes = ["GET /query?", "POST /query?name=", "GET /", "", "GET /_ping HTTP/1.1\r\nContent-Length: "]
            for _ in 0..<300 {
                var bytes = Array(prefixes[Int(random.next() % UInt64(prefixes.count))].utf8)
                bytes += (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                bytes += Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                let sent = bytes
                _ = try await offTheCooperativePool { try Self.exchange(socketPath, sent, seconds: 2) }
            }
            #expect(try await offTheCooperativePool { try APIClient(socketPath: socketPath).send("GET", "/_ping") }.status == 200,
                    "seed \(seed)")
        }
    }
}
