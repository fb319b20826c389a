import NIOCore
import NIOEmbedded
import Raft
import Testing
@testable import Transport

@Suite struct FrameFuzzTests {
    static let limit = 4096

    /// A stream of frames: well-formed ones, then bytes flipped, cut, or
    /// lengths replaced (small, at the limit, huge) — or plain random bytes.
    private func stream(frames: Int, using random: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<frames {
            let payload = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            var frame = withUnsafeBytes(of: UInt32(2 + payload.count).bigEndian, Array.init)
                + [Bool.random(using: &random) ? Frame.wireVersion : UInt8.random(in: 0...255, using: &random),
                   UInt8.random(in: 0...255, using: &random)] + payload
            switch Int.random(in: 0..<8, using: &random) {
            case 0: frame[Int.random(in: frame.indices, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1: frame.removeLast(Int.random(in: 0...frame.count, using: &random))
            case 2:
                let length = [0, 1, 2, UInt32(Self.limit), UInt32(Self.limit + 1), UInt32.max, UInt32.random(in: 0...UInt32.max, using: &random)]
                    .randomElement(using: &random) ?? 0
                frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian, Array.init))
            case 3: frame = (0..<Int.random(in: 0...32, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            default: break
            }
            bytes += frame
        }
        return bytes
    }

    @Test func randomAndMutatedFramesNeverCrashTheDecoderNorPassTheLimit() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("FrameFuzzTests seed: \(seed)")
        var random = SplitMix64(seed: seed)
        var thrown = 0, decoded = 0, refused = 0
        while thrown < 100_000 {
            let frames = Int.random(in: 1...16, using: &random)
            var input = ByteBuffer(bytes: stream(frames: frames, using: &random))
            thrown += frames
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: Self.limit)))
            do {
                // In pieces of random size, as TCP may deliver them.
                while input.readableBytes > 0 {
                    let piece = input.readSlice(length: min(input.readableBytes, Int.random(in: 1...512, using: &random)))
                    try channel.writeInbound(piece ?? ByteBuffer())
                }
            } catch is FrameError {
                refused += 1
            }
            while let next = try channel.readInbound(as: DecodedFrame.self) {
                decoded += 1
                if case .frame(let frame) = next {
                    #expect(frame.payload.count + Frame.prefixBytes <= Self.limit, "seed \(seed)")
                }
            }
            _ = try? channel.finish()
        }
        #expect(decoded > 0 && refused > 0, "seed \(seed): the fuzzer should reach both outcomes")
    }
}
