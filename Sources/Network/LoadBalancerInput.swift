import Addressing
import Netlink

/// The bounds on what callers ask the load-balancing tables to hold, in one
/// place. They keep every kernel batch below
/// `NetfilterSocket.maximumBatchBytes` (the largest table they allow, the publish
/// table, is 3.7 MB). The kernel takes about 2 s for a VIP table at the limits
/// (it numbers anonymous maps by a scan); a thousand VIPs, well under a second.
public enum LoadBalancerLimits {
    public static let ports = 1...65535
    /// Backends of one VIP or one published port.
    public static let backendsPerEntry = 1024
    /// VIPs of one namespace, published ports of one node.
    public static let entriesPerTable = 4096
    /// Backends of all the entries of one table together.
    public static let backendsPerTable = 16384
    /// IFNAMSIZ less the NUL.
    static let interfaceNameBytes = 1...15
}

/// Input a load-balancing table cannot take, or a backend the kernel lacks: one line, what and what to do.
public struct LoadBalancerError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// The checks every table applies to what it is given.
enum LoadBalancerInput {
    static func port(_ port: Int, _ role: String, of entry: String? = nil) throws -> UInt16 {
        guard LoadBalancerLimits.ports.contains(port), let value = UInt16(exactly: port) else {
            throw LoadBalancerError("\(role) \(port)\(entry.map { " of \($0)" } ?? "") is not a port: use 1-65535")
        }
        return value
    }

    static func interfaceName(_ name: String, _ role: String) throws -> String {
        guard LoadBalancerLimits.interfaceNameBytes.contains(name.utf8.count), !name.contains("/"), !name.contains("\0") else {
            throw LoadBalancerError("\(role) interface name \"\(name)\" is not one: use 1-15 bytes without / or NUL")
        }
        return name
    }

    /// `backends` sorted without repeats (a repeat would weigh one backend twice), within bounds.
    static func backends<Backend: Hashable & Comparable>(_ backends: [Backend], of entry: String) throws -> [Backend] {
        let distinct = Array(Set(backends)).sorted()
        guard distinct.count <= LoadBalancerLimits.backendsPerEntry else {
            throw LoadBalancerError(
                "\(entry) has \(distinct.count) backends, more than \(LoadBalancerLimits.backendsPerEntry): scale the service down")
        }
        return distinct
    }

    static func tableSize(entries: Int, backends: Int, of table: String) throws {
        guard entries <= LoadBalancerLimits.entriesPerTable else {
            throw LoadBalancerError(
                "\(table) would hold \(entries) entries, more than \(LoadBalancerLimits.entriesPerTable): remove services or ports")
        }
        guard backends <= LoadBalancerLimits.backendsPerTable else {
            throw LoadBalancerError(
                "\(table) would hold \(backends) backends, more than \(LoadBalancerLimits.backendsPerTable): scale services down")
        }
    }

    /// The rule for an entry without backends, whose `matches` include `transport`: refused at
    /// once (a TCP reset, an ICMP port unreachable) rather than left to time out.
    static func refusal(_ matches: [PacketMatch], _ transport: TransportProtocol) -> NftablesRule {
        NftablesRule(matches, transport == .tcp ? .rejectWithReset : .rejectUnreachable)
    }
}
