import Testing
@testable import Addressing
@testable import DNS

/// A query as a stub resolver sends it: RD set, one question, optional EDNS(0).
func makeQuery(_ name: String, _ type: DNSRecordType = .a, id: UInt16 = 0x1234, udpPayload: UInt16? = nil) throws -> [UInt8] {
    var header = DNSHeader(id: id)
    header.recursionDesired = true
    return DNSMessage(header: header, questions: [DNSQuestion(name: try DNSName(name), type: type)],
                      edns: udpPayload.map(DNSExtension.init(udpPayloadSize:))).serialized()
}

func address(_ text: String) throws -> IPv4Address { try #require(IPv4Address(text)) }

@Suite struct CodecTests {
    /// dig's `whoami A` query with EDNS 1232, byte for byte.
    let whoamiQuery: [UInt8] = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x06, 0x77, 0x68, 0x6f, 0x61, 0x6d, 0x69, 0x00, 0x00, 0x01, 0x00, 0x01,
        0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    @Test func aQueryWithEDNSIsWrittenAndReadByteForByte() throws {
        #expect(try makeQuery("whoami", udpPayload: 1232) == whoamiQuery)
        let message = try DNSMessage(parsing: whoamiQuery)
        #expect(message.header.id == 0x1234 && message.header.recursionDesired && !message.header.isResponse)
        #expect(message.questions == [DNSQuestion(name: try DNSName("whoami"), type: .a)])
        #expect(message.edns?.udpPayloadSize == 1232 && message.edns?.version == 0)
        #expect(message.additionals.isEmpty)
    }

    @Test func ownerNamesOfAnswersArePointersToTheQuestion() throws {
        var header = DNSHeader(id: 7).reply(code: .noError)
        header.recursionDesired = true
        let name = try DNSName("whoami")
        let reply = DNSMessage(header: header, questions: [DNSQuestion(name: name, type: .a)],
                               answers: try ["172.28.0.3", "172.28.0.2", "172.28.0.4"].map {
                                   DNSRecord(name: name, type: .a, ttl: 600, data: .a(try address($0)))
                               }, edns: DNSExtension(udpPayloadSize: 4096))
        let bytes = reply.serialized()
        // dig reported "MSG SIZE rcvd: 83" for the same reply from another server.
        #expect(bytes.count == 83)
        #expect(Array(bytes[24..<26]) == [0xc0, 0x0c])
        #expect(try DNSMessage(parsing: bytes) == reply)
    }

    @Test func everyTypedRecordRoundTrips() throws {
        let zone = try DNSName("Example.ORG")
        let mail = try DNSName("mail.example.org")
        let records: [DNSRecord] = [
            DNSRecord(name: zone, type: .a, ttl: 1, data: .a(try address("10.0.0.1"))),
            DNSRecord(name: zone, type: .aaaa, ttl: 2, data: .aaaa([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])),
            DNSRecord(name: zone, type: .ns, ttl: 3, data: .ns(try DNSName("ns1.example.org"))),
            DNSRecord(name: mail, type: .cname, ttl: 4, data: .cname(zone)),
            DNSRecord(name: try DNSName("1.0.0.10.in-addr.arpa"), type: .ptr, ttl: 5, data: .ptr(zone)),
            DNSRecord(name: zone, type: .mx, ttl: 6, data: .mx(preference: 10, exchange: mail)),
            DNSRecord(name: zone, type: .txt, ttl: 7, data: .txt([Array("v=spf1".utf8), [], [0, 0xff, 0x22]])),
            DNSRecord(name: try DNSName("_http._tcp.example.org"), type: .srv, ttl: 8,
                      data: .srv(priority: 0, weight: 10, port: 8080, target: mail)),
            DNSRecord(name: zone, type: .soa, ttl: 9, data: .soa(DNSStartOfAuthority(
                primary: try DNSName("ns1.example.org"), mailbox: try DNSName("root.example.org"),
                serial: 2020, refresh: 3600, retry: 600, expire: 86400, minimum: 60))),
            DNSRecord(name: zone, type: DNSRecordType(rawValue: 65), recordClass: DNSClass(rawValue: 3), ttl: 10,
                      data: .raw([1, 2, 3])),
        ]
        var edns = DNSExtension(udpPayloadSize: 1400)
        edns.dnssecOK = true
        edns.options = [.init(code: 10, data: Array(1...8))]
        var header = DNSHeader(id: 0xbeef).reply(code: .badVersion)
        header.isAuthoritative = true
        let message = DNSMessage(header: header, questions: [DNSQuestion(name: zone, type: .any)],
                                 answers: Array(records[0..<6]), authorities: Array(records[6..<8]),
                                 additionals: Array(records[8...]), edns: edns)
        #expect(try DNSMessage(parsing: message.serialized()) == message)
    }

    @Test func manyNamesAreCompressedAsWellAsFew() throws {
        // 40 owners under the question's zone: each is its own label and a pointer to the zone,
        // also once the writer has more suffixes than its short list holds.
        let zone = try DNSName("example.org")
        let answers = try (0..<40).map { DNSRecord(name: try DNSName("host\($0).example.org"), type: .a, ttl: 1, data: .a(IPv4Address(UInt32($0)))) }
        let message = DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: zone, type: .a)], answers: answers)
        let bytes = message.serialized()
        #expect(try DNSMessage(parsing: bytes) == message)
        let owners = (0..<40).reduce(0) { $0 + 1 + "host\($1)".utf8.count + 2 }
        #expect(bytes.count == 12 + zone.wire.count + 4 + owners + 40 * 14)
    }

    @Test func aPointerIntoTheMiddleOfAnEarlierNameIsFollowed() throws {
        // Question "www.example", then an answer owned by "mail" + pointer to "example" (offset 16).
        var bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        bytes += [3] + Array("www".utf8) + [7] + Array("example".utf8) + [0, 0, 1, 0, 1]
        bytes += [4] + Array("mail".utf8) + [0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]
        let message = try DNSMessage(parsing: bytes)
        #expect(message.answers.first?.name == (try DNSName("mail.example")))
    }

    /// A header for a reply with one question and one answer, then `body`.
    private func packet(_ body: [UInt8], questions: UInt8 = 1, answers: UInt8 = 0) -> [UInt8] {
        [0, 1, 0x81, 0x80, 0, questions, 0, answers, 0, 0, 0, 0] + body
    }

    @Test func malformedPacketsThrowTheirError() throws {
        let cases: [([UInt8], DNSWireError)] = [
            ([], .shorterThanHeader),
            (Array(repeating: 0, count: 11), .shorterThanHeader),
            // A pointer to itself, one forward, one to a later point of the same name, a loop of two.
            (packet([0xc0, 12, 0, 1, 0, 1]), .badPointer),
            (packet([0xc0, 14, 0, 1, 0, 1, 0]), .badPointer),
            (packet([1, 0x61, 0xc0, 12, 0, 1, 0, 1]), .badPointer),
            // (the question's type is a pointer to the answer's name, which points back at it)
            (packet([0, 0xc0, 17, 0, 1, 0xc0, 13, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], answers: 1), .badPointer),
            // A label running past the end, and a name with no end.
            (packet([5, 0x61, 0x62, 0x63, 0x64]), .truncated),
            (packet([1, 0x61, 1, 0x62, 1]), .truncated),
            // Length bytes of the reserved label types.
            (packet([0x40, 0, 1, 0, 1]), .labelTooLong),
            (packet([0x80, 0, 1, 0, 1]), .labelTooLong),
            // 200 questions claimed in 5 bytes.
            (packet([0, 0, 1, 0, 1], questions: 200), .countsExceedPacket),
            (packet([0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3], answers: 1), .badRecordData(type: 1)),
            // An MX whose name runs past its data length.
            (packet([0, 0, 1, 0, 1, 0, 0, 15, 0, 1, 0, 0, 0, 0, 0, 3, 0, 1, 1, 0x61, 0], answers: 1),
             .badRecordData(type: 15)),
            (packet([0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1, 2], answers: 1), .truncated),
        ]
        for (bytes, error) in cases {
            #expect(throws: error) { try DNSMessage(parsing: bytes) }
        }
    }

    @Test func aNameOver255BytesIsRefused() throws {
        // 5 labels of 63 bytes: 320 bytes of name.
        let label: [UInt8] = [63] + Array(repeating: UInt8(ascii: "a"), count: 63)
        let body = Array(repeating: label, count: 5).joined() + [0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.nameTooLong) { try DNSMessage(parsing: packet(body)) }
        // The same through pointers: each name adds a label to the one before it.
        var chained: [UInt8] = [63] + Array(repeating: 0x61, count: 63) + [0, 0, 1, 0, 1]
        var previous = 12
        for _ in 0..<4 {
            let start = 12 + chained.count
            chained += [63] + Array(repeating: 0x61, count: 63) + [0xc0, UInt8(previous), 0, 1, 0, 1]
            previous = start
        }
        #expect(throws: DNSWireError.nameTooLong) { try DNSMessage(parsing: packet(chained, questions: 5)) }
    }

    @Test func twoOPTRecordsAreRefusedAndTheExtendedCodeIsRead() throws {
        let opt: [UInt8] = [0, 0, 41, 0x10, 0, 0x01, 0, 0, 0, 0, 0]  // udp 4096, extended code 1
        var bytes: [UInt8] = [0, 1, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 1] + opt
        #expect(try DNSMessage(parsing: bytes).header.responseCode == .badVersion)
        bytes[11] = 2
        #expect(throws: DNSWireError.severalOPTRecords) { try DNSMessage(parsing: bytes + opt) }
    }

    @Test func namesFromText() throws {
        #expect(try DNSName("whoami") == DNSName("whoami."))
        #expect(try DNSName("WhoAmI.").description == "WhoAmI.")
        #expect(try DNSName("WhoAmI").isEqualIgnoringCase(DNSName("whoami")))
        #expect(try DNSName("WhoAmI").lowercased() == DNSName("whoami"))
        #expect(try DNSName(".") == .root && DNSName.root.description == ".")
        #expect(DNSName(trustedWire: [3, 0x61, 0x2e, 0x0a, 0]).description == "a\\.\\010.")
        #expect(throws: DNSWireError.emptyLabel) { try DNSName("a..b") }
        #expect(throws: DNSWireError.emptyLabel) { try DNSName("") }
        #expect(throws: DNSWireError.labelTooLong) { try DNSName(String(repeating: "a", count: 64)) }
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSWireError.nameTooLong) { try DNSName(long) }
    }

    @Test func anOversizedMessageLosesWholeRecordsFromTheEndAndSetsTC() throws {
        let name = try DNSName("tasks.big")
        let answers = (0..<100).map { DNSRecord(name: name, type: .a, ttl: 600, data: .a(IPv4Address(0x0a00_0000 + UInt32($0)))) }
        let message = DNSMessage(header: DNSHeader(id: 1).reply(code: .noError), questions: [DNSQuestion(name: name, type: .a)],
                                 answers: answers, additionals: [DNSRecord(name: name, type: .txt, ttl: 1, data: .txt([[1]]))],
                                 edns: DNSExtension(udpPayloadSize: 4096))
        let full = message.serialized()
        #expect(try !DNSMessage(parsing: full).header.isTruncated)
        let cut = message.serialized(maximumSize: 512)
        #expect(cut.count <= 512)
        let parsed = try DNSMessage(parsing: cut)
        #expect(parsed.header.isTruncated && parsed.edns != nil && parsed.additionals.isEmpty)
        #expect(parsed.answers == Array(answers.prefix(parsed.answers.count)))
        // Header, question, OPT and 16 bytes an answer: 29 answers fit in 512.
        #expect(parsed.answers.count == 29)
    }
}
