/// HOST:PORT text, split at the last colon: every address shoal is given
/// (listen, advertise, a manager to join) is parsed here.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Why a text is not HOST:PORT.
    public enum ParseError: Error, Equatable, Sendable {
        /// Nothing before the colon.
        case emptyHost
        /// No port where one is needed, or one that is not a number in 1...65535.
        case invalidPort
    }

    /// Parses "HOST:PORT", or also a bare "HOST" when `defaultPort` is given.
    /// The host is not checked beyond being non-empty: it may be a name.
    public init(parsing text: some StringProtocol, defaultPort: Int? = nil) throws(ParseError) {
        guard let colon = text.lastIndex(of: ":") else {
            guard let defaultPort else { throw .invalidPort }
            guard !text.isEmpty else { throw .emptyHost }
            self.host = String(text)
            self.port = defaultPort
            return
        }
        let digits = text[text.index(after: colon)...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let port = Int(digits), (1...65535).contains(port) else { throw .invalidPort }
        guard colon != text.startIndex else { throw .emptyHost }
        self.host = String(text[..<colon])
        self.port = port
    }

    /// `init(parsing:defaultPort:)` for callers that need no reason.
    public init?(_ text: some StringProtocol, defaultPort: Int? = nil) {
        guard let parsed = try? HostPort(parsing: text, defaultPort: defaultPort) else { return nil }
        self = parsed
    }

    /// Whether the host is a dotted-quad IPv4 address (what shoal listens on).
    public var hasIPv4Host: Bool { IPv4Address(host) != nil }

    public var description: String { "\(host):\(port)" }
}
