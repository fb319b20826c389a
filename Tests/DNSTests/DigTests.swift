import Testing
@testable import Addressing
@testable import DNS

@Suite struct DigTests {
    /// ISC dig 9.18.49 against a stub on 127.0.0.1:5399 (`dig @127.0.0.1 -p 5399 whoami`), banner
    /// and timings aside: the layout `shoal dig` must print.
    let capturedDig = """

        ; <<>> shoal dig 0.1.0 <<>> @127.0.0.1 -p 5399 whoami
        ; (1 server found)
        ;; global options: +cmd
        ;; Got answer:
        ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 13277
        ;; flags: qr rd ra; QUERY: 1, ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 1

        ;; OPT PSEUDOSECTION:
        ; EDNS: version: 0, flags:; udp: 4096
        ;; QUESTION SECTION:
        ;whoami.\t\t\t\tIN\tA

        ;; ANSWER SECTION:
        whoami.\t\t\t600\tIN\tA\t172.28.0.3
        whoami.\t\t\t600\tIN\tA\t172.28.0.2
        whoami.\t\t\t600\tIN\tA\t172.28.0.4

        ;; Query time: 12 msec
        ;; SERVER: 127.0.0.1#5399(127.0.0.1) (UDP)
        ;; WHEN: Mon Nov 30 07:35:24 UTC 2026
        ;; MSG SIZE  rcvd: 83


        """

    func whoamiReply() throws -> DNSMessage {
        var header = DNSHeader(id: 13277).reply(code: .noError)
        header.recursionDesired = true
        let name = try DNSName("whoami")
        return DNSMessage(header: header, questions: [DNSQuestion(name: name, type: .a)],
                          answers: try ["172.28.0.3", "172.28.0.2", "172.28.0.4"].map {
                              DNSRecord(name: name, type: .a, ttl: 600, data: .a(try address($0)))
                          }, edns: DNSExtension(udpPayloadSize: 4096))
    }

    func exchange(_ reply: DNSMessage, arguments: [String] = ["@127.0.0.1", "-p", "5399", "whoami"],
                  transport: DNSTransport = .udp) -> DigExchange {
        DigExchange(arguments: arguments, version: "0.1.0", serverGiven: arguments.contains { $0.hasPrefix("@") },
                    query: DigRequest(name: reply.questions.first?.name ?? .root).queryMessage(id: reply.header.id), reply: reply, replySize: reply.serialized().count, elapsedMilliseconds: 12, server: "127.0.0.1",
                    port: 5399, transport: transport, date: "Mon Nov 30 07:35:24 UTC 2026")
    }

    @Test func theOutputIsLaidOutAsISCDigLaysItOut() throws {
        #expect(exchange(try whoamiReply()).text == capturedDig)
    }

    @Test func shortPrintsTheDataAlone() throws {
        #expect(exchange(try whoamiReply()).shortText == "172.28.0.3\n172.28.0.2\n172.28.0.4\n")
    }

    @Test func longOwnersGetOneSpaceAsInDig() throws {
        // dig -x 172.28.0.2 against the same stub.
        let name = try DNSName("2.0.28.172.in-addr.arpa")
        var reply = try whoamiReply()
        reply.questions = [DNSQuestion(name: name, type: .ptr)]
        reply.answers = [DNSRecord(name: name, type: .ptr, ttl: 600,
                                   data: .ptr(try DNSName("whoami.1.aaaaaaaaaaaaaaaaaaaaaaaaa.net")))]
        let text = exchange(reply).text
        #expect(text.contains("\n;2.0.28.172.in-addr.arpa.\tIN\tPTR\n"))
        #expect(text.contains("\n2.0.28.172.in-addr.arpa. 600\tIN\tPTR\twhoami.1.aaaaaaaaaaaaaaaaaaaaaaaaa.net.\n"))
        let srv = try DNSName("_http._tcp.whoami")
        #expect(DigExchange.recordLine(DNSRecord(name: srv, type: .srv, ttl: 600, data: .srv(
            priority: 0, weight: 10, port: 8080, target: try DNSName("web._http._tcp.whoami"))))
            == "_http._tcp.whoami.\t600\tIN\tSRV\t0 10 8080 web._http._tcp.whoami.")
        let owner = String(repeating: "a", count: 27)
        #expect(DigExchange.recordLine(DNSRecord(name: try DNSName(owner), type: .a, ttl: 600, data: .a(try address("10.0.0.1"))))
            == "\(owner). 600 IN\tA\t10.0.0.1")
    }

    @Test func recordDataIsPrintedAsDigPrintsIt() throws {
        let whoami = try DNSName("whoami")
        #expect(DigExchange.dataText(.mx(preference: 10, exchange: try DNSName("mail.whoami"))) == "10 mail.whoami.")
        #expect(DigExchange.dataText(.soa(DNSStartOfAuthority(primary: try DNSName("ns.whoami"), mailbox: try DNSName("root.whoami"),
                                                              serial: 2020, refresh: 3600, retry: 600, expire: 86400, minimum: 60)))
            == "ns.whoami. root.whoami. 2020 3600 600 86400 60")
        #expect(DigExchange.dataText(.aaaa([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])) == "2001:db8::1")
        #expect(DigExchange.dataText(.aaaa(Array(repeating: 0, count: 16))) == "::")
        #expect(DigExchange.dataText(.aaaa([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4])) == "1:0:2::3:0:4")
        #expect(DigExchange.dataText(.txt([Array("hello".utf8), Array("a \"b\" \\".utf8), [7]])) == "\"hello\" \"a \\\"b\\\" \\\\\" \"\\007\"")
        #expect(DigExchange.dataText(.cname(whoami)) == "whoami.")
        #expect(DigExchange.dataText(.raw([0x0a, 0, 0, 1])) == "\\# 4 0A000001")
    }

    @Test func statusFlagsAndTheMissingOPTFollowTheReply() throws {
        var reply = try whoamiReply()
        reply.header.responseCode = .nameError
        reply.header.recursionAvailable = false
        reply.header.isAuthoritative = true
        reply.answers = []
        reply.edns = nil
        let text = exchange(reply, arguments: ["whoami", "+tcp"], transport: .tcp).text
        #expect(text.hasPrefix("\n; <<>> shoal dig 0.1.0 <<>> whoami +tcp\n;; global options: +cmd\n"))
        #expect(text.contains(";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 13277\n"))
        #expect(text.contains(";; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0\n"
            + ";; WARNING: recursion requested but not available\n\n;; QUESTION SECTION:\n"))
        #expect(!text.contains("ANSWER SECTION") && !text.contains("OPT PSEUDOSECTION"))
        #expect(text.contains(";; SERVER: 127.0.0.1#5399(127.0.0.1) (TCP)\n"))
        // A FORMERR without its question: no QUESTION SECTION.
        reply.header.responseCode = .formatError
        reply.questions = []
        let formerr = exchange(reply).text
        #expect(!formerr.contains("QUESTION SECTION"))
        // Our query had EDNS, the FORMERR has no OPT: dig suggests +noedns (captured from dig 9.18).
        #expect(formerr.contains("""
            ADDITIONAL: 0
            ;; WARNING: recursion requested but not available

            ;; WARNING: EDNS query returned status FORMERR - retry with '+noedns'

            ;; Query time:
            """))
    }

    @Test func argumentsAreReadAsDigReadsThem() throws {
        let plain = try DigRequest(arguments: ["whoami"])
        #expect(plain == DigRequest(name: try DNSName("whoami")))
        #expect(plain.port == 53 && plain.type == .a && plain.server == nil && !plain.short && !plain.tcp)
        let full = try DigRequest(arguments: ["@127.0.0.11", "-p", "5353", "tasks.whoami", "aaaa", "+short", "+tcp"])
        #expect(full.server == "127.0.0.11" && full.port == 5353 && full.type == .aaaa && full.short && full.tcp)
        #expect(full.name == (try DNSName("tasks.whoami")))
        #expect(try DigRequest(arguments: ["-t", "mx", "whoami"]).type == .mx)
        // A lone word is the name, even one that names a type: a service may be called "mx".
        #expect(try DigRequest(arguments: ["mx"]) == DigRequest(name: try DNSName("mx")))
        let typeFirst = try DigRequest(arguments: ["mx", "ns"])
        #expect(try typeFirst.type == .mx && typeFirst.name == DNSName("ns"))
        #expect(try DigRequest(arguments: ["-t", "A", "ns"]).name == (try DNSName("ns")))
        let reverse = try DigRequest(arguments: ["-x", "10.0.1.4"])
        #expect(reverse.name == (try DNSName("4.1.0.10.in-addr.arpa")) && reverse.type == .ptr)
        #expect(try DigRequest(arguments: ["-x", "10.0.1.4", "any"]).type == .any)
    }

    @Test func badArgumentsSayWhatIsWrongInOneLine() {
        let cases: [([String], DigArgumentError)] = [
            ([], .missingName),
            (["+short"], .missingName),
            (["-p"], .missingValue(flag: "-p")),
            (["@"], .missingValue(flag: "@")),
            (["-p", "0", "x"], .invalidPort("0")),
            (["-p", "70000", "x"], .invalidPort("70000")),
            (["-t", "HINFO", "x"], .unknownType("HINFO")),
            (["-x", "10.0.1"], .invalidReverseAddress("10.0.1")),
            (["a..b"], .invalidName("a..b")),
            (["+trace", "x"], .unknownOption("+trace")),
            (["--network", "x"], .unknownOption("--network")),
            (["x", "y"], .extraArgument("y")),
            (["a", "mx", "ns"], .extraArgument("ns")),
            (["x", "-x", "10.0.0.1"], .extraArgument("x")),
            (["-x", "10.0.0.1", "-x", "10.0.0.2"], .extraArgument("-x")),
        ]
        for (arguments, error) in cases {
            #expect(throws: error) { try DigRequest(arguments: arguments) }
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func theQueryAsksForRecursionWithEDNS() throws {
        let request = try DigRequest(arguments: ["whoami", "MX"])
        let query = try DNSMessage(parsing: request.queryMessage(id: 77).serialized())
        #expect(query.header.id == 77 && query.header.recursionDesired && !query.header.isResponse)
        #expect(query.questions == [DNSQuestion(name: try DNSName("whoami"), type: .mx)])
        #expect(query.edns?.udpPayloadSize == 1232)
    }
}
