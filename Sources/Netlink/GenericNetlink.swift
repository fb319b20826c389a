#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// Generic netlink: families (IPVS among them) found by name through the controller.
public enum GenericNetlink {
    private static let controller: UInt16 = 0x10  // GENL_ID_CTRL
    private static let getFamily: UInt8 = 3  // CTRL_CMD_GETFAMILY
    private static let familyNameAttribute: UInt16 = 2, familyIDAttribute: UInt16 = 1

    /// The id of generic netlink family `name` in the calling thread's network
    /// namespace, or nil when the kernel has no such family.
    public static func familyID(named name: String) throws -> UInt16? {
        let operation = "look up generic netlink family \(name)"
        let channel = try NetlinkChannel(protocol: NETLINK_GENERIC, purpose: "generic netlink")
        let sequence = channel.reserveSequences(1)
        try channel.send(familyRequest(name, sequence: sequence), operation: operation)
        var found: UInt16?
        try channel.receive(sequence...sequence, operation: operation) { reply in
            if let code = reply.errorCode {
                if code == -ENOENT { return true }
                if code != 0 { throw SystemError.errno(operation, -code) }
                return true
            }
            guard reply.type == controller else { return false }
            // genlmsghdr (4 bytes), then the attributes.
            let value = netlinkAttributes(in: reply.payload.dropFirst(4)).first { $0.type == familyIDAttribute }?.value
            if let value, value.count >= 2 { found = Array(value).nativeU16(at: 0) }
            return false  // the acknowledgement follows
        }
        return found
    }

    /// The id of `name` in the network namespace pinned at `path`.
    public static func familyID(named name: String, inNamespace path: String) throws -> UInt16? {
        try Namespace.run(inNetworkNamespace: path) { try familyID(named: name) }
    }

    /// CTRL_CMD_GETFAMILY for `name`, asking for an acknowledgement.
    static func familyRequest(_ name: String, sequence: UInt32) -> [UInt8] {
        var attributes = AttributeWriter()
        attributes.string(familyNameAttribute, name)
        return netlinkMessage(type: controller, flags: 0x1 | 0x4, sequence: sequence, payload: [getFamily, 1, 0, 0] + attributes.bytes)
    }
}
