import Addressing

/// Why bytes are not a DNS message (or text not a name). Every malformed input ends here, never in
/// a crash.
public enum DNSWireError: Error, Equatable, Sendable {
    /// Fewer than the 12 bytes of a header.
    case shorterThanHeader
    /// A field runs past the end of the packet.
    case truncated
    /// A length byte with the reserved label types 01 or 10, or text with a label over 63 bytes.
    case labelTooLong
    /// A name over 255 bytes in wire form.
    case nameTooLong
    /// A compression pointer that does not point strictly backwards (forward, to itself, a loop).
    case badPointer
    /// The header counts more questions and records than the packet has room for.
    case countsExceedPacket
    /// A record's data does not fit its type (an A record of 3 bytes, a name past its length…).
    case badRecordData(type: UInt16)
    /// More than one OPT record (RFC 6891 §6.1.1).
    case severalOPTRecords
    /// Text with an empty label ("a..b").
    case emptyLabel
}

/// The type of a record or question, e.g. `.a` (1); any 16-bit value is kept.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let srv = DNSRecordType(rawValue: 33)
    public static let opt = DNSRecordType(rawValue: 41)
    public static let any = DNSRecordType(rawValue: 255)

    static let mnemonics: [(String, DNSRecordType)] = [
        ("A", .a), ("NS", .ns), ("CNAME", .cname), ("SOA", .soa), ("PTR", .ptr), ("MX", .mx), ("TXT", .txt),
        ("AAAA", .aaaa), ("SRV", .srv), ("OPT", .opt), ("ANY", .any),
    ]

    /// The type's mnemonic ("A", "MX"), any case; nil for other words.
    public init?(mnemonic: some StringProtocol) {
        let upper = mnemonic.uppercased()
        guard let type = Self.mnemonics.first(where: { $0.0 == upper && $0.1 != .opt })?.1 else { return nil }
        self = type
    }

    /// "A", "MX", or "TYPE65" for a type without a mnemonic here (RFC 3597).
    public var description: String { Self.mnemonics.first { $0.1 == self }?.0 ?? "TYPE\(rawValue)" }
}

/// The class of a record or question; shoal answers only IN.
public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = DNSClass(rawValue: 1)
    public static let chaos = DNSClass(rawValue: 3)
    public static let any = DNSClass(rawValue: 255)

    public var description: String {
        switch self {
        case .internet: "IN"
        case .chaos: "CH"
        case DNSClass(rawValue: 4): "HS"
        case .any: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}

/// RCODE, with the 8 high bits an OPT record adds (RFC 6891), e.g. `.nameError` (NXDOMAIN).
public struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0xfff }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)
    public static let badVersion = DNSResponseCode(rawValue: 16)

    static let names = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                        "NXRRSET", "NOTAUTH", "NOTZONE", "RESERVED11", "RESERVED12", "RESERVED13", "RESERVED14",
                        "RESERVED15", "BADVERS"]

    /// dig's name: "NOERROR", "NXDOMAIN", …; the number for a code past BADVERS.
    public var description: String { Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : String(rawValue) }
}

/// The header's flags and codes; the section counts are derived from the message's arrays.
public struct DNSHeader: Equatable, Sendable {
    public static let size = 12

    public var id: UInt16
    public var isResponse = false
    /// 0 QUERY, 1 IQUERY, 2 STATUS, 4 NOTIFY, 5 UPDATE.
    public var opcode: UInt8 = 0
    public var isAuthoritative = false
    public var isTruncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var authenticData = false
    public var checkingDisabled = false
    /// The whole code: the header's 4 bits, with the OPT record's high bits once a message is parsed.
    public var responseCode = DNSResponseCode.noError

    public static let queryOpcode: UInt8 = 0

    public init(id: UInt16) { self.id = id }

    /// Reads the first 12 bytes alone, so that a packet whose body is malformed can still be
    /// answered FORMERR with its id and opcode.
    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        guard bytes.count >= Self.size else { throw .shorterThanHeader }
        id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        isResponse = flags & 0x8000 != 0
        opcode = UInt8(flags >> 11 & 0xf)
        isAuthoritative = flags & 0x0400 != 0
        isTruncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        authenticData = flags & 0x0020 != 0
        checkingDisabled = flags & 0x0010 != 0
        responseCode = DNSResponseCode(rawValue: flags & 0xf)
    }

    /// The 16 flag bits as sent (the response code's low 4 bits only).
    var flagBits: UInt16 {
        var flags = UInt16(opcode & 0xf) << 11 | responseCode.rawValue & 0xf
        if isResponse { flags |= 0x8000 }
        if isAuthoritative { flags |= 0x0400 }
        if isTruncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        return flags
    }

    /// The header of a reply to this query, as docker's resolver makes it: same id and opcode, RD
    /// and CD copied, RA set.
    public func reply(code: DNSResponseCode) -> DNSHeader {
        var reply = DNSHeader(id: id)
        reply.isResponse = true
        reply.opcode = opcode
        reply.recursionDesired = recursionDesired
        reply.checkingDisabled = checkingDisabled
        reply.recursionAvailable = true
        reply.responseCode = code
        return reply
    }
}

public struct DNSQuestion: Equatable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var recordClass: DNSClass

    public init(name: DNSName, type: DNSRecordType, recordClass: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }

    /// Same name (ignoring case), type and class: how a reply is matched to its query.
    public func matches(_ other: DNSQuestion) -> Bool {
        type == other.type && recordClass == other.recordClass && name.isEqualIgnoringCase(other.name)
    }
}

public struct DNSStartOfAuthority: Equatable, Sendable {
    public var primary: DNSName
    public var mailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
                minimum: UInt32) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// A record's data: typed for the types shoal reads, raw bytes for every other (RFC 3597).
public enum DNSRecordData: Equatable, Sendable {
    case a(IPv4Address)
    /// 16 bytes.
    case aaaa([UInt8])
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    case mx(preference: UInt16, exchange: DNSName)
    /// The character-strings, each up to 255 bytes.
    case txt([[UInt8]])
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case soa(DNSStartOfAuthority)
    case raw([UInt8])
}

public struct DNSRecord: Equatable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var recordClass: DNSClass
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: DNSRecordType, recordClass: DNSClass = .internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

/// EDNS(0): what a message's OPT record says (RFC 6891).
public struct DNSExtension: Equatable, Sendable {
    public struct Option: Equatable, Sendable {
        public var code: UInt16
        public var data: [UInt8]

        public init(code: UInt16, data: [UInt8]) {
            self.code = code
            self.data = data
        }
    }

    /// The largest UDP payload the sender accepts.
    public var udpPayloadSize: UInt16
    public var version: UInt8 = 0
    /// DO: the sender wants DNSSEC records.
    public var dnssecOK = false
    public var options: [Option] = []

    public init(udpPayloadSize: UInt16) { self.udpPayloadSize = udpPayloadSize }
}

/// A DNS message (RFC 1035 §4): header, questions, the three record sections, and EDNS(0) pulled
/// out of the additional section.
public struct DNSMessage: Equatable, Sendable {
    /// The largest message there is (TCP's 2-byte length prefix).
    public static let maximumSize = 65535

    public var header: DNSHeader
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authorities: [DNSRecord] = []
    /// The additional records other than OPT.
    public var additionals: [DNSRecord] = []
    public var edns: DNSExtension?

    public init(header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authorities: [DNSRecord] = [], additionals: [DNSRecord] = [], edns: DNSExtension? = nil) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }
}
