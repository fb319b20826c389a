import Foundation

/// Drives a key-value store over etcd's v3 JSON gateway API (`/v3/kv/put`,
/// `/v3/maintenance/status`), which the shoal benchmark store also speaks,
/// so one generator measures both the same way.
enum LoadGenerator {
    struct LoadResult: Encodable {
        var clients: Int
        var writes: Int
        var errors: Int
        var seconds: Double
        var writesPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
    }

    /// The endpoint whose member is the leader, asked of every endpoint.
    static func leader(of endpoints: [String]) -> Int? {
        for (index, endpoint) in endpoints.enumerated() {
            guard let client = try? KeepAliveClient(endpoint: endpoint, timeoutMilliseconds: 1_000),
                  let answer = try? client.post("/v3/maintenance/status", body: Array("{}".utf8)),
                  answer.status == 200,
                  let status = try? JSONDecoder().decode(MemberStatus.self, from: Data(answer.body)) else { continue }
            if status.header.member_id == status.leader { return index }
        }
        return nil
    }

    static func putBody(key: String, value: [UInt8]) -> [UInt8] {
        let key64 = Data(key.utf8).base64EncodedString()
        let value64 = Data(value).base64EncodedString()
        return Array("{\"key\":\"\(key64)\",\"value\":\"\(value64)\"}".utf8)
    }

    /// `clients` threads, each writing one key after another for `seconds`.
    static func run(endpoint: String, clients: Int, seconds: Double, valueBytes: Int) throws -> LoadResult {
        let value = (0..<valueBytes).map { _ in UInt8.random(in: 0...255) }
        let tally = Tally()
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        let group = DispatchGroup()
        for clientIndex in 0..<clients {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var mine: [Double] = []
                var failed = 0
                guard let client = try? KeepAliveClient(endpoint: endpoint) else { return }
                var sequence = 0
                while Date() < deadline {
                    sequence += 1
                    let body = putBody(key: "bench/\(clientIndex)/\(sequence)", value: value)
                    let sent = DispatchTime.now().uptimeNanoseconds
                    if let answer = try? client.post("/v3/kv/put", body: body), answer.status == 200 {
                        mine.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6)
                    } else {
                        failed += 1
                    }
                }
                tally.add(latencies: mine, errors: failed)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let elapsed = Date().timeIntervalSince(start)
        let (latencies, errors) = tally.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return LoadResult(clients: clients, writes: latencies.count, errors: errors, seconds: elapsed,
                          writesPerSecond: Double(latencies.count) / elapsed,
                          p50Milliseconds: percentile(0.50), p99Milliseconds: percentile(0.99))
    }

    /// Kills the leader's process and measures the time until a surviving
    /// member acknowledges a write.
    static func failover(endpoints: [String], pids: [Int32], valueBytes: Int) throws -> (killed: Int, milliseconds: Double) {
        guard let leader = leader(of: endpoints) else { throw KeepAliveClient.Failure(description: "no leader found") }
        let value = [UInt8](repeating: 7, count: valueBytes)
        let survivors = endpoints.indices.filter { $0 != leader }.compactMap { try? KeepAliveClient(endpoint: endpoints[$0], timeoutMilliseconds: 100) }
        let killedAt = DispatchTime.now().uptimeNanoseconds
        kill(pids[leader], SIGKILL)
        var attempt = 0
        while true {
            attempt += 1
            let client = survivors[attempt % survivors.count]
            if let answer = try? client.post("/v3/kv/put", body: putBody(key: "failover/\(attempt)", value: value)),
               answer.status == 200 {
                return (leader, Double(DispatchTime.now().uptimeNanoseconds - killedAt) / 1e6)
            }
            if Double(DispatchTime.now().uptimeNanoseconds - killedAt) > 60e9 {
                throw KeepAliveClient.Failure(description: "no write acknowledged within 60 s of the kill")
            }
            usleep(5_000)
        }
    }
}

/// What the client threads measured, gathered under a lock.
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var errors = 0

    func add(latencies more: [Double], errors failed: Int) {
        lock.withLock {
            latencies += more
            errors += failed
        }
    }

    func sorted() -> ([Double], Int) { lock.withLock { (latencies.sorted(), errors) } }
}

/// The part of `/v3/maintenance/status` the generator reads (ids are strings in etcd's JSON).
struct MemberStatus: Codable {
    struct Header: Codable { var member_id: String }
    var header: Header
    var leader: String
}
