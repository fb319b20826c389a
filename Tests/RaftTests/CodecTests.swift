import Testing
@testable import Raft

@Suite("Message encoding")
struct CodecTests {
    static func sampleMessages() -> [Message] {
        var messages: [Message] = []
        for kind in Message.Kind.allCases {
            var message = Message(kind: kind, from: 3, to: 70_000, term: 1 << 40)
            message.logTerm = 7
            message.index = 123_456
            message.commit = 99
            message.reject = kind == .appendResponse
            message.rejectHint = 5
            message.context = Array("ctx".utf8)
            if kind == .append {
                message.entries = [Entry(term: 7, index: 123_457, data: [1, 2, 3]),
                                   Entry(term: 7, index: 123_458, kind: .configChange,
                                         data: ConfChange(kind: .addLearner, node: 9, context: [4]).encode())]
            }
            if kind == .installSnapshot {
                message.snapshot = Snapshot(metadata: SnapshotMetadata(index: 10, term: 2,
                                                                        conf: ConfState(voters: [1, 2, 3], learners: [4])),
                                            data: [UInt8](repeating: 0xAB, count: 300))
            }
            messages.append(message)
        }
        return messages
    }

    @Test("every message kind round-trips through encode/decode")
    func roundTrip() throws {
        for message in Self.sampleMessages() {
            #expect(try Message(decoding: message.encode()) == message)
        }
        let change = ConfChange(kind: .removeNode, node: UInt64.max, context: [1])
        #expect(try ConfChange(decoding: change.encode()) == change)
        let state = HardState(term: 5, vote: 2, commit: UInt64.max)
        #expect(try HardState(decoding: state.encode()) == state)
    }

    @Test("the encoding is compact: a heartbeat takes a dozen bytes")
    func compact() {
        var heartbeat = Message(kind: .heartbeat, from: 1, to: 2, term: 40)
        heartbeat.commit = 1_000
        #expect(heartbeat.encode().count <= 14)
    }

    @Test("malformed message bytes make decoding throw, never crash")
    func malformedThrows() throws {
        let valid = Self.sampleMessages()[0].encode()
        // Every truncation of every sample is refused.
        for message in Self.sampleMessages() {
            let bytes = message.encode()
            for length in 0..<bytes.count {
                #expect(throws: DecodingError.self) { try Message(decoding: Array(bytes[0..<length])) }
            }
        }
        #expect(throws: DecodingError.self) { try Message(decoding: valid + [0]) }          // trailing
        var badVersion = valid; badVersion[0] = 9
        #expect(throws: DecodingError.unsupportedVersion(9)) { try Message(decoding: badVersion) }
        var badKind = valid; badKind[1] = 200
        #expect(throws: DecodingError.self) { try Message(decoding: badKind) }
        var badFlags = valid; badFlags[2] = 0x80
        #expect(throws: DecodingError.self) { try Message(decoding: badFlags) }
        // A huge entry count in a tiny message is refused without allocating.
        #expect(throws: DecodingError.self) {
            try Message(decoding: [1, 1, 0, 1, 2, 1, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        }
        // An overlong varint is refused.
        #expect(throws: DecodingError.self) {
            try Message(decoding: [1, 1, 0] + [UInt8](repeating: 0xFF, count: 11))
        }
    }

    @Test("fuzz: random bytes and random mutations of valid messages never crash the decoder")
    func decoderFuzz() {
        var random = SplitMix64(seed: 7)
        let samples = Self.sampleMessages().map { $0.encode() }
        var decoded = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if !bytes.isEmpty { bytes[0] = 1 }
            } else {
                bytes = samples[Int(random.next() % UInt64(samples.count))]
                for _ in 0..<(1 + random.next() % 3) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            if let message = try? Message(decoding: bytes) {
                decoded += 1
                // Whatever decodes re-encodes to something that decodes to the same value.
                #expect((try? Message(decoding: message.encode())) == message)
            }
        }
        #expect(decoded > 0)
    }

    @Test("a node fed decoded garbage drops it without trapping")
    func nodeSurvivesGarbage() {
        var random = SplitMix64(seed: 11)
        var net = TestNetwork(voters: 3)
        net.campaign(1)
        let samples = Self.sampleMessages().map { $0.encode() }
        for _ in 0..<5_000 {
            var bytes = samples[Int(random.next() % UInt64(samples.count))]
            for _ in 0..<(1 + random.next() % 4) {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            guard var message = try? Message(decoding: bytes) else { continue }
            message.to = 1 + random.next() % 3
            message.from = 1 + random.next() % 3
            net.nodes[message.to]!.step(message)
            _ = net.collect(message.to)
        }
        #expect(net.nodes.values.allSatisfy { $0.term < RaftNode.sanityLimit })
    }
}
