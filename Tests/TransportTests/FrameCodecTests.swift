import NIOCore
import NIOEmbedded
import Testing
@testable import Transport

@Suite struct FrameCodecTests {
    private func decoder(limit: Int = 1024) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: limit)))
        return channel
    }

    private func bytes(length: UInt32, version: UInt8 = Frame.wireVersion, kind: UInt8 = 3, payload: [UInt8] = []) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(length)
        buffer.writeInteger(version)
        buffer.writeInteger(kind)
        buffer.writeBytes(payload)
        return buffer
    }

    private func frames(_ channel: EmbeddedChannel) throws -> [DecodedFrame] {
        var out: [DecodedFrame] = []
        while let next = try channel.readInbound(as: DecodedFrame.self) { out.append(next) }
        return out
    }

    @Test func encodesWhatItDecodes() throws {
        let encoder = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        try encoder.writeOutbound(Frame(kind: 9, payload: [1, 2, 3]))
        let wire = try #require(try encoder.readOutbound(as: ByteBuffer.self))
        #expect(Array(wire.readableBytesView) == [0, 0, 0, 5, Frame.wireVersion, 9, 1, 2, 3])

        let channel = try decoder()
        try channel.writeInbound(wire)
        guard case .frame(let frame) = try #require(try frames(channel).first) else { Issue.record("no frame"); return }
        #expect(frame == Frame(kind: 9, payload: [1, 2, 3]))
    }

    @Test func aFrameSplitAcrossReadsIsReassembled() throws {
        let channel = try decoder()
        var whole = bytes(length: 6, payload: [1, 2, 3, 4])
        while whole.readableBytes > 0 {
            try channel.writeInbound(whole.readSlice(length: 1) ?? ByteBuffer())
        }
        #expect(try frames(channel).count == 1)
    }

    @Test func aFrameOfAnotherWireVersionIsSkippedAndTheStreamGoesOn() throws {
        let channel = try decoder()
        var buffer = bytes(length: 3, version: 99, payload: [7])
        var good = bytes(length: 3, payload: [8])
        buffer.writeBuffer(&good)
        try channel.writeInbound(buffer)
        let decoded = try frames(channel)
        #expect(decoded.count == 2)
        guard case .unsupportedVersion(99) = decoded[0], case .frame(let frame) = decoded[1] else {
            Issue.record("unexpected \(decoded)")
            return
        }
        #expect(frame.payload == [8])
    }

    @Test func anOversizedFrameIsRefusedBeforeItIsBuffered() throws {
        let channel = try decoder(limit: 16)
        #expect(throws: FrameError.self) { try channel.writeInbound(bytes(length: 1 << 30)) }
    }

    @Test func aLengthShorterThanTheHeaderIsRefused() throws {
        let channel = try decoder()
        #expect(throws: FrameError.self) { try channel.writeInbound(bytes(length: 1)) }
    }
}
