import Addressing
import ArgumentParser
import ClusterCA
import Daemon
import Foundation
import Logging
import NIOPosix
import Raft
import RaftHost
import RaftStorage
import Transport

/// One member of the benchmark's key-value store: shoal's Raft with its WAL
/// on disk and its mutual-TLS transport, serving etcd's JSON put and status calls.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run one member of the benchmark store.")

    @Option(help: "This member's id (1, 2, …).") var id: UInt64
    @Option(help: "Every member as ID=HOST:PORT (raft transport), comma separated.") var members: String
    @Option(help: "HOST:PORT for clients.") var client: String
    @Option(help: "Where the WAL lives.") var dataDir: String
    @Option(help: "Folder written by the pki command.") var pki: String

    func run() throws {
        var peers: [UInt64: HostPort] = [:]
        for member in members.split(separator: ",") {
            let parts = member.split(separator: "=")
            guard parts.count == 2, let memberID = UInt64(parts[0]), let address = HostPort(parts[1]) else {
                throw ValidationError("bad member '\(member)'")
            }
            peers[memberID] = address
        }
        guard let me = peers[id], let clientAddress = HostPort(client) else {
            throw ValidationError("--id must be one of --members, and --client HOST:PORT")
        }
        var logger = Logger(label: "raft-bench")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup.singleton

        let (wal, recovered) = try WAL.open(directory: dataDir, fileSystem: PosixFileSystem())
        let config = RaftConfig(id: id)
        let node = recovered == RecoveredState()
            ? RaftNode.bootstrap(config: config, voters: peers.keys.sorted())
            : RaftNode(config: config, recovered: recovered)

        let credentials = TransportCredentials(
            certificateChainPEM: try String(contentsOfFile: "\(pki)/\(id).pem", encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: "\(pki)/\(id).key", encoding: .utf8),
            trustedRootsPEM: try String(contentsOfFile: "\(pki)/ca.pem", encoding: .utf8))
        let hostBox = LateBound<RaftHost>()
        let memberNames = Set(peers.keys.map(String.init))
        let transport = try Transport(
            credentials: credentials, group: group, logger: logger,
            admits: { memberNames.contains($0.nodeID) },
            receive: { peer, frame in
                guard frame.kind == RaftFrame.kind, let message = try? Message(decoding: frame.payload),
                      String(message.from) == peer.nodeID else { return }
                hostBox.value?.receive(message)
            },
            disconnected: { peer in
                if let member = UInt64(peer.nodeID) { hostBox.value?.peerDisconnected(member) }
            })
        for (memberID, address) in peers where memberID != id {
            transport.setPeer(String(memberID), host: address.host, port: address.port)
        }
        let host = try RaftHost(
            node: node, wal: wal, recoveredSnapshot: recovered.snapshot, stateMachine: KeyValueStore(), logger: logger,
            send: { messages in
                for (peer, batch) in Dictionary(grouping: messages, by: \.to) {
                    transport.send(batch.map { Frame(kind: RaftFrame.kind, payload: $0.encode()) }, to: String(peer))
                }
            },
            onStorageFailure: { error in
                writeToStandardError("shoal-raft-bench: storage failed: \(error)")
                Foundation.exit(1)
            })
        hostBox.value = host

        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                _ = try await transport.listen(host: me.host, port: me.port)
            } catch {
                writeToStandardError("shoal-raft-bench: cannot listen on \(me.host):\(me.port): \(error)")
                Foundation.exit(1)
            }
            done.signal()
        }
        done.wait()
        host.start()
        _ = try APIServer.start(.tcp(host: clientAddress.host, port: clientAddress.port), router: Self.router(host: host), group: group)
        dispatchMain()
    }

    private struct PutRequest: Decodable { var key: String; var value: String }
    private struct PutAnswer: Encodable { struct Header: Encodable { var revision: String }; var header: Header }

    static func router(host: RaftHost) -> HTTPRouter {
        var router = HTTPRouter()
        router.add("POST", "/v3/kv/put") { request in
            let put = try request.decode(PutRequest.self)
            guard let key = Data(base64Encoded: put.key), let value = Data(base64Encoded: put.value) else {
                throw APIError(status: 400, message: "key and value must be base64")
            }
            let answer: [UInt8]
            do {
                answer = try await host.propose(KeyValueStore.putCommand(key: Array(key), value: Array(value)))
            } catch {
                throw APIError(status: 503, message: "\(error)")
            }
            let revision = answer.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return try .json(PutAnswer(header: .init(revision: String(revision))))
        }
        router.add("POST", "/v3/maintenance/status") { _ in
            let status = host.currentStatus
            return try .json(MemberStatus(header: .init(member_id: String(host.id)), leader: String(status.leader)))
        }
        return router
    }
}

enum RaftFrame {
    static let kind: UInt8 = 1
}

func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
