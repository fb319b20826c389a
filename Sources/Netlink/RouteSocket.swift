#if canImport(Glibc)
import Glibc
#endif
import Addressing
import CNetlink

/// An rtnetlink socket (libnl-route) bound to one network namespace: the one
/// of the thread that opened it. Use `RouteSocket.open(inNamespace:)` to
/// configure another namespace without moving any thread of the caller.
public final class RouteSocket {
    let socket: OpaquePointer

    /// Opens a socket in the calling thread's network namespace.
    public init() throws {
        guard let socket = nl_socket_alloc() else {
            throw SystemError("open netlink socket", reason: "out of memory")
        }
        let rc = nl_connect(socket, NETLINK_ROUTE)
        guard rc == 0 else {
            nl_socket_free(socket)
            throw Self.error("open netlink socket", rc)
        }
        self.socket = socket
    }

    /// Opens a socket that configures the network namespace pinned at `path`.
    public static func open(inNamespace path: String) throws -> RouteSocket {
        try Namespace.run(inNetworkNamespace: path) { try RouteSocket() }
    }

    deinit { nl_socket_free(socket) }

    // MARK: Links

    /// Creates a bridge (a switch) named `name`, down; `mtu` when given.
    public func addBridge(named name: String, mtu: Int? = nil) throws {
        let link = try Self.allocLink()
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        if let mtu { rtnl_link_set_mtu(link, UInt32(mtu)) }
        try check("create bridge \(name)", rtnl_link_set_type(link, "bridge"))
        try check("create bridge \(name)", rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL))
    }

    /// Creates a veth pair: `name` here, `peerName` in the network namespace
    /// pinned at `peerNamespace` (or here when nil), in one request. `name`
    /// starts down unless `up`, the peer always down; `master` is a bridge's
    /// index to enslave `name` to; `peerIndex` asks for the peer's interface index;
    /// `mtu` applies to both ends, `peerMAC` to the peer.
    public func addVethPair(named name: String, peerName: String, peerNamespace: String? = nil, master: Int32? = nil,
                            up: Bool = false, peerIndex: Int32? = nil, mtu: Int? = nil, peerMAC: MACAddress? = nil) throws {
        guard let link = rtnl_link_veth_alloc() else {
            throw SystemError("create veth \(name)", reason: "out of memory")
        }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        if let master { rtnl_link_set_master(link, master) }
        if up { rtnl_link_set_flags(link, UInt32(Self.interfaceUp)) }
        guard let peer = rtnl_link_veth_get_peer(link) else {
            throw SystemError("create veth \(name)", reason: "no peer link")
        }
        defer { rtnl_link_put(peer) }
        rtnl_link_set_name(peer, peerName)
        if let peerIndex { rtnl_link_set_ifindex(peer, peerIndex) }
        if let mtu {
            rtnl_link_set_mtu(link, UInt32(mtu))
            rtnl_link_set_mtu(peer, UInt32(mtu))
        }
        if let peerMAC {
            let address = try Self.linkLayerAddress(peerMAC, "create veth \(name)")
            defer { nl_addr_put(address) }
            rtnl_link_set_addr(peer, address)
        }
        var namespaceFD: Int32 = -1
        if let peerNamespace {
            namespaceFD = Glibc.open(peerNamespace, O_RDONLY | O_CLOEXEC)
            guard namespaceFD >= 0 else { throw SystemError.errno("open namespace \(peerNamespace)") }
            rtnl_link_set_ns_fd(peer, namespaceFD)
        }
        defer { if namespaceFD >= 0 { close(namespaceFD) } }
        try check("create veth \(name)", rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL))
    }

    /// Brings link `name` up.
    public func setUp(_ name: String) throws {
        try setUp(index: try index(of: name), named: name)
    }

    /// Brings the link with interface index `index` up (in a new namespace, `lo` is 1).
    public func setUp(index: Int32, named name: String? = nil) throws {
        try changeLink(index: index, "bring \(name ?? "link \(index)") up") { rtnl_link_set_flags($0, UInt32(Self.interfaceUp)) }
    }

    /// Enslaves link `name` to the bridge `master`.
    public func setMaster(of name: String, to master: String) throws {
        let masterIndex = try index(of: master)
        try changeLink(name, "attach \(name) to \(master)") { rtnl_link_set_master($0, masterIndex) }
    }

    /// Deletes link `name` (for a veth, both ends go).
    public func deleteLink(_ name: String) throws {
        let link = try Self.allocLink()
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        try check("delete link \(name)", rtnl_link_delete(socket, link))
    }

    /// The names of every link in this namespace.
    public func linkNames() throws -> [String] {
        var cache: OpaquePointer?
        try check("list links", rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache))
        defer { nl_cache_free(cache) }
        var names: [String] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            if let name = rtnl_link_get_name(current) { names.append(String(cString: name)) }
            object = nl_cache_get_next(current)
        }
        return names
    }

    /// The interface index of link `name`.
    public func index(of name: String) throws -> Int32 {
        var link: OpaquePointer?
        try check("find link \(name)", rtnl_link_get_kernel(socket, 0, name, &link))
        defer { rtnl_link_put(link) }
        return rtnl_link_get_ifindex(link)
    }

    // MARK: Addresses and routes

    /// Adds `address` (with its prefix length) to link `name`.
    public func addAddress(_ address: IPv4Network, to name: String) throws {
        try addAddress(address, toIndex: try index(of: name), named: name)
    }

    /// Adds `address` to the link with interface index `ifindex`.
    public func addAddress(_ address: IPv4Network, toIndex ifindex: Int32, named name: String? = nil) throws {
        let operation = "add address \(address) to \(name ?? "link \(ifindex)")"
        guard let entry = rtnl_addr_alloc() else { throw SystemError(operation, reason: "out of memory") }
        defer { rtnl_addr_put(entry) }
        var local: OpaquePointer?
        try check(operation, nl_addr_parse(address.description, AF_INET, &local))
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(entry, ifindex)
        try check(operation, rtnl_addr_set_local(entry, local))
        try check(operation, rtnl_addr_add(socket, entry, 0))
    }

    /// Routes everything without a more specific route via `gateway`, out of the link with index `ifindex`.
    public func addDefaultRoute(via gateway: IPv4Address, onIndex ifindex: Int32) throws {
        let operation = "add default route via \(gateway)"
        guard let route = rtnl_route_alloc(), let hop = rtnl_route_nh_alloc() else {
            throw SystemError(operation, reason: "out of memory")
        }
        defer { rtnl_route_put(route) }
        var destination: OpaquePointer?
        var next: OpaquePointer?
        try check(operation, nl_addr_parse("0.0.0.0/0", AF_INET, &destination))
        defer { nl_addr_put(destination) }
        try check(operation, nl_addr_parse(gateway.description, AF_INET, &next))
        defer { nl_addr_put(next) }
        rtnl_route_set_family(route, UInt8(AF_INET))
        try check(operation, rtnl_route_set_dst(route, destination))
        rtnl_route_nh_set_ifindex(hop, ifindex)
        rtnl_route_nh_set_gateway(hop, next)
        rtnl_route_add_nexthop(route, hop)  // the route owns the hop from here
        try check(operation, rtnl_route_add(socket, route, NLM_F_CREATE))
    }

    /// Every IPv4 address in this namespace, with the name of its link.
    public func ipv4Addresses() throws -> [(link: String, address: IPv4Network)] {
        var linkNames: [Int32: String] = [:]
        var linkCache: OpaquePointer?
        try check("list links", rtnl_link_alloc_cache(socket, AF_UNSPEC, &linkCache))
        defer { nl_cache_free(linkCache) }
        var addressCache: OpaquePointer?
        try check("list addresses", rtnl_addr_alloc_cache(socket, &addressCache))
        defer { nl_cache_free(addressCache) }
        var result: [(link: String, address: IPv4Network)] = []
        var object = nl_cache_get_first(addressCache)
        while let current = object {
            let entry = current
            if rtnl_addr_get_family(entry) == AF_INET, let address = Self.network(rtnl_addr_get_local(entry)) {
                let ifindex = rtnl_addr_get_ifindex(entry)
                if linkNames[ifindex] == nil, let link = rtnl_link_get(linkCache, ifindex) {
                    linkNames[ifindex] = rtnl_link_get_name(link).map { String(cString: $0) } ?? "?"
                    rtnl_link_put(link)
                }
                result.append((linkNames[ifindex] ?? "?", address))
            }
            object = nl_cache_get_next(current)
        }
        return result
    }

    /// The destinations of every IPv4 route in this namespace, from every
    /// routing table, default routes excluded.
    public func ipv4RouteDestinations() throws -> [IPv4Network] {
        var cache: OpaquePointer?
        try check("list routes", rtnl_route_alloc_cache(socket, AF_INET, 0, &cache))
        defer { nl_cache_free(cache) }
        var destinations: [IPv4Network] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            if let destination = Self.network(rtnl_route_get_dst(current)),
               destination.prefixLength > 0 {
                destinations.append(destination)
            }
            object = nl_cache_get_next(current)
        }
        return destinations
    }

    // MARK: Helpers

    static let interfaceUp = 0x1  // IFF_UP

    private func changeLink(_ name: String, _ operation: String, _ edit: (OpaquePointer?) -> Void) throws {
        var current: OpaquePointer?
        try check(operation, rtnl_link_get_kernel(socket, 0, name, &current))
        defer { rtnl_link_put(current) }
        let change = try Self.allocLink()
        defer { rtnl_link_put(change) }
        edit(change)
        try check(operation, rtnl_link_change(socket, current, change, 0))
    }

    /// Changes the link with index `index` as `edit` describes, in one request.
    func changeLink(index: Int32, _ operation: String, _ edit: (OpaquePointer) -> Void) throws {
        let link = try Self.allocLink()
        defer { rtnl_link_put(link) }
        rtnl_link_set_ifindex(link, index)
        let change = try Self.allocLink()
        defer { rtnl_link_put(change) }
        edit(change)
        try check(operation, rtnl_link_change(socket, link, change, 0))
    }

    static func allocLink() throws -> OpaquePointer {
        guard let link = rtnl_link_alloc() else { throw SystemError("allocate link", reason: "out of memory") }
        return link
    }

    static func network(_ address: OpaquePointer?) -> IPv4Network? {
        guard let address, nl_addr_get_family(address) == AF_INET, nl_addr_get_len(address) == 4,
              let bytes = nl_addr_get_binary_addr(address) else { return nil }
        let raw = bytes.assumingMemoryBound(to: UInt8.self)
        let value = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(raw[$1]) }
        return IPv4Network(address: IPv4Address(value), prefixLength: Int(nl_addr_get_prefixlen(address)))
    }

    func check(_ operation: String, _ rc: Int32) throws {
        guard rc >= 0 else { throw Self.error(operation, rc) }
    }

    static func error(_ operation: String, _ rc: Int32) -> SystemError {
        SystemError(operation, reason: String(cString: nl_geterror(rc)))
    }
}
