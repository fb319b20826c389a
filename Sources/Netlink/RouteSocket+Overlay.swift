#if canImport(Glibc)
import Glibc
#endif
import Addressing
import CNetlink

/// A link's settings that an overlay network checks before it reuses the link.
public struct LinkDetails: Equatable, Sendable {
    public let index: Int32
    public let mtu: Int
    public let mac: MACAddress?
    /// The kind ("bridge", "vxlan", "veth"); nil for a plain device such as `lo`.
    public let kind: String?
    /// The index of the bridge it is a port of.
    public let master: Int32?
    /// For a VXLAN device: its VNI and local (source) address.
    public let vni: UInt32?
    public let local: IPv4Address?
}

/// A static forwarding entry of a VXLAN device: frames for `mac` go to the VTEP `vtep`.
public struct ForwardingEntry: Hashable, Sendable {
    public let mac: MACAddress
    public let vtep: IPv4Address

    public init(mac: MACAddress, vtep: IPv4Address) {
        self.mac = mac
        self.vtep = vtep
    }
}

/// A permanent IPv4 neighbour (ARP) entry: `address` is at `mac`.
public struct NeighbourEntry: Hashable, Sendable {
    public let address: IPv4Address
    public let mac: MACAddress

    public init(address: IPv4Address, mac: MACAddress) {
        self.address = address
        self.mac = mac
    }
}

/// The pieces of an overlay network: VXLAN devices, bridge ports, and the
/// forwarding and neighbour entries that send each remote task's frames to its node.
extension RouteSocket {
    private static let neighbourSelf: UInt32 = 0x02        // NTF_SELF: the device's own table, not the bridge's
    private static let neighbourPermanent: UInt16 = 0x80   // NUD_PERMANENT
    private static let bridgeFamily = UInt8(AF_BRIDGE)

    // MARK: Links

    /// Creates the VXLAN device `name` (no learning, ARP answered from the
    /// neighbour table) straight into the network namespace pinned at
    /// `namespace`, in one request. Its UDP socket stays in this socket's
    /// namespace: the underlay's.
    public func addVXLAN(named name: String, vni: UInt32, local: IPv4Address, port: UInt16 = 4789, mtu: Int,
                         intoNamespace namespace: String) throws {
        let operation = "create VXLAN device \(name) (VNI \(vni))"
        guard let link = rtnl_link_vxlan_alloc() else { throw SystemError(operation, reason: "out of memory") }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        rtnl_link_set_mtu(link, UInt32(mtu))
        try check(operation, rtnl_link_vxlan_set_id(link, vni))
        try check(operation, rtnl_link_vxlan_set_port(link, UInt32(port)))
        let source = try Self.ipv4Address(local, operation)
        defer { nl_addr_put(source) }
        try check(operation, rtnl_link_vxlan_set_local(link, source))
        try check(operation, rtnl_link_vxlan_set_learning(link, 0))
        try check(operation, rtnl_link_vxlan_set_proxy(link, 1))
        let namespaceFD = Glibc.open(namespace, O_RDONLY | O_CLOEXEC)
        guard namespaceFD >= 0 else { throw SystemError.errno("open namespace \(namespace)") }
        defer { close(namespaceFD) }
        rtnl_link_set_ns_fd(link, namespaceFD)
        let rc = rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL)
        if rc == -NLE_EXIST {
            // The kernel allows one device per VNI and port in an underlay namespace, wherever the device went.
            throw SystemError(operation, reason: "VNI \(vni) is already used by another VXLAN device on this node "
                                  + "(another cluster in the same network namespace?)")
        }
        try check(operation, rc)
    }

    /// Enslaves the link with index `index` to the bridge with index `bridge`, and brings it up.
    public func enslave(index: Int32, toBridge bridge: Int32) throws {
        try changeLink(index: index, "attach link \(index) to bridge \(bridge)") { change in
            rtnl_link_set_master(change, bridge)
            rtnl_link_set_flags(change, UInt32(Self.interfaceUp))
        }
    }

    /// Link `name`'s index, MTU, kind and VXLAN settings; nil when there is no such link.
    public func link(named name: String) throws -> LinkDetails? {
        var cache: OpaquePointer?
        try check("list links", rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache))
        defer { nl_cache_free(cache) }
        guard let link = rtnl_link_get_by_name(cache, name) else { return nil }
        defer { rtnl_link_put(link) }
        var vni: UInt32?
        var local: IPv4Address?
        if rtnl_link_is_vxlan(link) != 0 {
            var id: UInt32 = 0
            if rtnl_link_vxlan_get_id(link, &id) == 0 { vni = id }
            var source: OpaquePointer?
            if rtnl_link_vxlan_get_local(link, &source) == 0 {
                local = Self.network(source)?.address
                nl_addr_put(source)
            }
        }
        return LinkDetails(index: rtnl_link_get_ifindex(link), mtu: Int(rtnl_link_get_mtu(link)),
                           mac: Self.macAddress(rtnl_link_get_addr(link)),
                           kind: rtnl_link_get_type(link).map { String(cString: $0) },
                           master: rtnl_link_get_master(link) > 0 ? rtnl_link_get_master(link) : nil, vni: vni, local: local)
    }

    /// Isolates bridge port `index`: it exchanges frames with the bridge
    /// itself but with no other isolated port (docker's `enable_icc=false`).
    /// libnl has no setter for it, so the request is built here.
    public func setBridgePortIsolated(index: Int32) throws {
        var attributes = AttributeWriter()
        attributes.nested(12) { protocolInfo in       // IFLA_PROTINFO
            protocolInfo.bytes(33, [1])               // IFLA_BRPORT_ISOLATED
        }
        // struct ifinfomsg: family, pad, type, index, flags, change.
        var payload: [UInt8] = [Self.bridgeFamily, 0] + UInt16(0).nativeBytes + index.nativeBytes
        payload += UInt32(0).nativeBytes + UInt32(0).nativeBytes + attributes.bytes
        let operation = "isolate bridge port \(index)"
        try check(operation, nl_send_simple(socket, Int32(RTM_SETLINK), 0, &payload, payload.count))
        try check(operation, nl_wait_for_ack(socket))
    }

    // MARK: Forwarding (FDB) entries of a VXLAN device

    /// Sends frames for `entry.mac` out of the device `index` to `entry.vtep`,
    /// for good. Adding it again is a no-op; another VTEP moves the MAC.
    public func addForwardingEntry(_ entry: ForwardingEntry, onIndex index: Int32) throws {
        try withForwardingEntry(entry, index, "add forwarding entry \(entry.mac) → \(entry.vtep)") { neighbour, operation in
            try check(operation, rtnl_neigh_add(socket, neighbour, NLM_F_CREATE | NLM_F_REPLACE))
        }
    }

    public func deleteForwardingEntry(_ entry: ForwardingEntry, onIndex index: Int32) throws {
        try withForwardingEntry(entry, index, "delete forwarding entry \(entry.mac) → \(entry.vtep)") { neighbour, operation in
            try check(operation, rtnl_neigh_delete(socket, neighbour, 0))
        }
    }

    /// The permanent forwarding entries of device `index` that name a VTEP.
    public func forwardingEntries(onIndex index: Int32) throws -> [ForwardingEntry] {
        try permanentNeighbours(onIndex: index, family: Self.bridgeFamily) { neighbour in
            guard rtnl_neigh_get_flags(neighbour) & Self.neighbourSelf != 0,
                  let mac = Self.macAddress(rtnl_neigh_get_lladdr(neighbour)),
                  let vtep = Self.network(rtnl_neigh_get_dst(neighbour))?.address else { return nil }
            return ForwardingEntry(mac: mac, vtep: vtep)
        }
    }

    // MARK: IPv4 neighbour entries

    /// Answers ARP for `entry.address` on device `index` with `entry.mac`, for good.
    public func addNeighbour(_ entry: NeighbourEntry, onIndex index: Int32) throws {
        try withNeighbour(entry, index, "add neighbour \(entry.address) at \(entry.mac)") { neighbour, operation in
            try check(operation, rtnl_neigh_add(socket, neighbour, NLM_F_CREATE | NLM_F_REPLACE))
        }
    }

    public func deleteNeighbour(_ entry: NeighbourEntry, onIndex index: Int32) throws {
        try withNeighbour(entry, index, "delete neighbour \(entry.address)") { neighbour, operation in
            try check(operation, rtnl_neigh_delete(socket, neighbour, 0))
        }
    }

    /// The permanent IPv4 neighbour entries of device `index`.
    public func neighbours(onIndex index: Int32) throws -> [NeighbourEntry] {
        try permanentNeighbours(onIndex: index, family: UInt8(AF_INET)) { neighbour in
            guard let address = Self.network(rtnl_neigh_get_dst(neighbour))?.address,
                  let mac = Self.macAddress(rtnl_neigh_get_lladdr(neighbour)) else { return nil }
            return NeighbourEntry(address: address, mac: mac)
        }
    }

    // MARK: Helpers

    private func withForwardingEntry(_ entry: ForwardingEntry, _ index: Int32, _ operation: String,
                                     _ body: (OpaquePointer, String) throws -> Void) throws {
        guard let neighbour = rtnl_neigh_alloc() else { throw SystemError(operation, reason: "out of memory") }
        defer { rtnl_neigh_put(neighbour) }
        let mac = try Self.linkLayerAddress(entry.mac, operation)
        defer { nl_addr_put(mac) }
        let vtep = try Self.ipv4Address(entry.vtep, operation)
        defer { nl_addr_put(vtep) }
        rtnl_neigh_set_ifindex(neighbour, index)
        rtnl_neigh_set_lladdr(neighbour, mac)
        try check(operation, rtnl_neigh_set_dst(neighbour, vtep))
        // After the destination, which sets the family to its own (AF_INET).
        rtnl_neigh_set_family(neighbour, Int32(Self.bridgeFamily))
        rtnl_neigh_set_flags(neighbour, Self.neighbourSelf)
        rtnl_neigh_set_state(neighbour, Int32(Self.neighbourPermanent))
        try body(neighbour, operation)
    }

    private func withNeighbour(_ entry: NeighbourEntry, _ index: Int32, _ operation: String,
                               _ body: (OpaquePointer, String) throws -> Void) throws {
        guard let neighbour = rtnl_neigh_alloc() else { throw SystemError(operation, reason: "out of memory") }
        defer { rtnl_neigh_put(neighbour) }
        let mac = try Self.linkLayerAddress(entry.mac, operation)
        defer { nl_addr_put(mac) }
        let address = try Self.ipv4Address(entry.address, operation)
        defer { nl_addr_put(address) }
        rtnl_neigh_set_ifindex(neighbour, index)
        rtnl_neigh_set_lladdr(neighbour, mac)
        try check(operation, rtnl_neigh_set_dst(neighbour, address))
        rtnl_neigh_set_state(neighbour, Int32(Self.neighbourPermanent))
        try body(neighbour, operation)
    }

    /// Permanent entries of one family on device `index`. The plain neighbour
    /// cache holds no bridge-family (FDB) entries; iterating every family does.
    private func permanentNeighbours<Entry>(onIndex index: Int32, family: UInt8,
                                            _ entry: (OpaquePointer) -> Entry?) throws -> [Entry] {
        var cache: OpaquePointer?
        try check("list neighbours", rtnl_neigh_alloc_cache_flags(socket, &cache, UInt32(NL_CACHE_AF_ITER)))
        defer { nl_cache_free(cache) }
        var entries: [Entry] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            if rtnl_neigh_get_ifindex(current) == index, rtnl_neigh_get_family(current) == Int32(family),
               rtnl_neigh_get_state(current) & Int32(Self.neighbourPermanent) != 0,
               let found = entry(current) {
                entries.append(found)
            }
            object = nl_cache_get_next(current)
        }
        return entries
    }

    static func linkLayerAddress(_ mac: MACAddress, _ operation: String) throws -> OpaquePointer {
        guard let address = mac.bytes.withUnsafeBytes({ nl_addr_build(AF_LLC, $0.baseAddress, 6) }) else {
            throw SystemError(operation, reason: "out of memory")
        }
        return address
    }

    private static func ipv4Address(_ address: IPv4Address, _ operation: String) throws -> OpaquePointer {
        guard let built = address.octets.withUnsafeBytes({ nl_addr_build(AF_INET, $0.baseAddress, 4) }) else {
            throw SystemError(operation, reason: "out of memory")
        }
        return built
    }

    static func macAddress(_ address: OpaquePointer?) -> MACAddress? {
        guard let address, nl_addr_get_len(address) == 6, let bytes = nl_addr_get_binary_addr(address) else { return nil }
        let raw = bytes.assumingMemoryBound(to: UInt8.self)
        return MACAddress(bytes: (0..<6).map { raw[$0] })
    }
}
