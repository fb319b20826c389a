/// The request target of a local API call, "/path?key=value&…": built
/// percent-encoded by the client, parsed by the daemon. Whatever a user
/// types (`&`, `=`, spaces, `%`) stays inside its one value.
public struct RequestTarget: Equatable, Sendable {
    public var path: String
    public var query: [String: String]

    public init(path: String, query: [String: String] = [:]) {
        self.path = path
        self.query = query
    }

    /// The encoded target; keys in a stable order.
    public var encoded: String {
        let pairs = query.keys.sorted().map { "\(Self.encode($0))=\(Self.encode(query[$0] ?? ""))" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }
            .joined(separator: "/") + (pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&"))
    }

    /// Parses a target as received. nil, never a trap, when it is malformed: a
    /// bad percent escape, text that is not UTF-8, an empty or repeated key.
    public init?(parsing target: String) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let rawPath = parts.first, let path = Self.decode(rawPath) else { return nil }
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let rawKey = keyAndValue.first, let key = Self.decode(rawKey), !key.isEmpty,
                      query[key] == nil, let value = Self.decode(keyAndValue.dropFirst().first ?? "") else { return nil }
                query[key] = value
            }
        }
        self.init(path: path, query: query)
    }

    /// RFC 3986 unreserved characters stay; every other byte becomes %XX.
    public static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if isUnreserved(byte) {
                result.append(Character(Unicode.Scalar(byte)))
            } else {
                result += "%" + String(hexDigits[Int(byte >> 4)]) + String(hexDigits[Int(byte & 0xf)])
            }
        }
        return result
    }

    /// Decodes %XX escapes; nil on a malformed escape or bytes that are not UTF-8.
    public static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF")

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
