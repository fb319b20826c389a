import Testing
@testable import Addressing
@testable import DNS

@Suite struct ForwardingTests {
    let upstream = "192.0.2.53:53"

    /// A forwarded query for `example.org A` from a client with id 0x1234.
    func forwarded(transport: DNSTransport = .udp, udpPayload: UInt16? = nil) throws -> DNSForwardedQuery {
        let directory = DNSDirectory(networks: [])
        guard case .forward(let forwarded) = directory.respond(to: try makeQuery("example.org", udpPayload: udpPayload),
                                                               over: transport, fromNetworks: [], rotation: 0)
        else { throw DNSWireError.truncated }
        return forwarded
    }

    /// An upstream reply to `example.org A` (question as `name`), with `count` answers.
    func upstreamReply(id: UInt16, code: DNSResponseCode = .noError, name: String = "example.org", count: Int = 1,
                       truncated: Bool = false) throws -> [UInt8] {
        var header = DNSHeader(id: id).reply(code: code)
        header.recursionDesired = true
        header.isTruncated = truncated
        let owner = try DNSName(name)
        return DNSMessage(header: header, questions: [DNSQuestion(name: owner, type: .a)],
                          answers: (0..<count).map { DNSRecord(name: owner, type: .a, ttl: 60, data: .a(IPv4Address(UInt32($0)))) })
            .serialized()
    }

    @Test func theUpstreamQueryIsTheClientsWithAnotherID() throws {
        let query = try forwarded()
        let sent = query.upstreamQuery(id: 0xabcd)
        #expect(Array(sent[0..<2]) == [0xab, 0xcd] && Array(sent[2...]) == Array(query.query[2...]))
    }

    /// Only a query identical but for its id may share another's upstream reply.
    func forwarded(_ bytes: [UInt8], over transport: DNSTransport = .udp) throws -> DNSForwardedQuery {
        guard case .forward(let query) = DNSDirectory(networks: []).respond(to: bytes, over: transport, fromNetworks: [], rotation: 0)
        else { throw DNSWireError.truncated }
        return query
    }

    @Test func queriesDifferingInTheirIDAloneShareAReplyWithEachClientsID() throws {
        let first = try forwarded(makeQuery("example.org", id: 1))
        let second = try forwarded(makeQuery("example.org", id: 2))
        #expect(first.coalescingKey == second.coalescingKey)
        for other in [try forwarded(makeQuery("example.org", id: 1), over: .tcp),
                      try forwarded(makeQuery("example.org", .mx, id: 1)),
                      try forwarded(makeQuery("EXAMPLE.org", id: 1)),
                      try forwarded(makeQuery("example.org", id: 1, udpPayload: 1232)),
                      try forwarded(makeQuery("example.org", id: 1).with(2, 0))] {  // RD clear
            #expect(other.coalescingKey != first.coalescingKey)
        }
        guard case .reply(let reply) = first.judge(try upstreamReply(id: 7), from: upstream, over: .udp, upstreamID: 7, upstream: upstream)
        else { Issue.record("the upstream reply was refused"); return }
        let adopted = second.adopting(reply)
        #expect(Array(adopted[0..<2]) == [0, 2] && Array(adopted[2...]) == Array(reply[2...]))
        #expect(Array(second.adopting(first.serverFailure())) == second.serverFailure())
    }

    @Test func onlyTheReplyWithOurIDQuestionAndSenderCounts() throws {
        let query = try forwarded()
        let good = try upstreamReply(id: 0xabcd)
        func judge(_ reply: [UInt8], from source: String? = nil) -> DNSForwardedQuery.Verdict {
            query.judge(reply, from: source ?? upstream, over: .udp, upstreamID: 0xabcd, upstream: upstream)
        }
        #expect(judge(try upstreamReply(id: 0xabce)) == .ignore)
        #expect(judge(good, from: "192.0.2.54:53") == .ignore)
        #expect(judge(try upstreamReply(id: 0xabcd, name: "example.com")) == .ignore)
        #expect(judge(good.with(2, good[2] & 0x7f)) == .ignore)  // a query, not a reply
        #expect(judge(Array(good.prefix(11))) == .ignore)
        #expect(judge(Array(good.prefix(14))) == .ignore)
        #expect(judge(good.with(5, 0)) == .ignore)  // no question
        guard case .reply(let bytes) = judge(try upstreamReply(id: 0xabcd, name: "EXAMPLE.org")) else {
            Issue.record("a reply differing only in case was refused")
            return
        }
        #expect(Array(bytes[0..<2]) == [0x12, 0x34])
    }

    @Test func failuresTryTheNextServerAndNXDOMAINIsTheAnswer() throws {
        let query = try forwarded()
        for code in [DNSResponseCode.serverFailure, .refused] {
            #expect(query.judge(try upstreamReply(id: 9, code: code), from: upstream, over: .udp, upstreamID: 9,
                                upstream: upstream) == .tryNextServer)
        }
        let nxdomain = try upstreamReply(id: 9, code: .nameError, count: 0)
        #expect(query.judge(nxdomain, from: upstream, over: .udp, upstreamID: 9, upstream: upstream)
            == .reply([0x12, 0x34] + nxdomain.dropFirst(2)))
    }

    @Test func aTruncatedUDPReplyIsAskedAgainOverTCPAndCutToTheClientsSize() throws {
        let query = try forwarded()
        #expect(query.judge(try upstreamReply(id: 9, truncated: true), from: upstream, over: .udp, upstreamID: 9,
                            upstream: upstream) == .retryOverTCP)
        // Over TCP the whole answer comes: 100 records, more than the client's 512 bytes.
        guard case .reply(let bytes) = query.judge(try upstreamReply(id: 9, count: 100), from: upstream, over: .tcp,
                                                   upstreamID: 9, upstream: upstream)
        else {
            Issue.record("the TCP reply was not relayed")
            return
        }
        let cut = try DNSMessage(parsing: bytes)
        #expect(bytes.count <= 512 && cut.header.isTruncated && cut.header.id == 0x1234 && !cut.answers.isEmpty)
        // A TCP client takes it whole.
        let tcpQuery = try forwarded(transport: .tcp)
        guard case .reply(let whole) = tcpQuery.judge(try upstreamReply(id: 9, count: 100), from: upstream, over: .tcp,
                                                      upstreamID: 9, upstream: upstream)
        else {
            Issue.record("the TCP reply was not relayed")
            return
        }
        #expect(try DNSMessage(parsing: whole).answers.count == 100)
    }

    @Test func anOversizedReplyThatDoesNotParseBecomesItsQuestionWithTC() throws {
        let query = try forwarded()
        let garbage = try upstreamReply(id: 9) + Array(repeating: 0xff, count: 600)
        var broken = garbage
        broken[7] = 5  // five answers claimed, one there, then junk
        guard case .reply(let bytes) = query.judge(broken, from: upstream, over: .tcp, upstreamID: 9, upstream: upstream) else {
            Issue.record("not relayed")
            return
        }
        let stub = try DNSMessage(parsing: bytes)
        #expect(stub.header.isTruncated && stub.answers.isEmpty && stub.questions == [query.question])
    }

    @Test func serverFailureKeepsTheClientsIDQuestionAndRD() throws {
        let failure = try DNSMessage(parsing: try forwarded().serverFailure())
        #expect(failure.header.id == 0x1234 && failure.header.responseCode == .serverFailure)
        #expect(failure.header.recursionDesired && failure.header.isResponse)
        #expect(failure.questions == [DNSQuestion(name: try DNSName("example.org"), type: .a)])
        #expect(failure.edns == nil)
        #expect(try DNSMessage(parsing: try forwarded(udpPayload: 1232).serverFailure()).edns?.udpPayloadSize == 4096)
    }
}
