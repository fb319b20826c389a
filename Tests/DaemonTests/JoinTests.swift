import Agent
import ClusterCA
import ClusterWire
import ClusterStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ShoalAPI
import Testing
import Transport
@testable import Daemon

/// Joining over real TLS on loopback: against a fake manager that tries to
/// slip in a CA of its own, and against a real single-manager swarm.
@Suite struct JoinTests {
    private static let group = MultiThreadedEventLoopGroup.singleton
    private static let logger = Logger(label: "join-test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func swarm(in directory: String) -> Swarm {
        Swarm(dataDirectory: directory, hostname: "joiner", group: Self.group, runner: IdleRunner(), logger: Self.logger)
    }

    /// What a manager without the swarm's CA key can serve as the root CA: the
    /// real CA with a second certificate of its own behind it.
    enum HiddenCertificate: CaseIterable, Sendable {
        /// A BEGIN line with a trailing space: one PEM parser stops there, another does not.
        case trailingSpacePEM
        case concatenatedPEM
        case concatenatedDER

        func answer(real: CertificateAuthority, hidden: CertificateAuthority) throws -> [UInt8] {
            let begin = "-----BEGIN CERTIFICATE-----"
            switch self {
            case .trailingSpacePEM:
                return Array((try real.certificatePEM + "\n" + begin + " " + hidden.certificatePEM.dropFirst(begin.count)).utf8)
            case .concatenatedPEM: return Array((try real.certificatePEM + hidden.certificatePEM).utf8)
            case .concatenatedDER: return try real.certificateDER + hidden.certificateDER
            }
        }
    }

    @Test(arguments: HiddenCertificate.allCases)
    func aManagerServingAHiddenSecondCertificateNeverReceivesTheSecret(_ trick: HiddenCertificate) async throws {
        let real = try CertificateAuthority(commonName: "swarm-ca")
        let hidden = try CertificateAuthority(commonName: "hidden-ca")  // a name of its own: TLS finds issuers by name
        let token = JoinToken.generate(caCertificateDER: try real.certificateDER)
        // The fake's own certificate is issued by the hidden CA: a joiner that trusted it would send its join request.
        let issued = try hidden.issue(nodeID: "fake-manager", role: NodeRole.manager.rawValue, validitySeconds: 86_400)
        let credentials = TransportCredentials(certificateChainPEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM,
                                               trustedRootsPEM: try hidden.certificatePEM)
        let caAnswer = try trick.answer(real: real, hidden: hidden)
        let joinRequests = NIOLockedValueBox(0)
        let fake = try Transport(
            credentials: credentials, group: Self.group, logger: Self.logger, admits: { _ in false }, receive: { _, _ in },
            serve: { _, frame in
                switch frame.kind {
                case ClusterProtocol.rootCA: return Frame(kind: frame.kind, payload: caAnswer)
                case ClusterProtocol.join:
                    joinRequests.withLockedValue { $0 += 1 }
                    return ClusterProtocol.frame(ClusterProtocol.join, ClusterProtocol.JoinAnswer.refused("fake"))
                default: return nil
                }
            })
        let port = try await fake.listen(host: "127.0.0.1", port: 0)
        let directory = "/tmp/shoal-join-test-\(Base36.objectID())"
        defer { FileSystem.removeTree(directory) }

        await #expect(throws: SwarmError.self) {
            _ = try await swarm(in: directory).join(token: token.description, remoteAddress: "127.0.0.1:\(port)",
                                                    advertiseAddress: "127.0.0.1:1", listenAddress: "127.0.0.1:0")
        }
        #expect(joinRequests.withLockedValue { $0 } == 0)
        #expect(try NodeIdentity.load(from: directory) == nil)
        await fake.shutdown()
    }

    /// A port nothing listens on right now, below the kernel's ephemeral range
    /// (32768 and up): a port the kernel handed out could go to another test's
    /// outgoing connection before the daemon binds it.
    private func freePort() async throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_768)
            guard let channel = try? await ServerBootstrap(group: Self.group).bind(host: "127.0.0.1", port: port).get() else { continue }
            try await channel.close()
            return port
        }
        throw ShoalError("no free port found below 32768")
    }

    @Test func aJoinThatCannotBeServedIsRefusedWithoutLibraryDetail() async throws {
        let directory = "/tmp/shoal-join-test-\(Base36.objectID())"
        try FileSystem.makeDirectory(directory, mode: 0o700)
        defer { FileSystem.removeTree(directory) }
        let port = try await freePort()
        let manager = swarm(in: directory)
        let initialized = try await manager.initialize(advertiseAddress: "127.0.0.1:\(port)", listenAddress: "127.0.0.1:\(port)")
        let secret = try JoinToken(parsing: initialized.workerToken).secret

        func reason(_ frame: Frame) async throws -> String {
            let answer = try await Request.send(frame, host: "127.0.0.1", port: port, trustedRootDER: nil, group: Self.group)
            let decoded = try #require(ClusterProtocol.decode(ClusterProtocol.JoinAnswer.self, from: answer))
            guard case .refused(let reason) = decoded else {
                Issue.record("not refused: \(decoded)")
                return ""
            }
            return reason
        }
        var reasons: [String] = []
        for key in ["not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", NodeKey().privateKeyPEM] {
            let request = ClusterProtocol.JoinRequest(secret: secret, hostname: "bad", advertiseAddress: "127.0.0.1:2", publicKeyPEM: key)
            reasons.append(try await reason(ClusterProtocol.frame(ClusterProtocol.join, request)))
        }
        reasons.append(try await reason(Frame(kind: ClusterProtocol.join, payload: Array("{\"secret\":1}".utf8))))
        // Fields a peer would put in the store: a good key, but out-of-range text beside it.
        let key = NodeKey().publicKeyPEM
        for (hostname, address, publicKey) in [(String(repeating: "h", count: 10_000), "127.0.0.1:2", key), ("with space", "127.0.0.1:2", key),
                                                ("bad", "no-port", key), ("bad", "127.0.0.1:2", key + String(repeating: "A", count: 5_000))] {
            let request = ClusterProtocol.JoinRequest(secret: secret, hostname: hostname, advertiseAddress: address, publicKeyPEM: publicKey)
            reasons.append(try await reason(ClusterProtocol.frame(ClusterProtocol.join, request)))
        }
        #expect(reasons.count == 8)
        for reason in reasons {
            #expect(reason.hasPrefix("certificate request refused") || reason.hasPrefix("invalid join request"), "\(reason)")
            for libraryDetail in ["Error", ".swift", "ASN1", "PEM", "X509", "Crypto"] { #expect(!reason.contains(libraryDetail), "\(reason)") }
        }
        #expect(try await manager.control().nodes().count == 1)  // nothing was written
        try await manager.leave(force: true)
    }

    /// `init` and `join` fired at once on one daemon: exactly one takes the
    /// node into a swarm; the other is refused, in one line, before it starts anything.
    @Test func anInitRacingAJoinLetsExactlyOneWin() async throws {
        let managerDirectory = "/tmp/shoal-join-test-\(Base36.objectID())"
        let nodeDirectory = "/tmp/shoal-join-test-\(Base36.objectID())"
        defer { FileSystem.removeTree(managerDirectory); FileSystem.removeTree(nodeDirectory) }
        let managerPort = try await freePort()
        let manager = swarm(in: managerDirectory)
        let token = try await manager.initialize(advertiseAddress: "127.0.0.1:\(managerPort)",
                                                 listenAddress: "127.0.0.1:\(managerPort)").workerToken
        // Each on a port of its own: a refusal must come from the role check, not from a busy port.
        let (initPort, joinPort) = (try await freePort(), try await freePort())
        let node = swarm(in: nodeDirectory)
        func refusal(_ change: @Sendable () async throws -> Void) async -> String? {
            do {
                try await change()
                return nil
            } catch {
                return "\(error)"
            }
        }
        async let initialized = refusal {
            _ = try await node.initialize(advertiseAddress: "127.0.0.1:\(initPort)", listenAddress: "127.0.0.1:\(initPort)")
        }
        async let joined = refusal {
            _ = try await node.join(token: token, remoteAddress: "127.0.0.1:\(managerPort)",
                                    advertiseAddress: "127.0.0.1:\(joinPort)", listenAddress: "127.0.0.1:\(joinPort)")
        }
        let refusals = await [initialized, joined].compactMap { $0 }
        #expect(refusals == [SwarmError.alreadyInSwarm.description])
        #expect(await node.nodeID != nil)
        try await node.leave(force: true)
        try await manager.leave(force: true)
    }
}
