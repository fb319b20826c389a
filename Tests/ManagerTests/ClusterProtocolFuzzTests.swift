import ClusterWire
import Raft
import Testing
import Transport
@testable import Manager

/// The request bodies the router (`ManagerRuntime.answer`) decodes from any
/// peer: random and mutated bytes are refused (nil), never a crash.
@Suite struct ClusterProtocolFuzzTests {

    /// A well-formed request of every kind, for the mutations to start from.
    private static let samples: [Frame] = [
        ClusterProtocol.frame(ClusterProtocol.join, ClusterProtocol.JoinRequest(
            secret: "s", hostname: "h", advertiseAddress: "10.0.0.1:2377", publicKeyPEM: "-----BEGIN PUBLIC KEY-----")),
        ClusterProtocol.frame(ClusterProtocol.forwardedCall, ClusterProtocol.Call(
            method: "POST", path: "/services", query: ["a": "b"], body: [1, 2, 3])),
        ClusterProtocol.frame(ClusterProtocol.logs, ClusterProtocol.LogsRequest(offsets: ["t": 3], tail: -1)),
    ]

    /// Decodes the frame's body as the router does for its kind; whether it was accepted.
    private func route(_ frame: Frame) -> Bool {
        switch frame.kind {
        case ClusterProtocol.join: ClusterProtocol.decode(ClusterProtocol.JoinRequest.self, from: frame) != nil
        case ClusterProtocol.forwardedCall: ClusterProtocol.decode(ClusterProtocol.Call.self, from: frame) != nil
        case ClusterProtocol.logs: ClusterProtocol.decode(ClusterProtocol.LogsRequest.self, from: frame) != nil
        default: false
        }
    }

    @Test func randomAndMutatedBodiesAreRefusedWithoutACrash() {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("ClusterProtocolFuzzTests seed: \(seed)")
        var random = SplitMix64(seed: seed)
        #expect(Self.samples.allSatisfy(route))
        var accepted = 0
        let structural = Array("{}[]\":,0-1e9.truefalsenull\\u".utf8)
        for _ in 0..<100_000 {
            var frame = Self.samples.randomElement(using: &random) ?? Frame(kind: 0, payload: [])
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                frame.payload = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1:
                for _ in 0..<Int.random(in: 1...4, using: &random) where !frame.payload.isEmpty {
                    frame.payload[Int.random(in: frame.payload.indices, using: &random)] = structural.randomElement(using: &random) ?? 0
                }
            case 2:
                frame.payload.removeLast(Int.random(in: 0...frame.payload.count, using: &random))
            default:
                let at = Int.random(in: 0...frame.payload.count, using: &random)
                frame.payload.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in
                    structural.randomElement(using: &random) ?? 0
                }, at: at)
            }
            if route(frame) { accepted += 1 }
        }
        print("ClusterProtocolFuzzTests: \(accepted) of 100000 mutated requests decoded")
    }
}
