import Addressing

// The RFC 1035 wire format: reading with every bound checked, writing with name compression.

/// The smallest a question can be: the root name and type and class.
private let minimumQuestionSize = 5
/// The smallest a record can be: the root name, type, class, TTL and data length.
private let minimumRecordSize = 11

/// Reads one packet front to back; every read checks the packet's end.
struct DNSReader {
    let bytes: [UInt8]
    var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16() throws(DNSWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func uint32() throws(DNSWireError) -> UInt32 {
        UInt32(try uint16()) << 16 | UInt32(try uint16())
    }

    mutating func bytes(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count <= remaining else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A possibly compressed name. Each pointer must point strictly below where the previous jump
    /// (or the name itself) started, so reading always ends; the name grows at most to 255 bytes.
    mutating func name() throws(DNSWireError) -> DNSName {
        var wire: [UInt8] = []
        var position = offset
        var lowestStart = offset
        var jumped = false
        while true {
            guard position < bytes.count else { throw .truncated }
            let length = bytes[position]
            switch length & 0xc0 {
            case 0xc0:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = Int(length & 0x3f) << 8 | Int(bytes[position + 1])
                guard target < lowestStart else { throw .badPointer }
                if !jumped { offset = position + 2 }
                jumped = true
                lowestStart = target
                position = target
            case 0:
                guard length > 0 else {
                    wire.append(0)
                    if !jumped { offset = position + 1 }
                    return DNSName(trustedWire: wire)
                }
                let end = position + 1 + Int(length)
                guard end <= bytes.count else { throw .truncated }
                // The label, its length byte and the final zero must still fit.
                guard wire.count + 1 + Int(length) + 1 <= DNSName.maximumLength else { throw .nameTooLong }
                wire.append(contentsOf: bytes[position..<end])
                position = end
            default:
                throw .labelTooLong
            }
        }
    }

    mutating func question() throws(DNSWireError) -> DNSQuestion {
        let name = try name()
        return DNSQuestion(name: name, type: DNSRecordType(rawValue: try uint16()),
                           recordClass: DNSClass(rawValue: try uint16()))
    }

    /// One record, its data read to exactly its length.
    mutating func record() throws(DNSWireError) -> (record: DNSRecord, optTTL: UInt32) {
        let name = try name()
        let type = DNSRecordType(rawValue: try uint16())
        let recordClass = DNSClass(rawValue: try uint16())
        let ttl = try uint32()
        let length = Int(try uint16())
        guard length <= remaining else { throw .truncated }
        let end = offset + length
        let data = try recordData(type: type, length: length)
        guard offset == end else { throw .badRecordData(type: type.rawValue) }
        return (DNSRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data), ttl)
    }

    /// Reads typed data; a field running past `length` is caught by `record()`'s final check.
    private mutating func recordData(type: DNSRecordType, length: Int) throws(DNSWireError) -> DNSRecordData {
        switch type {
        case .a:
            guard length == 4 else { throw .badRecordData(type: type.rawValue) }
            return .a(IPv4Address(try uint32()))
        case .aaaa:
            guard length == 16 else { throw .badRecordData(type: type.rawValue) }
            return .aaaa(try bytes(16))
        case .ns: return .ns(try name())
        case .cname: return .cname(try name())
        case .ptr: return .ptr(try name())
        case .mx: return .mx(preference: try uint16(), exchange: try name())
        case .txt:
            let end = offset + length
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(try byte())
                strings.append(try bytes(count))
            }
            return .txt(strings)
        case .srv:
            return .srv(priority: try uint16(), weight: try uint16(), port: try uint16(), target: try name())
        case .soa:
            return .soa(DNSStartOfAuthority(primary: try name(), mailbox: try name(), serial: try uint32(),
                                            refresh: try uint32(), retry: try uint32(), expire: try uint32(),
                                            minimum: try uint32()))
        default:
            return .raw(try bytes(length))
        }
    }
}

extension DNSMessage {
    /// Parses a whole message. Counts are checked against the packet's size before anything is
    /// read, so nothing larger than the packet allows is ever allocated. Bytes after the last
    /// record are ignored.
    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        var header = try DNSHeader(parsing: bytes)
        var reader = DNSReader(bytes, offset: 4)
        let questionCount = Int(try reader.uint16())
        let answerCount = Int(try reader.uint16())
        let authorityCount = Int(try reader.uint16())
        let additionalCount = Int(try reader.uint16())
        guard questionCount * minimumQuestionSize
            + (answerCount + authorityCount + additionalCount) * minimumRecordSize <= reader.remaining
        else { throw .countsExceedPacket }

        var questions: [DNSQuestion] = []
        for _ in 0..<questionCount { questions.append(try reader.question()) }
        func records(_ count: Int) throws(DNSWireError) -> [DNSRecord] {
            var records: [DNSRecord] = []
            for _ in 0..<count { records.append(try reader.record().record) }
            return records
        }
        let answers = try records(answerCount)
        let authorities = try records(authorityCount)
        var additionals: [DNSRecord] = []
        var edns: DNSExtension?
        for _ in 0..<additionalCount {
            let (record, ttl) = try reader.record()
            guard record.type == .opt, case .raw(let data) = record.data else {
                additionals.append(record)
                continue
            }
            guard edns == nil else { throw .severalOPTRecords }
            var found = DNSExtension(udpPayloadSize: record.recordClass.rawValue)
            found.version = UInt8(ttl >> 16 & 0xff)
            found.dnssecOK = ttl & 0x8000 != 0
            var options = DNSReader(data)
            while options.remaining > 0 {
                let code = try options.uint16()
                let length = Int(try options.uint16())
                found.options.append(.init(code: code, data: try options.bytes(length)))
            }
            header.responseCode = DNSResponseCode(rawValue: UInt16(ttl >> 24) << 4 | header.responseCode.rawValue)
            edns = found
        }
        self.init(header: header, questions: questions, answers: answers, authorities: authorities,
                  additionals: additionals, edns: edns)
    }

    /// The message in wire form, names compressed. When it is larger than `maximumSize`, whole
    /// records are left out from the end (additional, then authority, then answer records; the
    /// OPT record stays) and TC is set: how a UDP reply is cut to the asker's size.
    public func serialized(maximumSize: Int = DNSMessage.maximumSize) -> [UInt8] {
        var writer = DNSWriter()
        writer.bytes.reserveCapacity(512)
        writer.uint16(header.id)
        writer.uint16(header.flagBits)
        writer.uint16(UInt16(truncatingIfNeeded: questions.count))
        for _ in 0..<3 { writer.uint16(0) }  // the record counts, set below
        for question in questions {
            writer.name(question.name)
            writer.uint16(question.type.rawValue)
            writer.uint16(question.recordClass.rawValue)
        }
        let questionsEnd = writer.bytes.count
        let recordCount = answers.count + authorities.count + additionals.count
        var recordEnds: [Int] = []
        recordEnds.reserveCapacity(recordCount)
        func write(_ records: [DNSRecord]) {
            for record in records {
                writer.record(record)
                recordEnds.append(writer.bytes.count)
            }
        }
        write(answers)
        write(authorities)
        write(additionals)
        let limit = min(maximumSize, Self.maximumSize)
        var kept = recordCount
        if writer.bytes.count + optRecordSize > limit {
            kept = recordEnds.prefix { $0 <= limit - optRecordSize }.count
            writer.bytes.removeSubrange((kept == 0 ? questionsEnd : recordEnds[kept - 1])...)
            writer.bytes[2] |= 0x02  // TC
        }
        writeOPTRecord(&writer)
        let keptAnswers = min(kept, answers.count)
        let keptAuthorities = min(kept - keptAnswers, authorities.count)
        let keptAdditionals = kept - keptAnswers - keptAuthorities + (edns == nil ? 0 : 1)
        writer.set(UInt16(keptAnswers), at: 6)
        writer.set(UInt16(keptAuthorities), at: 8)
        writer.set(UInt16(keptAdditionals), at: 10)
        return writer.bytes
    }

    /// The size of the OPT record `writeOPTRecord` writes: 11 bytes and the options.
    private var optRecordSize: Int {
        edns.map { 11 + $0.options.reduce(0) { $0 + 4 + $1.data.count } } ?? 0
    }

    /// The OPT record for `edns` (carrying the response code's high bits), if any.
    private func writeOPTRecord(_ writer: inout DNSWriter) {
        guard let edns else { return }
        writer.bytes.append(0)
        writer.uint16(DNSRecordType.opt.rawValue)
        writer.uint16(edns.udpPayloadSize)
        writer.uint32(UInt32(header.responseCode.rawValue >> 4) << 24 | UInt32(edns.version) << 16
            | (edns.dnssecOK ? 0x8000 : 0))
        writer.withLength {
            for option in edns.options {
                $0.uint16(option.code)
                $0.uint16(UInt16(truncatingIfNeeded: option.data.count))
                $0.bytes.append(contentsOf: option.data)
            }
        }
    }
}

/// Writes a message, remembering where each name suffix stands so that a later name can point at it.
struct DNSWriter {
    var bytes: [UInt8] = []
    /// Where each name suffix written so far stands (only offsets a pointer can reach, below 0x4000):
    /// searched in a short list while there are few, as in most messages; in a dictionary once many.
    private var fewSuffixes: [(suffix: WireKey, offset: Int)] = []
    private var manySuffixes: [WireKey: Int]?
    private static let fewSuffixesLimit = 16

    private func offset(of suffix: WireKey) -> Int? {
        if let manySuffixes { return manySuffixes[suffix] }
        return fewSuffixes.first { $0.suffix == suffix }?.offset
    }

    private mutating func remember(_ suffix: WireKey, at offset: Int) {
        if manySuffixes != nil {
            manySuffixes?[suffix] = offset
        } else if fewSuffixes.count < Self.fewSuffixesLimit {
            fewSuffixes.append((suffix, offset))
        } else {
            var many = Dictionary(fewSuffixes, uniquingKeysWith: { first, _ in first })
            many[suffix] = offset
            manySuffixes = many
        }
    }

    mutating func uint16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xff))
    }

    mutating func uint32(_ value: UInt32) {
        uint16(UInt16(value >> 16))
        uint16(UInt16(value & 0xffff))
    }

    /// Writes `name`, ending in a pointer to an earlier copy of its longest known suffix when
    /// `compress` allows (RFC 2782 forbids it for SRV targets; those are still remembered).
    mutating func name(_ name: DNSName, compress: Bool = true) {
        let wire = name.wire
        var index = 0
        while wire[index] != 0 {
            let suffix = WireKey(wire[index...])
            if compress, let offset = offset(of: suffix) {
                uint16(0xc000 | UInt16(offset))
                return
            }
            if bytes.count < 0x4000 { remember(suffix, at: bytes.count) }
            let end = index + 1 + Int(wire[index])
            bytes.append(contentsOf: wire[index..<end])
            index = end
        }
        bytes.append(0)
    }

    /// Runs `body`, then writes the 16-bit length of what it wrote in front of it.
    mutating func withLength(_ body: (inout DNSWriter) -> Void) {
        let start = bytes.count
        uint16(0)
        body(&self)
        set(UInt16(truncatingIfNeeded: bytes.count - start - 2), at: start)
    }

    /// Overwrites the 16-bit value at `offset` (a count or length written before it was known).
    mutating func set(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xff)
    }

    mutating func record(_ record: DNSRecord) {
        name(record.name)
        uint16(record.type.rawValue)
        uint16(record.recordClass.rawValue)
        uint32(record.ttl)
        withLength { writer in
            switch record.data {
            case .a(let address): writer.uint32(address.value)
            case .aaaa(let bytes), .raw(let bytes): writer.bytes.append(contentsOf: bytes)
            case .ns(let name), .cname(let name), .ptr(let name): writer.name(name)
            case .mx(let preference, let exchange):
                writer.uint16(preference)
                writer.name(exchange)
            case .txt(let strings):
                for string in strings {
                    let kept = string.prefix(255)
                    writer.bytes.append(UInt8(kept.count))
                    writer.bytes.append(contentsOf: kept)
                }
            case .srv(let priority, let weight, let port, let target):
                writer.uint16(priority)
                writer.uint16(weight)
                writer.uint16(port)
                writer.name(target, compress: false)
            case .soa(let soa):
                writer.name(soa.primary)
                writer.name(soa.mailbox)
                for number in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writer.uint32(number) }
            }
        }
    }
}
