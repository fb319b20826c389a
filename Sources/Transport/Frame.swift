import NIOCore

/// One message between nodes: a kind (which protocol it belongs to, e.g. Raft
/// or the dispatcher) and opaque payload bytes. On the wire a frame is
///
///     length  UInt32, big endian: the bytes that follow (version + kind + payload)
///     version UInt8, `Frame.wireVersion`
///     kind    UInt8
///     payload
public struct Frame: Equatable, Sendable {
    public static let wireVersion: UInt8 = 1
    static let headerBytes = 4
    static let prefixBytes = 2  // version + kind

    public var kind: UInt8
    public var payload: [UInt8]

    public init(kind: UInt8, payload: [UInt8]) {
        self.kind = kind
        self.payload = payload
    }

    var wireLength: Int { Self.headerBytes + Self.prefixBytes + payload.count }

    /// Kinds from 128 up are requests: the receiver's answer goes back on the
    /// same connection. Below 128, frames are one-way.
    public static let firstRequestKind: UInt8 = 128
    public var isRequest: Bool { kind >= Self.firstRequestKind }
}

/// Why a connection's byte stream was given up. A stream whose framing is
/// broken cannot be resynchronised, so the connection is closed.
enum FrameError: Error, CustomStringConvertible {
    case tooShort(length: Int)
    case oversized(length: Int, limit: Int)

    var description: String {
        switch self {
        case .tooShort(let length): "malformed frame: length \(length) is shorter than its header"
        case .oversized(let length, let limit): "oversized frame: \(length) bytes, limit \(limit)"
        }
    }
}

/// What the decoder yields: a frame, or a well-framed message of a wire
/// version this build does not speak (skipped, and reported).
enum DecodedFrame {
    case frame(Frame)
    case unsupportedVersion(UInt8)
}

struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = DecodedFrame

    let maximumFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        let bodyLength = Int(length)
        guard bodyLength >= Frame.prefixBytes else { throw FrameError.tooShort(length: bodyLength) }
        guard bodyLength <= maximumFrameBytes else {
            throw FrameError.oversized(length: bodyLength, limit: maximumFrameBytes)
        }
        guard buffer.readableBytes >= Frame.headerBytes + bodyLength else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: Frame.headerBytes)
        guard let version = buffer.readInteger(as: UInt8.self),
              let kind = buffer.readInteger(as: UInt8.self),
              let payload = buffer.readBytes(length: bodyLength - Frame.prefixBytes) else {
            return .needMoreData  // unreachable: the length was checked above
        }
        let decoded: DecodedFrame = version == Frame.wireVersion
            ? .frame(Frame(kind: kind, payload: payload))
            : .unsupportedVersion(version)
        context.fireChannelRead(wrapInboundOut(decoded))
        return .continue
    }
}

struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = Frame

    func encode(data frame: Frame, out: inout ByteBuffer) throws {
        out.reserveCapacity(frame.wireLength)
        out.writeInteger(UInt32(Frame.prefixBytes + frame.payload.count))
        out.writeInteger(Frame.wireVersion)
        out.writeInteger(frame.kind)
        out.writeBytes(frame.payload)
    }
}
