/// A port a service publishes, as `--publish` gives it and docker's
/// `Endpoint.Ports` shows it.
public struct PortConfig: Codable, Equatable, Hashable, Sendable {
    public static let protocols = ["tcp", "udp"]
    public static let modes = ["ingress", "host"]
    /// Where the swarm picks a published port when none is given (docker's range).
    public static let automaticRange: ClosedRange<Int> = 30000...32767

    public var `protocol`: String
    public var targetPort: Int
    /// nil until the swarm picks one (ingress mode only).
    public var publishedPort: Int?
    public var publishMode: String

    enum CodingKeys: String, CodingKey {
        case `protocol` = "Protocol", targetPort = "TargetPort", publishedPort = "PublishedPort", publishMode = "PublishMode"
    }

    public init(protocol: String = "tcp", targetPort: Int, publishedPort: Int? = nil, publishMode: String = "ingress") {
        self.protocol = `protocol`
        self.targetPort = targetPort
        self.publishedPort = publishedPort
        self.publishMode = publishMode
    }

    /// `--publish` in docker's two forms: `[PUBLISHED:]TARGET[/PROTOCOL]`, or
    /// `published=P,target=T[,protocol=tcp|udp][,mode=ingress|host]`.
    public init(parsing text: String) throws(ShoalError) {
        func invalid(_ why: String) -> ShoalError {
            ShoalError("invalid published port \"\(text.prefix(64))\": \(why)",
                       hint: "use PUBLISHED:TARGET[/tcp|udp], or published=P,target=T,protocol=tcp,mode=ingress")
        }
        if text.contains("=") {
            var fields: [String: String] = [:]
            for field in text.split(separator: ",") {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2, ["published", "target", "protocol", "mode"].contains(pair[0]) else {
                    throw invalid("unknown field \(field.prefix(32))")
                }
                fields[pair[0]] = pair[1]
            }
            guard let target = fields["target"].flatMap(Int.init) else { throw invalid("target=PORT is missing") }
            var published: Int?
            if let text = fields["published"] {
                guard let port = Int(text) else { throw invalid("published is not a number") }
                published = port
            }
            self.init(protocol: fields["protocol"] ?? "tcp", targetPort: target, publishedPort: published,
                      publishMode: fields["mode"] ?? "ingress")
        } else {
            let (ports, proto) = Self.splitProtocol(text)
            let numbers = ports.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(numbers.count), numbers.allSatisfy({ $0 != nil }), let target = numbers.last ?? nil else {
                throw invalid("the ports are not numbers")
            }
            self.init(protocol: proto, targetPort: target, publishedPort: numbers.count == 2 ? numbers[0] : nil)
        }
        if let problem { throw invalid(problem) }
    }

    /// Whether `--publish-rm` of `removal` takes this port away. As docker reads it, `--publish-rm` is a
    /// `--publish` value: `TARGET[/PROTOCOL]` removes the ports to that target, `PUBLISHED:TARGET` (or the
    /// long form) only the one published there.
    public func isRemoved(by removal: PortConfig) -> Bool {
        targetPort == removal.targetPort && `protocol` == removal.protocol
            && (removal.publishedPort == nil || removal.publishedPort == publishedPort)
    }

    private static func splitProtocol(_ text: String) -> (ports: Substring, protocol: String) {
        guard let slash = text.firstIndex(of: "/") else { return (text[...], "tcp") }
        return (text[..<slash], String(text[text.index(after: slash)...]))
    }

    /// What is wrong with the port's values, if anything.
    public var problem: String? {
        if !Self.protocols.contains(`protocol`) { return "protocol \(`protocol`.prefix(16)) is not tcp or udp" }
        if !Self.modes.contains(publishMode) { return "mode \(publishMode.prefix(16)) is not ingress or host" }
        if !(1...65535).contains(targetPort) { return "target port \(targetPort) is not 1 to 65535" }
        if let publishedPort, !(1...65535).contains(publishedPort) { return "published port \(publishedPort) is not 1 to 65535" }
        if publishedPort == nil && publishMode == "host" { return "mode=host needs a published port" }
        return nil
    }

    /// Published on one node, straight to that node's task (`mode=host`), rather than on every node.
    public var isHostMode: Bool { publishMode == "host" }

    /// `*:80->8080/tcp`, as `service ls` shows an ingress port and `service ps` a task's host-mode port.
    public var summary: String {
        "*:\(publishedPort.map(String.init) ?? "")->\(targetPort)/\(`protocol`)"
    }

    /// The PORTS cell: the ports' summaries, as docker joins them.
    public static func summaries(_ ports: some Sequence<PortConfig>) -> String {
        ports.map(\.summary).joined(separator: ", ")
    }
}
