#if canImport(Glibc)
import Glibc
#endif
import Addressing
import CNetlink

/// nftables over nfnetlink, through a libnl socket. Each change is one batch
/// the kernel applies whole or not at all; the messages are built here, the
/// way `nft` builds them (see NETLINK-NOTES.md).
public final class NetfilterSocket {
    private let socket: OpaquePointer
    private var sequence: UInt32 = 1

    /// Opens a socket in the calling thread's network namespace.
    public init() throws {
        guard let socket = nl_socket_alloc() else { throw SystemError("open nfnetlink socket", reason: "out of memory") }
        let rc = nl_connect(socket, NETLINK_NETFILTER)
        guard rc == 0 else {
            nl_socket_free(socket)
            throw SystemError("open nfnetlink socket", reason: String(cString: nl_geterror(rc)))
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.socket = socket
    }

    /// Opens a socket that configures the network namespace pinned at `path`.
    public static func open(inNamespace path: String) throws -> NetfilterSocket {
        try Namespace.run(inNetworkNamespace: path) { try NetfilterSocket() }
    }

    deinit { nl_socket_free(socket) }

    /// Makes table `ip <table>` hold exactly one rule: traffic from `source`
    /// that leaves through any interface but `interface` is masqueraded
    /// (`ip saddr SOURCE oifname != INTERFACE masquerade` in a nat
    /// postrouting chain). Replaces whatever the table held.
    public func replaceMasqueradeTable(_ table: String, source: IPv4Network, exceptOutputInterface interface: String) throws {
        let chain = "postrouting"
        var interfaceName = Array(interface.utf8.prefix(15))
        interfaceName += [UInt8](repeating: 0, count: 16 - interfaceName.count)
        let rule: [Expression] = [
            .payloadLoad(base: Self.networkHeader, offset: 12, length: 4),  // the IPv4 source address
            .bitwise(mask: source.mask.bigEndianBytes),
            .compare(equal: true, source.networkAddress.value.bigEndianBytes),
            .metaLoad(key: Self.metaOutputInterfaceName),
            .compare(equal: false, interfaceName),
            .masquerade,
        ]
        try transact([
            // Creating then deleting first makes the delete succeed whether or not the table existed.
            Self.object(Self.newTable, flags: Self.create) { $0.string(1, table) },
            Self.object(Self.deleteTable) { $0.string(1, table) },
            Self.object(Self.newTable, flags: Self.create) { $0.string(1, table) },
            Self.object(Self.newChain, flags: Self.create) { message in
                message.string(1, table)
                message.string(3, chain)
                message.nested(4) { hook in
                    hook.bigEndianU32(1, Self.postrouting)
                    hook.bigEndianU32(2, 100)  // srcnat
                }
                message.string(7, "nat")
            },
            Self.object(Self.newRule, flags: Self.create | Self.append) { message in
                message.string(1, table)
                message.string(2, chain)
                message.nested(4) { list in rule.forEach { $0.encode(into: &list) } }
            },
        ])
    }

    /// Removes table `ip <table>`; a missing table is fine.
    public func deleteTable(_ table: String) throws {
        try transact([
            Self.object(Self.newTable, flags: Self.create) { $0.string(1, table) },
            Self.object(Self.deleteTable) { $0.string(1, table) },
        ])
    }

    // MARK: Messages

    private static let subsystem: UInt16 = 10  // NFNL_SUBSYS_NFTABLES
    private static let newTable: UInt16 = 0, deleteTable: UInt16 = 2, newChain: UInt16 = 3, newRule: UInt16 = 6
    private static let batchBegin: UInt16 = 0x10, batchEnd: UInt16 = 0x11
    private static let request: UInt16 = 0x1, acknowledge: UInt16 = 0x4, create: UInt16 = 0x400, append: UInt16 = 0x800
    private static let ipv4Family: UInt8 = 2
    private static let postrouting: UInt32 = 4
    private static let networkHeader: UInt32 = 1
    private static let metaOutputInterfaceName: UInt32 = 7

    private static func object(_ command: UInt16, flags: UInt16 = 0,
                               _ attributes: (inout AttributeWriter) -> Void) -> (type: UInt16, flags: UInt16, family: UInt8, body: [UInt8]) {
        var writer = AttributeWriter()
        attributes(&writer)
        return (subsystem << 8 | command, flags | request | acknowledge, ipv4Family, writer.bytes)
    }

    /// Sends `messages` as one batch and waits for the kernel's answer to each.
    private func transact(_ messages: [(type: UInt16, flags: UInt16, family: UInt8, body: [UInt8])]) throws {
        let framing: [(type: UInt16, flags: UInt16, family: UInt8, body: [UInt8])] = [
            (Self.batchBegin, Self.request, 0, []),
        ] + messages + [(Self.batchEnd, Self.request, 0, [])]
        var buffer: [UInt8] = []
        var awaited: Set<UInt32> = []
        for message in framing {
            let sequence = self.sequence
            self.sequence &+= 1
            if message.flags & Self.acknowledge != 0 { awaited.insert(sequence) }
            // nfgenmsg: family, version 0, resource id (the subsystem, big-endian, on batch messages).
            let resource: UInt16 = message.type >= Self.batchBegin && message.type <= Self.batchEnd ? Self.subsystem : 0
            let payload = [message.family, 0] + resource.bigEndianBytes + message.body
            buffer += netlinkMessage(type: message.type, flags: message.flags, sequence: sequence, payload: payload)
        }
        let sent = buffer.withUnsafeMutableBytes { nl_sendto(socket, $0.baseAddress, $0.count) }
        guard sent >= 0 else { throw SystemError("send nftables batch", reason: String(cString: nl_geterror(sent))) }
        try awaitAcknowledgements(awaited)
    }

    private func awaitAcknowledgements(_ awaited: Set<UInt32>) throws {
        var pending = awaited
        var buffer = [UInt8](repeating: 0, count: 65536)
        let fd = nl_socket_get_fd(socket)
        while !pending.isEmpty {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw SystemError.errno("read the kernel's answer to an nftables batch") }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(buffer.nativeU32(at: offset))
                let type = buffer.nativeU16(at: offset + 4)
                let sequence = buffer.nativeU32(at: offset + 8)
                guard length >= 16 else { break }
                if type == 2, offset + 20 <= count {  // NLMSG_ERROR: 0 is the acknowledgement
                    let code = Int32(bitPattern: buffer.nativeU32(at: offset + 16))
                    if code != 0 { throw SystemError.errno("apply nftables batch", -code) }
                    pending.remove(sequence)
                }
                offset += (length + 3) & ~3
            }
        }
    }
}

/// One nftables expression of a rule, in register 1.
private enum Expression {
    case payloadLoad(base: UInt32, offset: UInt32, length: UInt32)
    case bitwise(mask: [UInt8])
    case compare(equal: Bool, [UInt8])
    case metaLoad(key: UInt32)
    case masquerade

    func encode(into list: inout AttributeWriter) {
        list.nested(1) { element in
            switch self {
            case .payloadLoad(let base, let offset, let length):
                element.string(1, "payload")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, base)
                    data.bigEndianU32(3, offset)
                    data.bigEndianU32(4, length)
                }
            case .bitwise(let mask):
                element.string(1, "bitwise")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, 1)
                    data.bigEndianU32(3, UInt32(mask.count))
                    data.nested(4) { $0.bytes(1, mask) }
                    data.nested(5) { $0.bytes(1, [UInt8](repeating: 0, count: mask.count)) }
                }
            case .compare(let equal, let value):
                element.string(1, "cmp")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, equal ? 0 : 1)
                    data.nested(3) { $0.bytes(1, value) }
                }
            case .metaLoad(let key):
                element.string(1, "meta")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, key)
                }
            case .masquerade:
                element.string(1, "masq")
            }
        }
    }
}
