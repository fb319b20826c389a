/// A parsed HTTP/1.1 response, as the local API sends them.
public struct HTTPResponse: Equatable, Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Parses a complete response (the connection was closed after it):
    /// status line, headers, then a body sized by Content-Length, sent
    /// chunked, or running to the end. Returns nil when `bytes` is not one.
    public init?(parsing bytes: [UInt8]) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headerEnd = bytes.firstRange(of: separator) else { return nil }
        let head = String(decoding: bytes[..<headerEnd.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let statusLine = lines.popFirst() else { return nil }
        let statusParts = statusLine.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."),
              let status = Int(statusParts[1]), (100...599).contains(status) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingSpaces()
        }
        let rest = Array(bytes[headerEnd.upperBound...])
        let body: [UInt8]
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            guard let decoded = Self.decodeChunked(rest) else { return nil }
            body = decoded
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0, length <= rest.count else { return nil }
            body = Array(rest.prefix(length))
        } else {
            body = rest
        }
        self.init(status: status, headers: headers, body: body)
    }

    /// Whether `bytes` already hold a whole response sized by Content-Length
    /// (other responses are complete when the connection closes).
    public static func isComplete(_ bytes: [UInt8]) -> Bool {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headerEnd = bytes.firstRange(of: separator) else { return false }
        let head = String(decoding: bytes[..<headerEnd.lowerBound], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingSpaces()) else { return false }
        return bytes.count - headerEnd.upperBound >= length
    }

    private static func decodeChunked(_ bytes: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var position = 0
        let lineEnd: [UInt8] = [13, 10]
        while true {
            guard let sizeEnd = bytes[position...].firstRange(of: lineEnd) else { return nil }
            let sizeText = String(decoding: bytes[position..<sizeEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16), size >= 0 else { return nil }
            position = sizeEnd.upperBound
            if size == 0 { return body }
            guard bytes.count - position >= size + 2 else { return nil }
            body += bytes[position..<position + size]
            position += size + 2
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
