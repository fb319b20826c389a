import Addressing

/// `shoal dig`'s own arguments, as ISC dig reads them:
/// `[@SERVER] [-p PORT] [-t TYPE | TYPE] [-x ADDR] NAME [+short] [+tcp]`.
/// (`--network` and `--task` are the CLI's.)
public struct DigRequest: Equatable, Sendable {
    /// The server as given after `@`; nil for the default (127.0.0.11).
    public var server: String?
    public var port: UInt16 = 53
    public var type: DNSRecordType = .a
    public var name: DNSName
    public var short = false
    public var tcp = false

    /// The UDP payload size the query advertises (dig 9.18's, the DNS flag day's).
    public static let advertisedUDPPayload: UInt16 = 1232

    /// The words accepted as a type.
    static let typeNames = "A AAAA PTR MX TXT SRV NS SOA CNAME ANY"

    public init(name: DNSName) { self.name = name }

    /// Parses the words after `dig`. Of two bare words, the first that names a type is the type
    /// (`whoami mx`, `mx whoami`); a lone word is always the name, since a service may be called
    /// "mx" (ISC dig would ask for the root's MX records).
    public init(arguments: [String]) throws(DigArgumentError) {
        var request = DigRequest(name: .root)
        var reverseName: DNSName?
        var typeGiven = false
        var bareWords: [String] = []
        var words = arguments.makeIterator()
        func value(after flag: String) throws(DigArgumentError) -> String {
            guard let value = words.next() else { throw .missingValue(flag: flag) }
            return value
        }
        while let word = words.next() {
            if word.hasPrefix("@") {
                guard word.count > 1 else { throw .missingValue(flag: "@") }
                request.server = String(word.dropFirst())
            } else if word == "-p" {
                let text = try value(after: word)
                guard let port = UInt16(text), port > 0 else { throw .invalidPort(text) }
                request.port = port
            } else if word == "-t" {
                let text = try value(after: word)
                guard let type = Self.queryType(text) else { throw .unknownType(text) }
                request.type = type
                typeGiven = true
            } else if word == "-x" {
                let text = try value(after: word)
                guard reverseName == nil else { throw .extraArgument(word) }
                guard let address = IPv4Address(text) else { throw .invalidReverseAddress(text) }
                let reversed = address.octets.reversed().map(String.init).joined(separator: ".")
                reverseName = try? DNSName("\(reversed).in-addr.arpa")
                if !typeGiven { request.type = .ptr }
            } else if word == "+short" {
                request.short = true
            } else if word == "+tcp" {
                request.tcp = true
            } else if word.hasPrefix("+") || word.hasPrefix("-") {
                throw .unknownOption(word)
            } else {
                bareWords.append(word)
            }
        }
        if !typeGiven, bareWords.count > 1 || reverseName != nil,
           let index = bareWords.firstIndex(where: { Self.queryType($0) != nil }),
           let type = Self.queryType(bareWords.remove(at: index)) {
            request.type = type
        }
        if let extra = bareWords.dropFirst(reverseName == nil ? 1 : 0).first { throw .extraArgument(extra) }
        if let reverseName {
            request.name = reverseName
        } else if let word = bareWords.first {
            do {
                request.name = try DNSName(word)
            } catch {
                throw .invalidName(word)
            }
        } else {
            throw .missingName
        }
        self = request
    }

    private static func queryType(_ word: String) -> DNSRecordType? {
        DNSRecordType(mnemonic: word).flatMap { typeNames.split(separator: " ").contains(Substring($0.description)) ? $0 : nil }
    }

    /// The query to send: recursion desired, EDNS(0) with dig's payload size; `serialized()` gives its bytes.
    public func queryMessage(id: UInt16) -> DNSMessage {
        var header = DNSHeader(id: id)
        header.recursionDesired = true
        return DNSMessage(header: header, questions: [DNSQuestion(name: name, type: type)],
                          edns: DNSExtension(udpPayloadSize: Self.advertisedUDPPayload))
    }
}

/// Why `shoal dig`'s words are not a query; `description` is the one line to show.
public enum DigArgumentError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingName
    case missingValue(flag: String)
    case invalidPort(String)
    case unknownType(String)
    case invalidReverseAddress(String)
    case invalidName(String)
    case unknownOption(String)
    case extraArgument(String)

    public var description: String {
        switch self {
        case .missingName: "no name to look up: give a NAME or -x ADDR"
        case .missingValue(let flag): "\(flag) needs a value: see shoal dig --help"
        case .invalidPort(let text): "invalid port \(text): give -p a number from 1 to 65535"
        case .unknownType(let text): "unknown query type \(text): use one of \(DigRequest.typeNames)"
        case .invalidReverseAddress(let text): "invalid address \(text) for -x: give an IPv4 address like 10.0.1.5"
        case .invalidName(let text):
            "invalid name \(text): a name has labels of 1 to 63 bytes and at most 255 bytes in all"
        case .unknownOption(let word): "unknown option \(word): shoal dig takes @SERVER, -p, -t, -x, +short and +tcp"
        case .extraArgument(let word): "unexpected argument \(word): give one NAME (or -x ADDR)"
        }
    }
}
