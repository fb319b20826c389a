import Foundation
import Raft
import RaftHost

/// The benchmark's replicated state machine: a map from keys to values.
/// A command is a 4-byte key length, the key, then the value.
final class KeyValueStore: ReplicatedStateMachine, @unchecked Sendable {
    private var values: [[UInt8]: [UInt8]] = [:]
    private var revision: UInt64 = 0

    static func putCommand(key: [UInt8], value: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(key.count).bigEndian, Array.init) + key + value
    }

    func apply(_ command: [UInt8], at index: UInt64) -> [UInt8] {
        guard command.count >= 4 else { return [] }
        let keyLength = Int(command[0..<4].reduce(0) { $0 << 8 | UInt32($1) })
        guard command.count >= 4 + keyLength else { return [] }
        values[Array(command[4..<4 + keyLength])] = Array(command[(4 + keyLength)...])
        revision = index
        return withUnsafeBytes(of: index.bigEndian, Array.init)
    }

    func snapshot() -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in values {
            out += withUnsafeBytes(of: UInt32(key.count).bigEndian, Array.init) + key
            out += withUnsafeBytes(of: UInt32(value.count).bigEndian, Array.init) + value
        }
        return out
    }

    func restore(from snapshot: [UInt8]) throws {
        var restored: [[UInt8]: [UInt8]] = [:]
        var position = 0
        func field() throws -> [UInt8] {
            guard snapshot.count - position >= 4 else { throw KeepAliveClient.Failure(description: "truncated snapshot") }
            let length = Int(snapshot[position..<position + 4].reduce(0) { $0 << 8 | UInt32($1) })
            position += 4
            guard snapshot.count - position >= length else { throw KeepAliveClient.Failure(description: "truncated snapshot") }
            defer { position += length }
            return Array(snapshot[position..<position + length])
        }
        while position < snapshot.count { restored[try field()] = try field() }
        values = restored
    }
}
