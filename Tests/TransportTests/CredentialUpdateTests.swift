import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Testing
@testable import Transport

/// A renewed certificate: the running transport presents it from then on.
@Suite struct CredentialUpdateTests {
    @Test func aTransportPresentsItsNewCertificateOnceUpdated() async throws {
        let pki = try TestPKI()
        let logger = Logger(label: "transport-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let group = MultiThreadedEventLoopGroup.singleton
        let received = NIOLockedValueBox<[PeerIdentity]>([])
        let b = try Transport(credentials: pki.credentials(nodeID: "node-b"), group: group, logger: logger,
                              admits: { _ in true }, receive: { peer, _ in received.withLockedValue { $0.append(peer) } })
        let port = try await b.listen(host: "127.0.0.1", port: 0)
        let a = try Transport(credentials: pki.credentials(nodeID: "node-a", role: "manager"), group: group, logger: logger,
                              admits: { _ in true }, receive: { _, _ in })

        /// Sends until `b` hears `node-a` as `role` (the first frames after a change may be lost).
        func delivered(as role: String) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(60)  // CPU-bound tests may hold this task a while
            while ContinuousClock.now < deadline {
                a.setPeer("node-b", host: "127.0.0.1", port: port)
                a.send(Frame(kind: 7, payload: []), to: "node-b")
                if received.withLockedValue({ $0.last?.role == role }) { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
        #expect(try await delivered(as: "manager"))
        // Demoted: the renewed certificate says worker, and the link already open must not keep the old one.
        try a.updateCredentials(pki.credentials(nodeID: "node-a", role: "worker"))
        #expect(try await delivered(as: "worker"))
        await a.shutdown()
        await b.shutdown()
    }
}
