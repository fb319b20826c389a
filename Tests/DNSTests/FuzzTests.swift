import FoundationEssentials
import Testing
import TestSupport
@testable import Addressing
@testable import DNS

/// SplitMix64: equal seeds give equal packets, so a failing run can be replayed.
struct FuzzRandom {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    /// `count` random bytes, eight from each draw.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var value: UInt64 = 0
        while bytes.count < count {
            if bytes.count % 8 == 0 { value = next() }
            bytes.append(UInt8(truncatingIfNeeded: value))
            value >>= 8
        }
        return bytes
    }
}

@Suite struct FuzzTests {
    /// Set SHOAL_DNS_FUZZ_SEED to replay another run.
    static let seed = ProcessInfo.processInfo.environment["SHOAL_DNS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5eed_d115

    /// Valid queries and replies to mutate.
    func seeds(_ directory: DNSDirectory) throws -> [[UInt8]] {
        var packets = [
            try makeQuery("whoami"), try makeQuery("tasks.whoami", udpPayload: 1232), try makeQuery("whoami.2", .aaaa),
            try makeQuery("4.1.0.10.in-addr.arpa", .ptr, udpPayload: 512), try makeQuery("example.org", .mx),
            try makeQuery("db.front", .any, udpPayload: 4096),
        ]
        for query in Array(packets) {
            if case .answer(let reply) = directory.respond(to: query, over: .udp, fromNetworks: ["n1"], rotation: 0) {
                packets.append(reply)
            }
        }
        let zone = try DNSName("example.org")
        packets.append(DNSMessage(header: DNSHeader(id: 3).reply(code: .noError), questions: [DNSQuestion(name: zone, type: .any)],
                                  answers: [
                                      DNSRecord(name: zone, type: .mx, ttl: 6, data: .mx(preference: 10, exchange: try DNSName("mail.example.org"))),
                                      DNSRecord(name: zone, type: .txt, ttl: 7, data: .txt([Array("v=spf1".utf8)])),
                                      DNSRecord(name: zone, type: .srv, ttl: 8, data: .srv(priority: 0, weight: 1, port: 2, target: zone)),
                                      DNSRecord(name: zone, type: .cname, ttl: 8, data: .cname(try DNSName("www.example.org"))),
                                  ],
                                  authorities: [DNSRecord(name: zone, type: .soa, ttl: 9, data: .soa(DNSStartOfAuthority(
                                      primary: try DNSName("ns1.example.org"), mailbox: try DNSName("root.example.org"),
                                      serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5)))],
                                  edns: DNSExtension(udpPayloadSize: 1232)).serialized())
        return packets
    }

    static func mutate(_ packet: [UInt8], _ random: inout FuzzRandom) -> [UInt8] {
        var bytes = packet
        switch random.below(8) {
        case 0:  // flip a few bits
            for _ in 0...random.below(8) where !bytes.isEmpty {
                bytes[random.below(bytes.count)] ^= 1 << UInt8(random.below(8))
            }
        case 1:  // cut short
            bytes.removeLast(random.below(bytes.count + 1))
        case 2:  // inflate a count
            let index = 4 + random.below(8)
            if index < bytes.count { bytes[index] = random.below(2) == 0 ? 0xff : random.byte() }
        case 3:  // a compression pointer anywhere, to anywhere
            let index = 12 + random.below(max(bytes.count - 13, 1))
            if index + 1 < bytes.count {
                bytes[index] = 0xc0 | random.byte() & 0x3f
                bytes[index + 1] = random.below(2) == 0 ? UInt8(truncatingIfNeeded: index - random.below(4)) : random.byte()
            }
        case 4:  // a label length too long or of a reserved type
            if bytes.count > 12 { bytes[12 + random.below(bytes.count - 12)] = 0x3f + random.byte() % 0xc1 }
        case 5:  // junk appended
            bytes += random.bytes(random.below(64))
        case 6:  // random bytes over a stretch
            for _ in 0..<random.below(16) where !bytes.isEmpty { bytes[random.below(bytes.count)] = random.byte() }
        default:  // a packet of noise
            bytes = random.bytes(random.below(600))
        }
        return bytes
    }

    /// Runs `rounds` packets through parse, write-back and respond; returns how many parsed, or
    /// what went wrong.
    static func fuzz(rounds: Int, seed: UInt64, directory: DNSDirectory, seeds: [[UInt8]]) -> Result<Int, FuzzFailure> {
        var random = FuzzRandom(state: seed)
        var packets = seeds
        var parsed = 0
        for round in 0..<rounds {
            // Mutations pile up now and then, so that deeper damage is reached too.
            let packet = mutate(packets[random.below(packets.count)], &random)
            if round % 64 == 0, packet.count >= 12, packets.count < 64 { packets.append(packet) }
            // Every fourth readable packet is also written back and read again.
            if let message = try? DNSMessage(parsing: packet) {
                parsed += 1
                if parsed % 4 == 0, (try? DNSMessage(parsing: message.serialized())) != message {
                    return .failure(FuzzFailure(text: "no round trip for \(packet) (seed \(seed), round \(round))"))
                }
            }
            let transport: DNSTransport = round & 1 == 0 ? .udp : .tcp
            switch directory.respond(to: packet, over: transport, fromNetworks: ["n1", "n2"], rotation: UInt64(round)) {
            case .answer(let reply):
                if transport == .udp && reply.count > DNSDirectory.maximumUDPPayload {
                    return .failure(FuzzFailure(text: "UDP reply of \(reply.count) bytes (seed \(seed), round \(round))"))
                }
            case .forward(let forwarded):
                // The mutated packet as an upstream's reply with the right id: judged, maybe cut.
                _ = forwarded.judge(packet, from: 1, over: .tcp, upstreamID: UInt16(packet[0]) << 8 | UInt16(packet[1]),
                                    upstream: 1)
                _ = forwarded.upstreamQuery(id: UInt16(truncatingIfNeeded: round))
            case .drop:
                break
            }
        }
        return .success(parsed)
    }

    struct FuzzFailure: Error {
        var text: String
    }

    @Test func aMillionRandomAndMutatedPacketsNeverCrashTheParserOrTheResponder() async throws {
        // Two lanes of half a million, one a core; the second is seeded with seed + 1.
        print("DNS fuzz seed: \(Self.seed) (SHOAL_DNS_FUZZ_SEED replays it)")
        let directory = try makeDirectory()
        let seeds = try seeds(directory)
        // On dispatch threads: the cooperative pool (a thread a core) stays free for other tests.
        async let first = offTheCooperativePool { Self.fuzz(rounds: 500_000, seed: Self.seed, directory: directory, seeds: seeds) }
        async let second = offTheCooperativePool {
            Self.fuzz(rounds: 500_000, seed: Self.seed &+ 1, directory: directory, seeds: seeds)
        }
        for result in try await [first, second] {
            switch result {
            case .success(let parsed):
                // Some mutations must keep the packet readable, or the responder's paths were not reached.
                #expect(parsed > 5_000)
            case .failure(let failure):
                Issue.record("\(failure.text)")
            }
        }
    }

    @Test func packetsOf64KiBAreRefusedWithoutCrashing() throws {
        var random = FuzzRandom(state: Self.seed)
        let directory = try makeDirectory()
        var inputs: [[UInt8]] = [Array(repeating: 0, count: 65535), Array(repeating: 0xff, count: 65535),
                                 [0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + Array(repeating: 0xc0, count: 65523)]
        inputs += (0..<16).map { _ in random.bytes(65536) }
        for packet in inputs {
            _ = try? DNSMessage(parsing: packet)
            _ = directory.respond(to: packet, over: .tcp, fromNetworks: ["n1"], rotation: 0)
        }
        // 65535 zero bytes: a query with no questions and no records; FORMERR.
        guard case .answer(let reply) = directory.respond(to: inputs[0], over: .udp, fromNetworks: ["n1"], rotation: 0) else {
            Issue.record("the zero packet was not answered FORMERR")
            return
        }
        #expect(try DNSMessage(parsing: reply).header.responseCode == .formatError)
    }
}
