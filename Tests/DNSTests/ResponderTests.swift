import Testing
@testable import Addressing
@testable import DNS

/// Two networks: "front" (whoami: 3 tasks behind a VIP; db: dnsrr, 2 tasks) and "back" (api).
func makeDirectory() throws -> DNSDirectory {
    let whoami = DNSDirectory.Service(id: "s1", name: "whoami", endpointMode: .vip, virtualIP: try address("10.0.1.2"), tasks: [
        .init(id: "t1aaaaaaaaaaaaaaaaaaaaaaa", slot: "1", address: try address("10.0.1.3")),
        .init(id: "t2bbbbbbbbbbbbbbbbbbbbbbb", slot: "2", address: try address("10.0.1.4")),
        .init(id: "t3ccccccccccccccccccccccc", slot: "3", address: try address("10.0.1.5")),
    ])
    let db = DNSDirectory.Service(id: "s2", name: "db", endpointMode: .dnsrr, virtualIP: nil, tasks: [
        .init(id: "t4ddddddddddddddddddddddd", slot: "1", address: try address("10.0.1.6")),
        .init(id: "t5eeeeeeeeeeeeeeeeeeeeeee", slot: "2", address: try address("10.0.1.7")),
    ])
    let api = DNSDirectory.Service(id: "s3", name: "api", endpointMode: .vip, virtualIP: try address("10.0.2.2"), tasks: [
        .init(id: "t6fffffffffffffffffffffff", slot: "1", address: try address("10.0.2.3")),
    ])
    return DNSDirectory(networks: [
        .init(id: "n1", name: "front", services: [whoami, db]),
        .init(id: "n2", name: "back", services: [api]),
    ])
}

@Suite struct ResponderTests {
    let directory: DNSDirectory

    init() throws { directory = try makeDirectory() }

    /// The reply to `name`/`type` asked from `networks`; fails the test when it is not an answer.
    func reply(_ name: String, _ type: DNSRecordType = .a, from networks: [String] = ["n1"], rotation: UInt64 = 0,
               transport: DNSTransport = .udp, udpPayload: UInt16? = nil) throws -> DNSMessage {
        let query = try makeQuery(name, type, udpPayload: udpPayload)
        guard case .answer(let bytes) = directory.respond(to: query, over: transport, fromNetworks: networks,
                                                          rotation: rotation) else {
            Issue.record("\(name) \(type) was not answered")
            return DNSMessage(header: DNSHeader(id: 0))
        }
        return try DNSMessage(parsing: bytes)
    }

    func addresses(_ message: DNSMessage) -> [String] {
        message.answers.compactMap { if case .a(let address) = $0.data { address.description } else { nil } }
    }

    func pointers(_ message: DNSMessage) -> [String] {
        message.answers.compactMap { if case .ptr(let name) = $0.data { name.description } else { nil } }
    }

    @Test func aServiceIsItsVirtualIP() throws {
        let message = try reply("whoami")
        #expect(addresses(message) == ["10.0.1.2"])
        #expect(message.header.id == 0x1234 && message.header.isResponse && message.header.recursionDesired)
        #expect(message.header.recursionAvailable && !message.header.isAuthoritative && message.header.responseCode == .noError)
        #expect(message.answers.allSatisfy { $0.ttl == 600 && $0.name == (try? DNSName("whoami")) })
        #expect(message.questions == [DNSQuestion(name: try DNSName("whoami"), type: .a)])
    }

    @Test func tasksAndDNSRRServicesAreEveryTaskRotatedPerQuery() throws {
        #expect(addresses(try reply("tasks.whoami")) == ["10.0.1.3", "10.0.1.4", "10.0.1.5"])
        #expect(addresses(try reply("tasks.whoami", rotation: 1)) == ["10.0.1.4", "10.0.1.5", "10.0.1.3"])
        #expect(addresses(try reply("tasks.whoami", rotation: 5)) == ["10.0.1.5", "10.0.1.3", "10.0.1.4"])
        #expect(addresses(try reply("db")) == ["10.0.1.6", "10.0.1.7"])
        #expect(addresses(try reply("db", rotation: 1)) == ["10.0.1.7", "10.0.1.6"])
        #expect(addresses(try reply("tasks.db", rotation: 2)) == ["10.0.1.6", "10.0.1.7"])
    }

    @Test func slotAndTaskNamesAreOneTask() throws {
        #expect(addresses(try reply("whoami.2")) == ["10.0.1.4"])
        #expect(addresses(try reply("whoami.2.t2bbbbbbbbbbbbbbbbbbbbbbb")) == ["10.0.1.4"])
        #expect(addresses(try reply("t3ccccccccccccccccccccccc")) == ["10.0.1.5"])
        #expect(addresses(try reply("db.1")) == ["10.0.1.6"])
    }

    @Test func aTasksHostnameIsItsShortIDAsAContainersIs() throws {
        #expect(DNSDirectory.hostname(ofTask: "t3ccccccccccccccccccccccc") == "t3cccccccccc")
        #expect(addresses(try reply("t3cccccccccc")) == ["10.0.1.5"])
        #expect(addresses(try reply("t3cccccccccc.front")) == ["10.0.1.5"])
        #expect(addresses(try reply("t6ffffffffff", from: ["n2"])) == ["10.0.2.3"])
        guard case .forward = directory.respond(to: try makeQuery("t6ffffffffff"), over: .udp, fromNetworks: ["n1"], rotation: 0) else {
            Issue.record("a task of another network was named")
            return
        }
    }

    @Test func namesMatchInAnyCaseAndEchoTheAskersCase() throws {
        let message = try reply("WhoAmI.2.")
        #expect(addresses(message) == ["10.0.1.4"])
        #expect(message.answers.first?.name.description == "WhoAmI.2.")
        #expect(addresses(try reply("TASKS.Whoami")).count == 3)
    }

    @Test func aNameQualifiedWithItsNetworkResolvesToo() throws {
        #expect(addresses(try reply("whoami.front")) == ["10.0.1.2"])
        #expect(addresses(try reply("whoami.1.t1aaaaaaaaaaaaaaaaaaaaaaa.front")) == ["10.0.1.3"])
        guard case .forward = directory.respond(to: try makeQuery("whoami.back"), over: .udp, fromNetworks: ["n1", "n2"],
                                                rotation: 0) else {
            Issue.record("whoami.back was answered, but whoami is not on back")
            return
        }
    }

    @Test func reverseNamesAreTheNamesDockerGives() throws {
        #expect(pointers(try reply("4.1.0.10.in-addr.arpa", .ptr)) == ["whoami.2.t2bbbbbbbbbbbbbbbbbbbbbbb.front."])
        #expect(pointers(try reply("2.1.0.10.in-addr.arpa.", .ptr)) == ["whoami.front."])
        #expect(pointers(try reply("3.2.0.10.in-addr.arpa", .ptr, from: ["n2"])) == ["api.1.t6fffffffffffffffffffffff.back."])
        let ptr = try reply("4.1.0.10.in-addr.arpa", .ptr)
        #expect(ptr.answers.first?.ttl == 600 && ptr.answers.first?.type == .ptr)
    }

    @Test func otherTypesOfAKnownNameHaveNoDataButNoError() throws {
        for type in [DNSRecordType.aaaa, .mx, .txt, .srv, .ptr, .cname] {
            let message = try reply("whoami", type)
            #expect(message.header.responseCode == .noError && message.answers.isEmpty)
        }
        #expect(try reply("4.1.0.10.in-addr.arpa", .a).answers.isEmpty)
        #expect(addresses(try reply("whoami", .any)) == ["10.0.1.2"])
    }

    @Test func namesAreScopedToTheAskersNetworks() throws {
        let query = try makeQuery("api")
        guard case .forward(let forwarded) = directory.respond(to: query, over: .udp, fromNetworks: ["n1"], rotation: 0) else {
            Issue.record("api answered on a network it is not on")
            return
        }
        #expect(forwarded.question == DNSQuestion(name: try DNSName("api"), type: .a))
        #expect(forwarded.query == query && forwarded.transport == .udp)
        #expect(addresses(try reply("api", from: ["n1", "n2"])) == ["10.0.2.2"])
        #expect(addresses(try reply("api", from: ["unknown", "n2"])) == ["10.0.2.2"])
        guard case .forward = directory.respond(to: try makeQuery("2.2.0.10.in-addr.arpa", .ptr), over: .udp,
                                                fromNetworks: ["n1"], rotation: 0) else {
            Issue.record("a VIP of another network was named")
            return
        }
    }

    @Test func unknownNamesAndOtherClassesAreForwarded() throws {
        var chaos = try DNSMessage(parsing: try makeQuery("whoami"))
        chaos.questions[0].recordClass = .chaos
        for query in [try makeQuery("tasks.nosuch"), try makeQuery("example.org", .mx), try makeQuery("whoami.9"),
                      try makeQuery("9.9.9.9.in-addr.arpa", .ptr), chaos.serialized()] {
            guard case .forward(let forwarded) = directory.respond(to: query, over: .tcp, fromNetworks: ["n1"], rotation: 0)
            else {
                Issue.record("\(query) was not forwarded")
                continue
            }
            #expect(forwarded.transport == .tcp)
        }
    }

    @Test func malformedOrUnsupportedQueriesGetFORMERRNOTIMPOrNothing() throws {
        let valid = try makeQuery("whoami")
        func code(_ bytes: [UInt8]) throws -> DNSMessage? {
            guard case .answer(let reply) = directory.respond(to: bytes, over: .udp, fromNetworks: ["n1"], rotation: 0) else {
                return nil
            }
            return try DNSMessage(parsing: reply)
        }
        // Two questions, none, a body cut short: FORMERR with the query's id.
        var two = try DNSMessage(parsing: valid)
        two.questions.append(two.questions[0])
        for bytes in [two.serialized(), Array(valid.prefix(12)).with(5, 0), Array(valid.dropLast(3))] {
            let reply = try #require(try code(bytes))
            #expect(reply.header.responseCode == .formatError && reply.header.id == 0x1234 && reply.questions.isEmpty)
        }
        // Opcode STATUS (2): NOTIMP, opcode echoed.
        let status = try #require(try code(valid.with(2, valid[2] | 0x10)))
        #expect(status.header.responseCode == .notImplemented && status.header.opcode == 2)
        // A response, or less than a header: dropped.
        #expect(directory.respond(to: valid.with(2, valid[2] | 0x80), over: .udp, fromNetworks: ["n1"], rotation: 0) == .drop)
        #expect(directory.respond(to: Array(valid.prefix(11)), over: .udp, fromNetworks: ["n1"], rotation: 0) == .drop)
        #expect(directory.respond(to: [], over: .udp, fromNetworks: ["n1"], rotation: 0) == .drop)
    }

    @Test func EDNSIsAnsweredWithOursAndAnUnknownVersionWithBADVERS() throws {
        #expect(try reply("whoami", udpPayload: 1232).edns?.udpPayloadSize == 4096)
        #expect(try reply("whoami").edns == nil)
        var query = try DNSMessage(parsing: try makeQuery("whoami", udpPayload: 1232))
        query.edns?.version = 1
        guard case .answer(let bytes) = directory.respond(to: query.serialized(), over: .udp, fromNetworks: ["n1"], rotation: 0)
        else {
            Issue.record("EDNS version 1 not answered")
            return
        }
        let reply = try DNSMessage(parsing: bytes)
        #expect(reply.header.responseCode == .badVersion && reply.answers.isEmpty && reply.edns != nil)
    }

    @Test func UDPRepliesAreCutToTheClientsSizeWithTCAndTCPOnesAreWhole() throws {
        let tasks = (0..<300).map { DNSDirectory.Task(id: "task\($0)", slot: String($0 + 1), address: IPv4Address(0x0a01_0000 + UInt32($0))) }
        let big = DNSDirectory(networks: [.init(id: "n", name: "net", services: [
            .init(id: "s", name: "big", endpointMode: .dnsrr, virtualIP: nil, tasks: tasks),
        ])])
        func answer(_ transport: DNSTransport, _ udpPayload: UInt16?) throws -> (size: Int, message: DNSMessage) {
            guard case .answer(let bytes) = big.respond(to: try makeQuery("tasks.big", udpPayload: udpPayload), over: transport,
                                                        fromNetworks: ["n"], rotation: 0)
            else { throw DNSWireError.truncated }
            return (bytes.count, try DNSMessage(parsing: bytes))
        }
        let plain = try answer(.udp, nil)
        #expect(plain.size <= 512 && plain.message.header.isTruncated && plain.message.answers.count == 30)
        let tiny = try answer(.udp, 100)  // under 512: 512 holds
        #expect(tiny.size <= 512 && tiny.size > 400 && tiny.message.header.isTruncated)
        let edns = try answer(.udp, 1232)
        #expect(edns.size <= 1232 && edns.message.header.isTruncated && edns.message.edns != nil)
        let huge = try answer(.udp, 65000)  // capped at 4096
        #expect(huge.size <= 4096 && huge.message.header.isTruncated)
        let tcp = try answer(.tcp, nil)
        #expect(!tcp.message.header.isTruncated && tcp.message.answers.count == 300)
    }

    @Test func aServiceWithoutTasksIsANameWithoutData() throws {
        let empty = DNSDirectory(networks: [.init(id: "n", name: "net", services: [
            .init(id: "s", name: "idle", endpointMode: .dnsrr, virtualIP: nil, tasks: []),
        ])])
        for name in ["idle", "tasks.idle"] {
            guard case .answer(let bytes) = empty.respond(to: try makeQuery(name), over: .udp, fromNetworks: ["n"], rotation: 3)
            else {
                Issue.record("\(name) not answered")
                continue
            }
            let reply = try DNSMessage(parsing: bytes)
            #expect(reply.header.responseCode == .noError && reply.answers.isEmpty)
        }
    }
}

extension Array where Element == UInt8 {
    /// A copy with byte `index` replaced.
    func with(_ index: Int, _ value: UInt8) -> [UInt8] {
        var copy = self
        copy[index] = value
        return copy
    }
}
