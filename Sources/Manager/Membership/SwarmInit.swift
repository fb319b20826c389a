import Addressing
import ClusterCA
import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI

/// `shoal init`: a new swarm whose CA, join secrets and first manager are made here.
extension ManagerRuntime {
    /// Makes the swarm's CA and this node's identity, starts a runtime on
    /// them with `start` (its `bootstrap` set: the single voter of a new
    /// cluster), writes the cluster, this node and the `ingress` network once
    /// it leads, and saves the identity. `addressPools` cut at
    /// `subnetPrefixLength` are where networks take their subnets; none
    /// overlaps `occupied` (this node's addresses, routes and resolvers).
    public static func initializeSwarm(hostname: String, advertiseAddress: String, listenAddress: String,
                                       heartbeatPeriodSeconds: Double, certExpirySeconds: Double,
                                       addressPools: [IPv4Network], subnetPrefixLength: Int, occupied: [IPv4Network],
                                       dataDirectory: String, start: @Sendable (NodeIdentity) async throws -> ManagerRuntime)
        async throws -> (ManagerRuntime, SwarmInitResponse) {
        // It goes into the Raft log: a value no manager can run with would come back on every start.
        guard Limits.heartbeatPeriodSeconds.contains(heartbeatPeriodSeconds) else {
            throw SwarmError("invalid heartbeat period \(heartbeatPeriodSeconds): use \(Limits.heartbeatPeriodSeconds.lowerBound) to \(Limits.heartbeatPeriodSeconds.upperBound) seconds")
        }
        if let problem = CertificateExpiry.problem(certExpirySeconds) { throw SwarmError(problem) }
        if let problem = AddressPools.problem(addressPools, subnetPrefixLength: subnetPrefixLength) { throw SwarmError(problem) }
        guard let ingressSubnet = NetworkChoice.ingressSubnet(pools: addressPools, prefixLength: subnetPrefixLength,
                                                              avoiding: occupied) else {
            throw SwarmError("every subnet of the default address pools overlaps an address, route or resolver of this node: give another pool with --default-addr-pool")
        }
        let authority = try CertificateAuthority(commonName: "swarm-ca")
        let nodeID = Base36.objectID()
        let key = NodeKey()
        let identity = NodeIdentity(
            nodeID: nodeID, role: NodeRole.manager.rawValue, raftID: UInt64.random(in: 1...UInt64.max >> 2),
            hostname: hostname, advertiseAddress: advertiseAddress, listenAddress: listenAddress,
            caCertificatePEM: try authority.certificatePEM,
            certificatePEM: try authority.issue(nodeID: nodeID, role: NodeRole.manager.rawValue, publicKeyPEM: key.publicKeyPEM,
                                                validitySeconds: certExpirySeconds),
            privateKeyPEM: key.privateKeyPEM, managers: [])
        let caDER = try authority.certificateDER
        let workerToken = JoinToken.generate(caCertificateDER: caDER)
        let managerToken = JoinToken.generate(caCertificateDER: caDER)
        let cluster = ClusterObject(
            meta: ObjectMeta(id: Base36.objectID()), rootCACertificatePEM: try authority.certificatePEM,
            rootCAKeyPEM: try authority.privateKeyPEM, workerJoinSecret: workerToken.secret,
            managerJoinSecret: managerToken.secret, heartbeatPeriodSeconds: heartbeatPeriodSeconds,
            taskHistoryLimit: Defaults.taskHistoryLimit, nodeCertificateValiditySeconds: certExpirySeconds,
            addressPools: addressPools, subnetPrefixLength: subnetPrefixLength)
        let ingress = NetworkObject(meta: ObjectMeta(id: Base36.objectID()), name: "ingress", subnet: ingressSubnet,
                                    gateway: ingressSubnet.host(1), vni: NetworkChoice.ingressVNI, ingress: true,
                                    labels: ["com.docker.swarm.internal": "true"])
        let node = NodeObject(meta: ObjectMeta(id: nodeID), hostname: hostname, advertiseAddress: advertiseAddress,
                              role: .manager, state: .ready, raftID: identity.raftID, publicKeyPEM: key.publicKeyPEM,
                              engineVersion: Defaults.version, resources: .host)

        let runtime = try await start(identity)
        do {
            try await runtime.waitForLeadership(seconds: 10)
            _ = try await runtime.propose([.create(.cluster(cluster)), .create(.node(node)), .create(.network(ingress))])
            try identity.save(to: dataDirectory)
        } catch {
            await runtime.stop()
            FileSystem.removeTree("\(dataDirectory)/swarm")
            throw error
        }
        runtime.logger.info("swarm initialized", metadata: ["node_id": "\(nodeID)", "advertise": "\(advertiseAddress)"])
        return (runtime, SwarmInitResponse(nodeID: nodeID, workerToken: workerToken.description, managerAddress: advertiseAddress))
    }
}
