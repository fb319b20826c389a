/// How a message came: it decides the reply's size limit.
public enum DNSTransport: Sendable, Hashable, CustomStringConvertible {
    case udp
    case tcp

    public var description: String { self == .udp ? "UDP" : "TCP" }
}

/// What the server does with one query.
public enum DNSResponse: Sendable, Equatable {
    /// Send these bytes back (over TCP behind the 2-byte length prefix).
    case answer([UInt8])
    /// Not a name of ours: ask the upstream servers (see `DNSForwardedQuery`).
    case forward(DNSForwardedQuery)
    /// Send nothing: not a query, or too short to answer.
    case drop
}

extension DNSDirectory {
    /// docker's TTL for every answer.
    public static let timeToLive: UInt32 = 600
    /// The UDP payload a client may ask for is kept within 512 (RFC 1035) and this; it is also what
    /// replies advertise as ours, so a UDP listener reads datagrams this large.
    public static let maximumUDPPayload = 4096

    /// Answers `query` (the bytes of one datagram, or of one TCP message without its length prefix)
    /// for a task attached to `networkIDs`, the first of them that knows a name winning.
    /// `rotation` (any counter the caller steps per query) picks which address of several comes first.
    ///
    /// A response (QR set) or a packet under 12 bytes is dropped; an opcode other than QUERY gets
    /// NOTIMP; a body that does not parse, or not exactly one question, gets FORMERR; an EDNS
    /// version other than 0 gets BADVERS. A name of the asker's networks is answered with TTL 600:
    /// A (or ANY) with its addresses, PTR with its name, any other type NOERROR without records.
    /// Every other name (also `tasks.nosuch`, as docker forwards whatever its records lack) and
    /// every class but IN and ANY is forwarded.
    public func respond(to query: [UInt8], over transport: DNSTransport, fromNetworks networkIDs: [String],
                        rotation: UInt64) -> DNSResponse {
        guard let header = try? DNSHeader(parsing: query), !header.isResponse else { return .drop }
        guard header.opcode == DNSHeader.queryOpcode else {
            return .answer(DNSMessage(header: header.reply(code: .notImplemented)).serialized())
        }
        guard let message = try? DNSMessage(parsing: query), message.questions.count == 1 else {
            return .answer(DNSMessage(header: header.reply(code: .formatError)).serialized())
        }
        let question = message.questions[0]
        let limit = Self.replyLimit(for: message, over: transport)
        var reply = DNSMessage(header: header.reply(code: .noError), questions: [question],
                               edns: message.edns.map { _ in DNSExtension(udpPayloadSize: UInt16(Self.maximumUDPPayload)) })
        if let version = message.edns?.version, version != 0 {
            reply.header.responseCode = .badVersion
            return .answer(reply.serialized(maximumSize: limit))
        }
        guard question.recordClass == .internet || question.recordClass == .any,
              let entry = entry(for: question.name, onNetworks: networkIDs)
        else {
            return .forward(DNSForwardedQuery(query: query, header: header, question: question, transport: transport,
                                              replyLimit: limit, replyEDNS: reply.edns))
        }
        switch (entry, question.type) {
        case (.addresses(let addresses), .a), (.addresses(let addresses), .any):
            let first = addresses.isEmpty ? 0 : Int(rotation % UInt64(addresses.count))
            reply.answers.reserveCapacity(addresses.count)
            for index in addresses.indices {
                let address = addresses[(first + index) % addresses.count]
                reply.answers.append(DNSRecord(name: question.name, type: .a, ttl: Self.timeToLive, data: .a(address)))
            }
        case (.pointer(let target), .ptr), (.pointer(let target), .any):
            reply.answers.append(DNSRecord(name: question.name, type: .ptr, ttl: Self.timeToLive, data: .ptr(target)))
        default:
            break
        }
        return .answer(reply.serialized(maximumSize: limit))
    }

    /// TCP: the largest message; UDP: the client's EDNS size within 512…4096, or 512 without EDNS.
    static func replyLimit(for query: DNSMessage, over transport: DNSTransport) -> Int {
        guard transport == .udp else { return DNSMessage.maximumSize }
        guard let edns = query.edns else { return 512 }
        return min(max(Int(edns.udpPayloadSize), 512), maximumUDPPayload)
    }
}
