/// A query the directory does not answer, to be asked of the upstream servers in turn (docker's
/// rule: SERVFAIL or REFUSED → the next server; any other reply, NXDOMAIN too, is the answer; no
/// server answers → `serverFailure()`).
///
/// Per upstream attempt the caller picks a fresh random id, sends `upstreamQuery(id:)`, and passes
/// every datagram or TCP message that comes back to `judge`, which ignores strays.
public struct DNSForwardedQuery: Sendable, Equatable {
    /// The client's bytes as received.
    public let query: [UInt8]
    public let question: DNSQuestion
    /// How the client asked (docker forwards over the same protocol).
    public let transport: DNSTransport
    let header: DNSHeader
    /// The largest reply the client takes.
    let replyLimit: Int
    /// What our own replies to this client carry (nil when it did not use EDNS).
    let replyEDNS: DNSExtension?

    init(query: [UInt8], header: DNSHeader, question: DNSQuestion, transport: DNSTransport, replyLimit: Int,
         replyEDNS: DNSExtension?) {
        self.query = query
        self.header = header
        self.question = question
        self.transport = transport
        self.replyLimit = replyLimit
        self.replyEDNS = replyEDNS
    }

    /// The client's query with `id` in place of the client's, so that a reply can be matched
    /// only by someone who saw the query.
    public func upstreamQuery(id: UInt16) -> [UInt8] {
        var bytes = query
        bytes[0] = UInt8(id >> 8)
        bytes[1] = UInt8(id & 0xff)
        return bytes
    }

    /// Equal for queries that differ in their id alone (same question, flags, EDNS and
    /// transport), which therefore take the same reply: one upstream attempt can answer
    /// them all, as dnsmasq and BIND coalesce them (fewer packets upstream, and no
    /// spread of ids for a forger to race).
    public var coalescingKey: CoalescingKey { CoalescingKey(transport: transport, bytes: query.dropFirst(2)) }

    public struct CoalescingKey: Hashable, Sendable {
        let transport: DNSTransport
        let bytes: ArraySlice<UInt8>
    }

    /// `reply`, made for a query with the same `coalescingKey`, with this client's id.
    public func adopting(_ reply: [UInt8]) -> [UInt8] {
        var bytes = reply
        guard bytes.count >= 2 else { return serverFailure() }
        bytes[0] = UInt8(header.id >> 8)
        bytes[1] = UInt8(header.id & 0xff)
        return bytes
    }

    /// What to do with bytes that came back while waiting for an upstream reply.
    public enum Verdict: Sendable, Equatable {
        /// Not the reply (another id, question or sender, or not a reply at all): keep waiting.
        case ignore
        /// SERVFAIL or REFUSED: ask the next server.
        case tryNextServer
        /// Cut short over UDP (TC): ask the same server again over TCP.
        case retryOverTCP
        /// The answer: send these bytes to the client (its id restored, cut to its size).
        case reply([UInt8])
    }

    /// Judges `reply`, received from `source` over `transport`, for the attempt that sent
    /// `upstreamQuery(id: upstreamID)` to `upstream`. A reply counts only if its id, its question
    /// (ignoring case) and its sender all match.
    public func judge<Address: Equatable>(_ reply: [UInt8], from source: Address, over transport: DNSTransport,
                                          upstreamID: UInt16, upstream: Address) -> Verdict {
        guard source == upstream, let header = try? DNSHeader(parsing: reply), header.isResponse,
              header.id == upstreamID, reply[4] == 0, reply[5] == 1
        else { return .ignore }
        var reader = DNSReader(reply, offset: DNSHeader.size)
        guard let echoed = try? reader.question(), echoed.matches(question) else { return .ignore }
        if header.responseCode == .serverFailure || header.responseCode == .refused { return .tryNextServer }
        if transport == .udp && header.isTruncated { return .retryOverTCP }
        return .reply(clientReply(from: reply, header: header))
    }

    /// SERVFAIL for the client: its id, opcode, RD and question (and our OPT if it sent one).
    public func serverFailure() -> [UInt8] {
        DNSMessage(header: header.reply(code: .serverFailure), questions: [question], edns: replyEDNS).serialized()
    }

    /// The upstream reply with the client's id; when larger than the client takes, cut to its size
    /// with TC set (just the question when the reply does not parse).
    private func clientReply(from reply: [UInt8], header replyHeader: DNSHeader) -> [UInt8] {
        var bytes = reply
        bytes[0] = UInt8(header.id >> 8)
        bytes[1] = UInt8(header.id & 0xff)
        guard bytes.count > replyLimit else { return bytes }
        guard var message = try? DNSMessage(parsing: bytes) else {
            var stub = DNSMessage(header: header.reply(code: replyHeader.responseCode), questions: [question], edns: replyEDNS)
            stub.header.isTruncated = true
            return stub.serialized()
        }
        message.header.isTruncated = true
        return message.serialized(maximumSize: replyLimit)
    }
}
