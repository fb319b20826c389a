import Addressing

/// One exchange of `shoal dig`, to be printed the way ISC dig 9.18 prints it.
public struct DigExchange: Sendable {
    /// The words the user gave, repeated in the banner.
    public var arguments: [String]
    /// shoal's version, for the banner.
    public var version: String
    /// Whether `@SERVER` was given (dig then says "; (1 server found)").
    public var serverGiven: Bool
    /// The query sent (`DigRequest.queryMessage(id:)`).
    public var query: DNSMessage
    public var reply: DNSMessage
    /// The reply's size in bytes.
    public var replySize: Int
    public var elapsedMilliseconds: Int
    /// The server's address, and its port.
    public var server: String
    public var port: UInt16
    public var transport: DNSTransport
    /// When the reply came, as `%a %b %d %H:%M:%S %Z %Y` ("Mon Nov 16 22:36:37 UTC 2020").
    public var date: String

    public init(arguments: [String], version: String, serverGiven: Bool, query: DNSMessage, reply: DNSMessage,
                replySize: Int, elapsedMilliseconds: Int, server: String, port: UInt16, transport: DNSTransport,
                date: String) {
        self.arguments = arguments
        self.version = version
        self.serverGiven = serverGiven
        self.query = query
        self.reply = reply
        self.replySize = replySize
        self.elapsedMilliseconds = elapsedMilliseconds
        self.server = server
        self.port = port
        self.transport = transport
        self.date = date
    }

    /// dig's full output, from its leading blank line to the blank line after MSG SIZE.
    public var text: String {
        let header = reply.header
        var lines = ["", "; <<>> shoal dig \(version) <<>> \(arguments.joined(separator: " "))"]
        if serverGiven { lines.append("; (1 server found)") }
        lines.append(";; global options: +cmd")
        lines.append(";; Got answer:")
        lines.append(";; ->>HEADER<<- opcode: \(Self.opcodeName(header.opcode)), status: \(header.responseCode), id: \(header.id)")
        let flags = [(header.isResponse, "qr"), (header.isAuthoritative, "aa"), (header.isTruncated, "tc"),
                     (header.recursionDesired, "rd"), (header.recursionAvailable, "ra"), (header.authenticData, "ad"),
                     (header.checkingDisabled, "cd")].filter { $0.0 }.map { " " + $0.1 }.joined()
        lines.append(";; flags:\(flags); QUERY: \(reply.questions.count), ANSWER: \(reply.answers.count), "
            + "AUTHORITY: \(reply.authorities.count), ADDITIONAL: \(reply.additionals.count + (reply.edns == nil ? 0 : 1))")
        if header.recursionDesired && !header.recursionAvailable {
            lines.append(";; WARNING: recursion requested but not available")
        }
        if query.edns != nil, reply.edns == nil,
           header.responseCode == .formatError || header.responseCode == .notImplemented {
            lines.append("")
            lines.append(";; WARNING: EDNS query returned status \(header.responseCode) - retry with '+noedns'")
        }
        lines.append("")
        if let edns = reply.edns {
            lines.append(";; OPT PSEUDOSECTION:")
            lines.append("; EDNS: version: \(edns.version), flags:\(edns.dnssecOK ? " do" : ""); udp: \(edns.udpPayloadSize)")
            for option in edns.options { lines.append(Self.optionLine(option)) }
        }
        // Like the record sections, an empty question section is left out (a FORMERR may have none).
        if !reply.questions.isEmpty {
            lines.append(";; QUESTION SECTION:")
            lines += reply.questions.map(Self.questionLine)
            lines.append("")
        }
        for (title, records) in [("ANSWER", reply.answers), ("AUTHORITY", reply.authorities), ("ADDITIONAL", reply.additionals)]
            where !records.isEmpty {
            lines.append(";; \(title) SECTION:")
            lines += records.map(Self.recordLine)
            lines.append("")
        }
        lines.append(";; Query time: \(elapsedMilliseconds) msec")
        lines.append(";; SERVER: \(server)#\(port)(\(server)) (\(transport))")
        lines.append(";; WHEN: \(date)")
        lines.append(";; MSG SIZE  rcvd: \(replySize)")
        lines.append("")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `+short`: the answer records' data, one a line.
    public var shortText: String {
        reply.answers.map { Self.dataText($0.data) + "\n" }.joined()
    }

    static func opcodeName(_ opcode: UInt8) -> String {
        switch opcode {
        case 0: "QUERY"
        case 1: "IQUERY"
        case 2: "STATUS"
        case 4: "NOTIFY"
        case 5: "UPDATE"
        default: "RESERVED\(opcode)"
        }
    }

    /// A question as dig comments it out: name, class at column 32 and type at 40, the `;` not counted.
    static func questionLine(_ question: DNSQuestion) -> String {
        var line = DigColumns()
        line.append(question.name.description)
        line.indent(to: DigColumns.classColumn)
        line.append(question.recordClass.description)
        line.indent(to: DigColumns.typeColumn)
        line.append(question.type.description)
        return ";" + line.text
    }

    /// An owner, TTL, class, type and data line in dig's columns (24, 32, 40, 48; tabs of 8).
    static func recordLine(_ record: DNSRecord) -> String {
        var line = DigColumns()
        line.append(record.name.description)
        line.indent(to: DigColumns.ttlColumn)
        line.append(String(record.ttl))
        line.indent(to: DigColumns.classColumn)
        line.append(record.recordClass.description)
        line.indent(to: DigColumns.typeColumn)
        line.append(record.type.description)
        line.indent(to: DigColumns.dataColumn)
        line.append(dataText(record.data))
        return line.text
    }

    /// A record's data as master-file text.
    static func dataText(_ data: DNSRecordData) -> String {
        switch data {
        case .a(let address): address.description
        case .aaaa(let bytes): ipv6Text(bytes)
        case .ns(let name), .cname(let name), .ptr(let name): name.description
        case .mx(let preference, let exchange): "\(preference) \(exchange)"
        case .txt(let strings): strings.map(quoted).joined(separator: " ")
        case .srv(let priority, let weight, let port, let target): "\(priority) \(weight) \(port) \(target)"
        case .soa(let soa):
            "\(soa.primary) \(soa.mailbox) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case .raw(let bytes): bytes.isEmpty ? "\\# 0" : "\\# \(bytes.count) \(hex(bytes))"
        }
    }

    static func optionLine(_ option: DNSExtension.Option) -> String {
        option.code == 10 ? "; COOKIE: \(hex(option.data))" : "; OPT=\(option.code): \(hex(option.data))"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }

    /// A character-string in double quotes; `"` and `\` escaped, bytes outside printable ASCII as \DDD.
    static func quoted(_ string: [UInt8]) -> String {
        var text = "\""
        for byte in string {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): text += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7e: text.unicodeScalars.append(UnicodeScalar(byte))
            default: text += decimalEscape(byte)
            }
        }
        return text + "\""
    }

    /// RFC 5952 text: lower-case groups, the longest run of two or more zero groups as "::".
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return hex(bytes) }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best: Range<Int>?
        var start: Int?
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if start == nil { start = index }
            } else if let runStart = start {
                if index - runStart >= 2, index - runStart > best?.count ?? 0 { best = runStart..<index }
                start = nil
            }
        }
        let text = { (range: Range<Int>) in groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard let best else { return text(0..<8) }
        return text(0..<best.lowerBound) + "::" + text(best.upperBound..<8)
    }
}

/// A line written in columns the way BIND's master-file printer does: to reach a column it adds
/// tabs (of 8) and then spaces, and always at least one space when already there or past it.
struct DigColumns {
    static let ttlColumn = 24
    static let classColumn = 32
    static let typeColumn = 40
    static let dataColumn = 48
    private static let tabWidth = 8

    private(set) var text = ""
    private var column = 0

    mutating func append(_ part: String) {
        text += part
        column += part.unicodeScalars.count
    }

    mutating func indent(to target: Int) {
        let target = max(target, column + 1)
        let tabs = target / Self.tabWidth - column / Self.tabWidth
        if tabs > 0 {
            text += String(repeating: "\t", count: tabs)
            column = target / Self.tabWidth * Self.tabWidth
        }
        text += String(repeating: " ", count: target - column)
        column = target
    }
}
