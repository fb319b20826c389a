import Addressing
import Netlink

/// What this node's own networking occupies, so that no overlay subnet
/// shadows it: its addresses, its routes' destinations and its resolvers.
public enum NodeAddresses {
    /// `resolvConf` is /etc/resolv.conf's text; `upstreamResolvConf` the one
    /// systemd-resolved keeps of the servers its local stub forwards to.
    public static func occupied(resolvConf: String, upstreamResolvConf: String) throws -> [IPv4Network] {
        let socket = try RouteSocket()
        let resolvers = nameservers(resolvConf: resolvConf, upstreamResolvConf: upstreamResolvConf)
            .compactMap { IPv4Network(address: $0, prefixLength: 32) }
        return try socket.ipv4RouteDestinations() + socket.ipv4Addresses().map(\.address) + resolvers
    }

    /// The resolvers a node's lookups reach: a loopback stub is replaced by its upstreams.
    public static func nameservers(resolvConf: String, upstreamResolvConf: String) -> [IPv4Address] {
        let listed = nameservers(inResolvConf: resolvConf)
        guard listed.contains(where: { $0.octets.first == 127 }) else { return listed }
        return listed.filter { $0.octets.first != 127 } + nameservers(inResolvConf: upstreamResolvConf)
    }

    /// The IPv4 `nameserver` lines of a resolv.conf text.
    static func nameservers(inResolvConf text: String) -> [IPv4Address] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            return IPv4Address(fields[1])
        }
    }
}
