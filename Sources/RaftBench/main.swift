import ArgumentParser
import ClusterCA
import Foundation
import ShoalAPI

/// `shoal-raft-bench`: the pieces of `make bench-raft` — a member of shoal's
/// Raft key-value store, a certificate helper, and the load generator that
/// drives it and etcd alike.
struct RaftBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-raft-bench",
        abstract: "Benchmark shoal's Raft against etcd.",
        subcommands: [ServeCommand.self, PKICommand.self, LoadCommand.self, FailoverCommand.self])
}

struct PKICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pki", abstract: "Write a CA and member certificates.")
    @Option(help: "Output folder.") var out: String
    @Option(help: "Member ids, comma separated.") var members: String

    func run() throws {
        let authority = try CertificateAuthority(commonName: "shoal-raft-bench")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try authority.certificatePEM.write(toFile: "\(out)/ca.pem", atomically: true, encoding: .utf8)
        for member in members.split(separator: ",") {
            let issued = try authority.issue(nodeID: String(member), role: "manager", validitySeconds: CertificateExpiry.defaultSeconds)
            try issued.certificatePEM.write(toFile: "\(out)/\(member).pem", atomically: true, encoding: .utf8)
            try issued.privateKeyPEM.write(toFile: "\(out)/\(member).key", atomically: true, encoding: .utf8)
        }
    }
}

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Write to the leader; print one JSON line.")
    @Option(help: "Client endpoints, comma separated.") var endpoints: String
    @Option var clients = 1
    @Option var seconds = 10.0
    @Option var valueBytes = 256

    func run() throws {
        let list = endpoints.split(separator: ",").map(String.init)
        var leader: Int?
        for _ in 0..<200 where leader == nil {
            leader = LoadGenerator.leader(of: list)
            if leader == nil { usleep(50_000) }
        }
        guard let leader else { throw ValidationError("no leader among \(endpoints)") }
        let result = try LoadGenerator.run(endpoint: list[leader], clients: clients, seconds: seconds, valueBytes: valueBytes)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}

struct FailoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover", abstract: "Kill -9 the leader; print the ms until a write is acknowledged.")
    @Option(help: "Client endpoints, comma separated.") var endpoints: String
    @Option(help: "The members' pids, in the same order.") var pids: String
    @Option var valueBytes = 256

    func run() throws {
        let list = endpoints.split(separator: ",").map(String.init)
        let pidList = pids.split(separator: ",").compactMap { Int32($0) }
        guard list.count == pidList.count else { throw ValidationError("one pid per endpoint") }
        let (killed, milliseconds) = try LoadGenerator.failover(endpoints: list, pids: pidList, valueBytes: valueBytes)
        print("{\"killed\":\"\(list[killed])\",\"failover_ms\":\(String(format: "%.1f", milliseconds))}")
    }
}

RaftBench.main()
