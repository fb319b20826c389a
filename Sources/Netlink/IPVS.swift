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

    public func addDestination(_ address: IPv4Address, fwmark: UInt32, weight: UInt32 = 1) throws {
        try request(IPVSMessage.newDestination(address, fwmark: fwmark, weight: weight), "add \(address) to IPVS fwmark \(fwmark)")
    }

    /// Weight 0: no new connections, the open ones go on (docker's first step when a task leaves).
    public func setWeight(_ weight: UInt32, of address: IPv4Address, fwmark: UInt32) throws {
        try request(IPVSMessage.setDestination(address, fwmark: fwmark, weight: weight), "set the weight of \(address) in IPVS fwmark \(fwmark)")
    }

    public func deleteDestination(_ address: IPv4Address, fwmark: UInt32) throws {
        try request(IPVSMessage.deleteDestination(address, fwmark: fwmark), "delete \(address) from IPVS fwmark \(fwmark)")
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

/// The payloads (generic netlink header and attributes) of IPVS requests, per
/// the kernel's ip_vs_ctl.c: integers in host order except ports, addresses
/// in a 16-byte field.
enum IPVSMessage {
    static let newServiceCommand: UInt8 = 1, deleteServiceCommand: UInt8 = 3
    static let newDestinationCommand: UInt8 = 5, setDestinationCommand: UInt8 = 6, deleteDestinationCommand: UInt8 = 7
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

    static func newDestination(_ address: IPv4Address, fwmark: UInt32, weight: UInt32) -> [UInt8] {
        destinationMessage(newDestinationCommand, address, fwmark: fwmark, weight: weight)
    }

    static func setDestination(_ address: IPv4Address, fwmark: UInt32, weight: UInt32) -> [UInt8] {
        destinationMessage(setDestinationCommand, address, fwmark: fwmark, weight: weight)
    }

    static func deleteDestination(_ address: IPv4Address, fwmark: UInt32) -> [UInt8] {
        destinationMessage(deleteDestinationCommand, address, fwmark: fwmark, weight: nil)
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

    /// The service, then the destination (port 0: a fwmark service keeps the port); with a weight, all its settings.
    private static func destinationMessage(_ command: UInt8, _ address: IPv4Address, fwmark: UInt32, weight: UInt32?) -> [UInt8] {
        message(command) { message in
            message.nested(serviceAttribute) { service(&$0, fwmark: fwmark, complete: false) }
            message.nested(destinationAttribute) { destination in
                destination.bytes(1, address.octets + [UInt8](repeating: 0, count: 12))
                destination.bytes(2, UInt16(0).bigEndianBytes)
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
