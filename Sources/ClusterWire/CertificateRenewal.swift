import Addressing
import ClusterCA
import ClusterStore
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ShoalAPI
import Transport
import X509

/// Keeps this node's certificate valid while it runs. At half its lifetime
/// (docker picks a random point between 50% and 80%; shoal always renews at
/// 50%, so the schedule is predictable) the node asks a manager, over mutual
/// TLS with its current certificate, for a new one for the same key; the
/// leader issues it with the role the store says. The new certificate is
/// saved, then the transport uses it: its outbound links redial with it at
/// once. A failed renewal is retried with doubling delays.
public final class CertificateRenewal: Sendable {
    private let current: NIOLockedValueBox<NodeIdentity>
    private let dataDirectory: String
    private let loop = NIOLockedValueBox<Task<Void, Never>?>(nil)

    public init(identity: NodeIdentity, dataDirectory: String) {
        current = NIOLockedValueBox(identity)
        self.dataDirectory = dataDirectory
    }

    /// This node's identity with its newest certificate.
    public var identity: NodeIdentity { current.withLockedValue { $0 } }

    /// Renews until `stop`, asking the managers `managers` names (followers redirect to the leader).
    public func start(transport: Transport, managers: @escaping @Sendable () -> [ClusterProtocol.ManagerInfo],
                      group: EventLoopGroup, logger: Logger) {
        let task = Task { await self.run(transport: transport, managers: managers, group: group, logger: logger) }
        loop.withLockedValue { $0 = task }
    }

    public func stop() async {
        let task = loop.withLockedValue { $0 }
        task?.cancel()
        await task?.value
    }

    private func run(transport: Transport, managers: @Sendable () -> [ClusterProtocol.ManagerInfo],
                     group: EventLoopGroup, logger: Logger) async {
        var failures = 0
        var retryAt: Date?
        var renewedAt = Date.distantPast
        while !Task.isCancelled {
            let identity = self.identity
            guard let validity = Self.validity(of: identity.certificatePEM) else {
                logger.error("this node's certificate cannot be read: remove the swarm folder of its data dir and join again")
                return
            }
            // Never renewed back to back, even when a leader whose clock lags issues certificates already half used.
            let earliest = renewedAt.addingTimeInterval(Self.retryDelay(failures: .max, validFrom: validity.from,
                                                                        validUntil: validity.until))
            let due = max(retryAt ?? Self.renewalDate(validFrom: validity.from, validUntil: validity.until), earliest)
            let wait = due.timeIntervalSinceNow
            if wait > 0 {
                // Wake at least hourly: a clock that jumped is noticed.
                try? await Task.sleep(for: .milliseconds(Int64(min(wait, 3600) * 1000)))
                continue
            }
            do {
                let certificatePEM = try await Self.requestCertificate(identity: identity, managers: managers(), group: group)
                try install(certificatePEM, transport: transport)
                failures = 0
                retryAt = nil
                renewedAt = Date()
                let until = Self.validity(of: certificatePEM)?.until
                logger.info("renewed this node's certificate", metadata: ["expires": "\(until.map { "\($0)" } ?? "?")"])
            } catch {
                failures += 1
                let delay = Self.retryDelay(failures: failures, validFrom: validity.from, validUntil: validity.until)
                retryAt = Date().addingTimeInterval(delay)
                if Date() >= validity.until {
                    logger.error("this node's certificate expired at \(validity.until) and the managers no longer accept it: run 'shoal leave' on this node, then join the swarm again with a token")
                } else {
                    logger.warning("cannot renew this node's certificate (\(error)): retrying in \(Int(delay.rounded(.up))) s")
                }
            }
        }
    }

    /// Checks the certificate is this node's (its id, its key), then saves it
    /// and hands it to the transport.
    private func install(_ certificatePEM: String, transport: Transport) throws {
        var renewed = identity
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try Certificate.PrivateKey(pemEncoded: renewed.privateKeyPEM)
        guard certificate.publicKey == key.publicKey,
              certificate.subject.flatMap({ $0 }).contains(where: {
                  $0.type == .RDNAttributeType.commonName && String($0.value) == renewed.nodeID
              }) else {
            throw SwarmError("the manager sent a certificate for another node or key")
        }
        renewed.certificatePEM = certificatePEM
        try renewed.save(to: dataDirectory)
        try transport.updateCredentials(renewed.credentials)
        current.withLockedValue { $0 = renewed }
    }

    /// Asks each manager in turn until one (or the leader it points to) issues a certificate.
    private static func requestCertificate(identity: NodeIdentity, managers: [ClusterProtocol.ManagerInfo],
                                           group: EventLoopGroup) async throws -> String {
        var lastError: any Error = SwarmError("no manager is known to this node")
        for manager in managers {
            var address = manager.address
            for _ in 0..<2 {  // the manager asked, then the leader it names
                do {
                    let peer = try HostPort(peer: address)
                    let frame = try await Request.send(Frame(kind: ClusterProtocol.renewCertificate, payload: []),
                                                       host: peer.host, port: peer.port, trustedRootDER: nil,
                                                       credentials: identity.credentials, group: group, timeout: .seconds(10))
                    switch ClusterProtocol.decode(ClusterProtocol.RenewAnswer.self, from: frame) {
                    case .renewed(let certificatePEM): return certificatePEM
                    case .redirect(let leader): address = leader; continue
                    case .refused(let why): throw SwarmError("\(address) refused: \(why)")
                    case nil: throw SwarmError("\(address) sent an answer this node cannot read")
                    }
                } catch {
                    lastError = error
                    break
                }
            }
        }
        throw lastError
    }

    /// When to renew a certificate valid from `validFrom` until `validUntil`: at half its lifetime.
    public static func renewalDate(validFrom: Date, validUntil: Date) -> Date {
        validFrom.addingTimeInterval(validUntil.timeIntervalSince(validFrom) / 2)
    }

    /// Seconds to wait after the `failures`th failed renewal in a row:
    /// doubling from 1 s, at most 5 minutes and at most a tenth of the
    /// certificate's lifetime (a short-lived certificate is retried often enough).
    public static func retryDelay(failures: Int, validFrom: Date, validUntil: Date) -> Double {
        let doubling = Double(1 << min(max(failures - 1, 0), 20))
        return max(1, min(doubling, 300, validUntil.timeIntervalSince(validFrom) / 10))
    }

    /// The validity period of a PEM certificate.
    public static func validity(of certificatePEM: String) -> (from: Date, until: Date)? {
        guard let certificate = try? Certificate(pemEncoded: certificatePEM) else { return nil }
        return (certificate.notValidBefore, certificate.notValidAfter)
    }
}
