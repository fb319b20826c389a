#if canImport(Glibc)
import Glibc
#endif
import Addressing
import CNetlink

/// TCP or UDP: what shoal balances and publishes.
public enum TransportProtocol: String, Sendable, Hashable, CaseIterable, Codable {
    case tcp, udp

    var number: UInt8 { self == .tcp ? 6 : 17 }
}

/// An address and a port a connection is translated to.
public struct NatDestination: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let address: IPv4Address
    public let port: UInt16

    public init(address: IPv4Address, port: UInt16) {
        self.address = address
        self.port = port
    }

    public static func < (lhs: NatDestination, rhs: NatDestination) -> Bool { (lhs.address, lhs.port) < (rhs.address, rhs.port) }

    public var description: String { "\(address):\(port)" }
}

/// One condition of a rule; a rule applies when all of its conditions hold.
public enum PacketMatch: Sendable, Hashable {
    case destinationAddress(IPv4Address)
    /// The destination is an address of this namespace (`fib daddr type local`).
    case localDestination
    /// The source is an address of this namespace (`fib saddr type local`): the packet was sent from here.
    case localSource
    case transportProtocol(TransportProtocol)
    case notTransportProtocol(TransportProtocol)
    /// The transport header's destination port; put a `.transportProtocol` before it.
    case destinationPort(UInt16)
    case inputInterface(String)
    case outputInterface(String)
    /// The connection's destination was translated (`ct status dnat`).
    case destinationTranslated
    /// The packet carries this mark (`meta mark MARK`).
    case mark(UInt32)
}

/// What a rule does with a packet it matches (the translations only in nat chains).
public enum RuleAction: Sendable, Hashable {
    /// Leave the chain (the packet is not translated).
    case leaveChain
    /// A TCP reset; the rule must match TCP.
    case rejectWithReset
    /// ICMP port unreachable.
    case rejectUnreachable
    /// `dnat to ADDRESS[:PORT]`.
    case translateDestination(IPv4Address, port: UInt16?)
    /// Each new connection to the next address in turn (`dnat to numgen inc mod N map { … }`), port kept. Not empty.
    case balanceAddresses([IPv4Address])
    /// Each new connection to the next address and port in turn. Not empty.
    case balanceDestinations([NatDestination])
    case masquerade
    /// `meta mark set MARK`, then on to the next rule (how a VIP's packets reach their IPVS fwmark service).
    case setMark(UInt32)
}

public struct NftablesRule: Sendable, Hashable {
    public let matches: [PacketMatch]
    public let action: RuleAction

    public init(_ matches: [PacketMatch], _ action: RuleAction) {
        self.matches = matches
        self.action = action
    }
}

/// Where a base chain hooks into the IPv4 path.
public enum ChainHook: UInt32, Sendable {
    case prerouting = 0, output = 3, postrouting = 4
}

/// A base chain with its rules, in order: `nat` (sees the first packet of
/// each connection, with conntrack) or `filter` (sees every packet).
public struct NftablesChain: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case nat, filter
    }

    public let name: String
    public let kind: Kind
    public let hook: ChainHook
    /// -100 is dstnat, 0 filter, 100 srcnat.
    public let priority: Int32
    public let rules: [NftablesRule]

    public init(name: String, kind: Kind, hook: ChainHook, priority: Int32, rules: [NftablesRule]) {
        self.name = name
        self.kind = kind
        self.hook = hook
        self.priority = priority
        self.rules = rules
    }
}

/// nftables over nfnetlink. Each change is one batch the kernel applies
/// whole or not at all; the messages are built here, the way `nft` builds
/// them (see NETLINK-NOTES.md).
public final class NetfilterSocket {
    /// The largest batch sent: a caller's input beyond it is refused with an error, never truncated.
    public static let maximumBatchBytes = 4 << 20

    private let channel: NetlinkChannel

    /// Opens a socket in the calling thread's network namespace.
    public init() throws {
        channel = try NetlinkChannel(protocol: NETLINK_NETFILTER, purpose: "nfnetlink")
    }

    /// Opens a socket that configures the network namespace pinned at `path`.
    public static func open(inNamespace path: String) throws -> NetfilterSocket {
        try Namespace.run(inNetworkNamespace: path) { try NetfilterSocket() }
    }

    /// Makes table `ip <table>` hold exactly `chains`, in one batch: whatever
    /// the table held goes, and packets see either the old table or the new
    /// one. Connections already translated keep their translation (conntrack holds it).
    public func replaceTable(_ table: String, chains: [NftablesChain]) throws {
        try transact(Self.replacement(of: table, chains: chains), operation: "replace nftables table ip \(table)")
    }

    /// Makes table `ip <table>` hold exactly one rule: traffic from `source`
    /// that leaves through any interface but `interface` is masqueraded
    /// (`ip saddr SOURCE oifname != INTERFACE masquerade` in a nat
    /// postrouting chain). Replaces whatever the table held.
    public func replaceMasqueradeTable(_ table: String, source: IPv4Network, exceptOutputInterface interface: String) throws {
        let chain = "postrouting"
        let rule: [Expression] = [
            .payloadLoad(base: Self.networkHeader, offset: 12, length: 4),  // the IPv4 source address
            .bitwise(mask: source.mask.bigEndianBytes),
            .compare(equal: true, source.networkAddress.value.bigEndianBytes),
            .metaLoad(key: Self.metaOutputInterfaceName),
            .compare(equal: false, Self.interfaceName(interface)),
            .masquerade,
        ]
        try transact(Self.emptyTable(table) + [
            Self.chainMessage(table: table, NftablesChain(name: chain, kind: .nat, hook: .postrouting, priority: 100, rules: [])),
            Self.ruleMessage(table: table, chain: chain, rule),
        ], operation: "replace nftables table ip \(table)")
    }

    /// Removes table `ip <table>`; a missing table is fine.
    public func deleteTable(_ table: String) throws {
        try transact([
            Self.object(Self.newTable, flags: Self.create) { $0.string(1, table) },
            Self.object(Self.deleteTable) { $0.string(1, table) },
        ], operation: "delete nftables table ip \(table)")
    }

    // MARK: Messages

    typealias Message = (type: UInt16, flags: UInt16, family: UInt8, body: [UInt8])

    private static let subsystem: UInt16 = 10  // NFNL_SUBSYS_NFTABLES
    private static let newTable: UInt16 = 0, deleteTable: UInt16 = 2, newChain: UInt16 = 3, newRule: UInt16 = 6
    private static let newSet: UInt16 = 9, newSetElement: UInt16 = 12
    private static let batchBegin: UInt16 = 0x10, batchEnd: UInt16 = 0x11
    private static let request: UInt16 = 0x1, acknowledge: UInt16 = 0x4, create: UInt16 = 0x400, append: UInt16 = 0x800
    private static let ipv4Family: UInt8 = 2
    static let networkHeader: UInt32 = 1, transportHeader: UInt32 = 2
    static let metaMark: UInt32 = 3, metaInputInterfaceName: UInt32 = 6, metaOutputInterfaceName: UInt32 = 7, metaTransportProtocol: UInt32 = 16
    /// Elements per NEWSETELEM message, which keeps every attribute far below its 64 KiB bound.
    private static let elementsPerMessage = 256

    private static func object(_ command: UInt16, flags: UInt16 = 0, _ attributes: (inout AttributeWriter) -> Void) -> Message {
        var writer = AttributeWriter()
        attributes(&writer)
        return (subsystem << 8 | command, flags | request, ipv4Family, writer.bytes)
    }

    /// The table, emptied: creating it first makes the delete succeed whether or not it existed.
    private static func emptyTable(_ table: String) -> [Message] {
        [
            object(newTable, flags: create) { $0.string(1, table) },
            object(deleteTable) { $0.string(1, table) },
            object(newTable, flags: create) { $0.string(1, table) },
        ]
    }

    private static func chainMessage(table: String, _ chain: NftablesChain) -> Message {
        object(newChain, flags: create) { message in
            message.string(1, table)
            message.string(3, chain.name)
            message.nested(4) { hook in
                hook.bigEndianU32(1, chain.hook.rawValue)
                hook.bigEndianU32(2, UInt32(bitPattern: chain.priority))
            }
            message.string(7, chain.kind.rawValue)
        }
    }

    private static func ruleMessage(table: String, chain: String, _ expressions: [Expression]) -> Message {
        object(newRule, flags: create | append) { message in
            message.string(1, table)
            message.string(2, chain)
            message.nested(4) { list in expressions.forEach { $0.encode(into: &list) } }
        }
    }

    /// The messages that make table `ip <table>` hold exactly `chains`.
    static func replacement(of table: String, chains: [NftablesChain]) throws -> [Message] {
        var messages = emptyTable(table) + chains.map { chainMessage(table: table, $0) }
        var setID: UInt32 = 0
        for chain in chains {
            for rule in chain.rules {
                var expressions = rule.matches.flatMap(expressions(matching:))
                switch rule.action {
                case .leaveChain:
                    expressions.append(.verdict(Self.returnVerdict))
                case .rejectWithReset:
                    expressions.append(.reject(type: 1, icmpCode: 0))  // NFT_REJECT_TCP_RST
                case .rejectUnreachable:
                    expressions.append(.reject(type: 0, icmpCode: 3))  // NFT_REJECT_ICMP_UNREACH, port unreachable
                case .translateDestination(let address, let port):
                    expressions.append(.immediate(register: 1, address.octets))
                    if let port { expressions.append(.immediate(register: 9, port.bigEndianBytes)) }
                    expressions.append(.destinationNAT(portRegister: port == nil ? nil : 9))
                case .balanceAddresses(let addresses):
                    setID += 1
                    messages += try roundRobinMap(table: table, id: setID, dataType: 7, dataLength: 4, addresses.map(\.octets))
                    expressions += [.numgen(modulus: UInt32(addresses.count)), .lookup(set: anonymousMap, id: setID),
                                    .destinationNAT(portRegister: nil)]
                case .balanceDestinations(let destinations):
                    setID += 1
                    // Each field of a concatenation takes a 4-byte register: the port is padded to 4 bytes and sits in register 9.
                    let data = destinations.map { $0.address.octets + $0.port.bigEndianBytes + [0, 0] }
                    messages += try roundRobinMap(table: table, id: setID, dataType: 7 << 6 | 13, dataLength: 8, data)
                    expressions += [.numgen(modulus: UInt32(destinations.count)), .lookup(set: anonymousMap, id: setID),
                                    .destinationNAT(portRegister: 9)]
                case .masquerade:
                    expressions.append(.masquerade)
                case .setMark(let mark):
                    expressions += [.immediate(register: 1, mark.nativeBytes), .metaSet(key: metaMark)]
                }
                messages.append(ruleMessage(table: table, chain: chain.name, expressions))
            }
        }
        return messages
    }

    private static let returnVerdict = UInt32(bitPattern: -5)
    private static let anonymousMap = "__map%d"  // the kernel numbers it

    private static func expressions(matching match: PacketMatch) -> [Expression] {
        switch match {
        case .destinationAddress(let address):
            [.payloadLoad(base: networkHeader, offset: 16, length: 4), .compare(equal: true, address.octets)]
        case .localDestination:
            [.fibAddressType(ofSource: false), .compare(equal: true, UInt32(2).nativeBytes)]  // RTN_LOCAL
        case .localSource:
            [.fibAddressType(ofSource: true), .compare(equal: true, UInt32(2).nativeBytes)]
        case .transportProtocol(let transport):
            [.metaLoad(key: metaTransportProtocol), .compare(equal: true, [transport.number])]
        case .notTransportProtocol(let transport):
            [.metaLoad(key: metaTransportProtocol), .compare(equal: false, [transport.number])]
        case .destinationPort(let port):
            [.payloadLoad(base: transportHeader, offset: 2, length: 2), .compare(equal: true, port.bigEndianBytes)]
        case .inputInterface(let name):
            [.metaLoad(key: metaInputInterfaceName), .compare(equal: true, interfaceName(name))]
        case .outputInterface(let name):
            [.metaLoad(key: metaOutputInterfaceName), .compare(equal: true, interfaceName(name))]
        case .destinationTranslated:
            // IPS_DST_NAT in the connection's status.
            [.connectionStatus, .bitwise(mask: UInt32(0x20).nativeBytes), .compare(equal: false, [0, 0, 0, 0])]
        case .mark(let mark):
            [.metaLoad(key: metaMark), .compare(equal: true, mark.nativeBytes)]
        }
    }

    /// An interface name as the kernel compares it: IFNAMSIZ bytes, NUL-padded.
    static func interfaceName(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(15))
        return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
    }

    /// An anonymous constant map from 0…N-1 (numgen's output, host order) to `data`, made in this batch as set `id`.
    private static func roundRobinMap(table: String, id: UInt32, dataType: UInt32, dataLength: UInt32,
                                      _ data: [[UInt8]]) throws -> [Message] {
        guard !data.isEmpty else {
            throw SystemError("replace nftables table ip \(table)", reason: "a round robin needs at least one destination")
        }
        let set = object(newSet, flags: create) { message in
            message.string(1, table)
            message.string(2, anonymousMap)
            message.bigEndianU32(3, 0x1 | 0x2 | 0x8)  // anonymous, constant, map
            message.bigEndianU32(4, 4)  // key: integer
            message.bigEndianU32(5, 4)
            message.bigEndianU32(6, dataType)
            message.bigEndianU32(7, dataLength)
            message.nested(9) { $0.bigEndianU32(1, UInt32(data.count)) }  // size
            message.bigEndianU32(10, id)
            message.bytes(13, [0, 4, 1, 0, 0, 0])  // nft's note: the key is in host byte order
        }
        let chunks = stride(from: 0, to: data.count, by: elementsPerMessage).map { start in
            object(newSetElement, flags: create) { message in
                message.string(1, table)
                message.string(2, anonymousMap)
                message.bigEndianU32(4, id)
                message.nested(3) { elements in
                    for index in start..<min(start + elementsPerMessage, data.count) {
                        elements.nested(1) { element in
                            element.nested(1) { $0.bytes(1, UInt32(index).nativeBytes) }
                            element.nested(2) { $0.bytes(1, data[index]) }
                        }
                    }
                }
            }
        }
        return [set] + chunks
    }

    /// Sends `messages` as one batch; returns once the kernel applied it, throws what it refused.
    private func transact(_ messages: [Message], operation: String) throws {
        let first = channel.reserveSequences(messages.count + 2)
        let (buffer, acknowledged) = Self.batch(messages, firstSequence: first)
        guard buffer.count <= Self.maximumBatchBytes else {
            throw SystemError(operation, reason: "its batch of \(buffer.count) bytes is over the limit of \(Self.maximumBatchBytes)")
        }
        try channel.send(buffer, operation: operation)
        let sequences = first...(first + UInt32(messages.count + 1))
        try channel.receive(sequences, operation: operation) { (reply: NetlinkReply) -> Bool in
            guard let code = reply.errorCode else { return false }
            if code != 0 { throw SystemError.errno(operation, -code) }
            return reply.sequence == acknowledged
        }
    }

    /// `messages` between a batch's begin and end, numbered from `firstSequence`. Only the last
    /// object asks for an acknowledgement (its sequence number is returned): errors come back
    /// anyway, in order, and thousands of acknowledgements would overflow the receive buffer.
    static func batch(_ messages: [Message], firstSequence first: UInt32) -> (bytes: [UInt8], acknowledged: UInt32) {
        let framed: [Message] = [(batchBegin, request, 0, [])] + messages + [(batchEnd, request, 0, [])]
        let acknowledged = first + UInt32(framed.count - 2)
        var buffer: [UInt8] = []
        for (position, message) in framed.enumerated() {
            let sequence = first + UInt32(position)
            // nfgenmsg: family, version 0, resource id (the subsystem, big-endian, on batch messages).
            let resource: UInt16 = message.type == batchBegin || message.type == batchEnd ? subsystem : 0
            let payload: [UInt8] = [message.family, 0] + resource.bigEndianBytes + message.body
            let flags = message.flags | (sequence == acknowledged ? acknowledge : 0)
            buffer += netlinkMessage(type: message.type, flags: flags, sequence: sequence, payload: payload)
        }
        return (buffer, acknowledged)
    }
}

/// One nftables expression of a rule; loads go to register 1.
enum Expression {
    case payloadLoad(base: UInt32, offset: UInt32, length: UInt32)
    case bitwise(mask: [UInt8])
    case compare(equal: Bool, [UInt8])
    case metaLoad(key: UInt32)
    /// Register 1 into the packet's meta `key`.
    case metaSet(key: UInt32)
    /// `fib daddr type`: the route type of the destination address.
    /// The route type of the packet's source or destination address.
    case fibAddressType(ofSource: Bool)
    /// `ct status`.
    case connectionStatus
    case verdict(UInt32)
    case immediate(register: UInt32, [UInt8])
    /// `numgen inc mod N`.
    case numgen(modulus: UInt32)
    /// Register 1 looked up in a map made in the same batch; its data replaces register 1 (and 9, …).
    case lookup(set: String, id: UInt32)
    /// Destination NAT to the address in register 1 and, when given, the port in `portRegister`.
    case destinationNAT(portRegister: UInt32?)
    case reject(type: UInt32, icmpCode: UInt8)
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
            case .metaSet(let key):
                element.string(1, "meta")
                element.nested(2) { data in
                    data.bigEndianU32(2, key)
                    data.bigEndianU32(3, 1)  // NFTA_META_SREG
                }
            case .fibAddressType(let ofSource):
                element.string(1, "fib")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, 3)  // NFT_FIB_RESULT_ADDRTYPE
                    data.bigEndianU32(3, ofSource ? 1 : 2)  // NFTA_FIB_F_SADDR or NFTA_FIB_F_DADDR
                }
            case .connectionStatus:
                element.string(1, "ct")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, 2)  // NFT_CT_STATUS
                }
            case .verdict(let code):
                element.string(1, "immediate")
                element.nested(2) { data in
                    data.bigEndianU32(1, 0)  // the verdict register
                    data.nested(2) { $0.nested(2) { $0.bigEndianU32(1, code) } }
                }
            case .immediate(let register, let value):
                element.string(1, "immediate")
                element.nested(2) { data in
                    data.bigEndianU32(1, register)
                    data.nested(2) { $0.bytes(1, value) }
                }
            case .numgen(let modulus):
                element.string(1, "numgen")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)
                    data.bigEndianU32(2, modulus)
                    data.bigEndianU32(3, 0)  // NFT_NG_INCREMENTAL
                    data.bigEndianU32(4, 0)  // offset
                }
            case .lookup(let set, let id):
                element.string(1, "lookup")
                element.nested(2) { data in
                    data.string(1, set)
                    data.bigEndianU32(2, 1)
                    data.bigEndianU32(3, 1)
                    data.bigEndianU32(4, id)
                }
            case .destinationNAT(let portRegister):
                element.string(1, "nat")
                element.nested(2) { data in
                    data.bigEndianU32(1, 1)  // NFT_NAT_DNAT
                    data.bigEndianU32(2, 2)  // NFPROTO_IPV4
                    data.bigEndianU32(3, 1)
                    if let portRegister { data.bigEndianU32(5, portRegister) }
                }
            case .reject(let type, let icmpCode):
                element.string(1, "reject")
                element.nested(2) { data in
                    data.bigEndianU32(1, type)
                    data.bytes(2, [icmpCode])
                }
            case .masquerade:
                element.string(1, "masq")
            }
        }
    }
}
