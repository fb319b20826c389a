#if canImport(Glibc)
import Glibc
#endif
import Addressing
import CNetlink

/// IPVS over generic netlink (family "IPVS"), docker's way: one service per
/// fwmark (set on a VIP's packets by an nftables rule), scheduler round
/// robin, masquerading destinations. The kernel of these machines has no
/// ip_vs: here only the messages are tested, byte by byte, and the error
/// when the family is missing.
public final class IPVSSocket {
    private let channel: NetlinkChannel
    private let family: UInt16

    /// Opens a socket in the calling thread's network namespace; fails in one
    /// line when the kernel has no IPVS.
    public init() throws {
        guard let family = try GenericNetlink.familyID(named: "IPVS") else {
            throw SystemError("program IPVS", reason: "this kernel has no IPVS (no generic netlink family IPVS): load ip_vs or use --lb nftables")
        }
        self.family = family
        channel = try NetlinkChannel(protocol: NETLINK_GENERIC, purpose: "generic netlink")
    }

    /// Opens a socket that programs the network namespace pinned at `path`.
    public static func open(inNamespace path: String) throws -> IPVSSocket {
        try Namespace.run(inNetworkNamespace: path) { try IPVSSocket() }
    }

    public func addService(fwmark: UInt32) throws {
        try request(IPVSMessage.newService(fwmark: fwmark), "add IPVS service for fwmark \(fwmark)")
    }

    public func deleteService(fwmark: UInt32) throws {
        try request(IPVSMessage.deleteService(fwmark: fwmark), "delete IPVS service for fwmark \(fwmark)")
    }

    public func addDestination(_ destination: IPVSDestination, fwmark: UInt32, weight: UInt32 = 1) throws {
        try request(IPVSMessage.newDestination(destination, fwmark: fwmark, weight: weight), "add \(destination) to IPVS fwmark \(fwmark)")
    }

    /// Weight 0: no new connections, the open ones go on (docker's first step when a task leaves).
    public func setWeight(_ weight: UInt32, of destination: IPVSDestination, fwmark: UInt32) throws {
        try request(IPVSMessage.setDestination(destination, fwmark: fwmark, weight: weight),
                    "set the weight of \(destination) in IPVS fwmark \(fwmark)")
    }

    public func deleteDestination(_ destination: IPVSDestination, fwmark: UInt32) throws {
        try request(IPVSMessage.deleteDestination(destination, fwmark: fwmark), "delete \(destination) from IPVS fwmark \(fwmark)")
    }

    /// What the namespace's IPVS holds: each fwmark service with its destinations and their weights.
    public func services() throws -> [UInt32: [IPVSDestination: UInt32]] {
        var services: [UInt32: [IPVSDestination: UInt32]] = [:]
        for reply in try dump(IPVSMessage.getServices(), "list the IPVS services") {
            if let fwmark = IPVSMessage.fwmark(inServiceReply: reply) { services[fwmark] = [:] }
        }
        for fwmark in services.keys {
            for reply in try dump(IPVSMessage.getDestinations(fwmark: fwmark), "list the destinations of IPVS fwmark \(fwmark)") {
                if let found = IPVSMessage.destination(inReply: reply) { services[fwmark]?[found.0] = found.weight }
            }
        }
        return services
    }

    /// Sends one dump request; returns the payload of every message of the answer.
    private func dump(_ payload: [UInt8], _ operation: String) throws -> [[UInt8]] {
        let sequence = channel.reserveSequences(1)
        try channel.send(netlinkMessage(type: family, flags: 0x1 | 0x300, sequence: sequence, payload: payload), operation: operation)
        var payloads: [[UInt8]] = []
        try channel.receive(sequence...sequence, operation: operation) { reply in
            if reply.type == 3 { return true }  // NLMSG_DONE
            if let code = reply.errorCode {
                if code != 0 { throw SystemError.errno(operation, -code) }
                return true
            }
            if reply.type == family { payloads.append(reply.payload) }
            return false
        }
        return payloads
    }

    /// Sends one request and waits for its acknowledgement.
    private func request(_ payload: [UInt8], _ operation: String) throws {
        let sequence = channel.reserveSequences(1)
        try channel.send(netlinkMessage(type: family, flags: 0x1 | 0x4, sequence: sequence, payload: payload), operation: operation)
        try channel.receive(sequence...sequence, operation: operation) { reply in
            guard let code = reply.errorCode else { return false }
            if code != 0 { throw SystemError.errno(operation, -code) }
            return true
        }
    }
}

/// A real server of a fwmark service: its address and port (0: the port the
/// client asked for, as a VIP covering every port needs).
public struct IPVSDestination: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let address: IPv4Address
    public let port: UInt16

    public init(address: IPv4Address, port: UInt16 = 0) {
        self.address = address
        self.port = port
    }

    public static func < (lhs: IPVSDestination, rhs: IPVSDestination) -> Bool { (lhs.address, lhs.port) < (rhs.address, rhs.port) }

    public var description: String { port == 0 ? "\(address)" : "\(address):\(port)" }
}

/// The payloads (generic netlink header and attributes) of IPVS requests, per
/// the kernel's ip_vs_ctl.c: integers in host order except ports, addresses
/// in a 16-byte field.
enum IPVSMessage {
    static let newServiceCommand: UInt8 = 1, deleteServiceCommand: UInt8 = 3, getServiceCommand: UInt8 = 4
    static let newDestinationCommand: UInt8 = 5, setDestinationCommand: UInt8 = 6, deleteDestinationCommand: UInt8 = 7
    static let getDestinationCommand: UInt8 = 8
    private static let version: UInt8 = 1
    private static let serviceAttribute: UInt16 = 1, destinationAttribute: UInt16 = 2
    private static let ipv4Family = UInt16(AF_INET)
    private static let masquerade: UInt32 = 0  // IP_VS_CONN_F_MASQ

    static func newService(fwmark: UInt32) -> [UInt8] {
        message(newServiceCommand) { $0.nested(serviceAttribute) { service(&$0, fwmark: fwmark, complete: true) } }
    }

    static func deleteService(fwmark: UInt32) -> [UInt8] {
        message(deleteServiceCommand) { $0.nested(serviceAttribute) { service(&$0, fwmark: fwmark, complete: false) } }
    }

    static func newDestination(_ destination: IPVSDestination, fwmark: UInt32, weight: UInt32) -> [UInt8] {
        destinationMessage(newDestinationCommand, destination, fwmark: fwmark, weight: weight)
    }

    static func setDestination(_ destination: IPVSDestination, fwmark: UInt32, weight: UInt32) -> [UInt8] {
        destinationMessage(setDestinationCommand, destination, fwmark: fwmark, weight: weight)
    }

    static func deleteDestination(_ destination: IPVSDestination, fwmark: UInt32) -> [UInt8] {
        destinationMessage(deleteDestinationCommand, destination, fwmark: fwmark, weight: nil)
    }

    /// A dump of every service (no attributes: all of them).
    static func getServices() -> [UInt8] { message(getServiceCommand) { _ in } }

    /// A dump of the destinations of the fwmark service.
    static func getDestinations(fwmark: UInt32) -> [UInt8] {
        message(getDestinationCommand) { $0.nested(serviceAttribute) { service(&$0, fwmark: fwmark, complete: false) } }
    }

    /// The fwmark of a service in a GET_SERVICE answer (nil: not a fwmark service).
    static func fwmark(inServiceReply payload: [UInt8]) -> UInt32? {
        guard let service = attribute(serviceAttribute, in: payload.dropFirst(4)),
              let fwmark = attribute(5, in: service), fwmark.count == 4 else { return nil }
        let value = Array(fwmark).nativeU32(at: 0)
        return value == 0 ? nil : value
    }

    /// An IPv4 destination and its weight in a GET_DEST answer.
    static func destination(inReply payload: [UInt8]) -> (IPVSDestination, weight: UInt32)? {
        guard let destination = attribute(destinationAttribute, in: payload.dropFirst(4)),
              let address = attribute(1, in: destination), address.count >= 4,
              let port = attribute(2, in: destination), port.count == 2,
              let weight = attribute(4, in: destination), weight.count == 4 else { return nil }
        let octets = Array(address.prefix(4))
        let value = UInt32(octets[0]) << 24 | UInt32(octets[1]) << 16 | UInt32(octets[2]) << 8 | UInt32(octets[3])
        return (IPVSDestination(address: IPv4Address(value), port: UInt16(port[port.startIndex]) << 8 | UInt16(port[port.startIndex + 1])),
                Array(weight).nativeU32(at: 0))
    }

    private static func attribute(_ type: UInt16, in bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        netlinkAttributes(in: bytes).first { $0.type == type }?.value
    }

    private static func message(_ command: UInt8, _ attributes: (inout AttributeWriter) -> Void) -> [UInt8] {
        var writer = AttributeWriter()
        attributes(&writer)
        return [command, version, 0, 0] + writer.bytes
    }

    /// A service is its family and fwmark; adding one also needs the scheduler, flags, timeout and netmask.
    private static func service(_ service: inout AttributeWriter, fwmark: UInt32, complete: Bool) {
        service.nativeU16(1, ipv4Family)
        service.nativeU32(5, fwmark)
        guard complete else { return }
        service.string(6, "rr")
        service.bytes(7, UInt32(0).nativeBytes + UInt32.max.nativeBytes)  // flags, mask
        service.nativeU32(8, 0)  // no persistence
        service.bytes(9, [255, 255, 255, 255])  // netmask (big-endian)
    }

    /// The service, then the destination; with a weight, all its settings.
    private static func destinationMessage(_ command: UInt8, _ target: IPVSDestination, fwmark: UInt32, weight: UInt32?) -> [UInt8] {
        message(command) { message in
            message.nested(serviceAttribute) { service(&$0, fwmark: fwmark, complete: false) }
            message.nested(destinationAttribute) { destination in
                destination.bytes(1, target.address.octets + [UInt8](repeating: 0, count: 12))
                destination.bytes(2, target.port.bigEndianBytes)
                if let weight {
                    destination.nativeU32(3, masquerade)
                    destination.nativeU32(4, weight)
                    destination.nativeU32(5, 0)  // no upper connection threshold
                    destination.nativeU32(6, 0)  // nor lower
                }
                destination.nativeU16(11, ipv4Family)
            }
        }
    }
}
