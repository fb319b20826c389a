#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// One message the kernel sent back: its header fields and what follows the header.
struct NetlinkReply {
    let type: UInt16
    let sequence: UInt32
    let payload: [UInt8]

    static let errorType: UInt16 = 2  // NLMSG_ERROR; a code of 0 is an acknowledgement

    /// For NLMSG_ERROR: 0 (an acknowledgement) or a negative errno.
    var errorCode: Int32? {
        guard type == Self.errorType, payload.count >= 4 else { return nil }
        return Int32(bitPattern: payload.nativeU32(at: 0))
    }
}

/// A netlink socket (through libnl, in the calling thread's network namespace)
/// for messages built by hand: nfnetlink batches and generic netlink requests.
final class NetlinkChannel {
    private let socket: OpaquePointer
    private var nextSequence: UInt32 = 1

    init(protocol: Int32, purpose: String) throws {
        guard let socket = nl_socket_alloc() else { throw SystemError("open \(purpose) socket", reason: "out of memory") }
        let rc = nl_connect(socket, `protocol`)
        guard rc == 0 else {
            nl_socket_free(socket)
            throw SystemError("open \(purpose) socket", reason: String(cString: nl_geterror(rc)))
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.socket = socket
    }

    deinit { nl_socket_free(socket) }

    /// Reserves `count` consecutive sequence numbers; returns the first.
    func reserveSequences(_ count: Int) -> UInt32 {
        let first = nextSequence
        nextSequence &+= UInt32(count)
        return first
    }

    /// Sends `bytes` (one or more netlink messages) in one datagram. The send
    /// buffer grows to fit: the kernel refuses a datagram larger than it.
    func send(_ bytes: [UInt8], operation: String) throws {
        var size = Int32(bytes.count + 4096)
        let fd = nl_socket_get_fd(socket)
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        // To the kernel (an unconnected netlink socket's default peer); errno says why not.
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw SystemError.errno(operation) }
    }

    /// Reads the kernel's messages until `done` says so; `done` sees every
    /// message whose sequence number lies in `sequences` (others are left over
    /// from an earlier request and skipped).
    func receive(_ sequences: ClosedRange<UInt32>, operation: String, until done: (NetlinkReply) throws -> Bool) throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let fd = nl_socket_get_fd(socket)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw SystemError.errno(operation) }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(buffer.nativeU32(at: offset))
                guard length >= 16, offset + length <= count else { break }
                let reply = NetlinkReply(type: buffer.nativeU16(at: offset + 4), sequence: buffer.nativeU32(at: offset + 8),
                                         payload: Array(buffer[(offset + 16)..<(offset + length)]))
                if sequences.contains(reply.sequence), try done(reply) { return }
                offset += (length + 3) & ~3
            }
        }
    }
}

/// Netlink attributes in a received payload: type (flags cleared) and value.
func netlinkAttributes(in bytes: ArraySlice<UInt8>) -> [(type: UInt16, value: ArraySlice<UInt8>)] {
    var attributes: [(type: UInt16, value: ArraySlice<UInt8>)] = []
    var offset = bytes.startIndex
    while offset + 4 <= bytes.endIndex {
        let header = Array(bytes[offset..<(offset + 4)])
        let length = Int(header.nativeU16(at: 0))
        let type = header.nativeU16(at: 2) & 0x3fff  // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
        guard length >= 4, offset + length <= bytes.endIndex else { break }
        attributes.append((type, bytes[(offset + 4)..<(offset + length)]))
        offset += (length + 3) & ~3
    }
    return attributes
}
