import Addressing
import ClusterCA
import ClusterStore
import ClusterWire
import ShoalAPI

/// How a node joins, on the managers' side: the leader checks the join
/// secret against the store's, then writes the node (always a worker at
/// first) and issues a certificate for the key the joiner made; a node
/// joining with the manager token is promoted next (see `RoleChanges`).
/// A follower points the joiner to the leader. The joiner's side is
/// `Joiner`, in Agent.
enum JoinAdmission {
    static func answer(_ request: ClusterProtocol.JoinRequest, _ runtime: ManagerRuntime) async -> ClusterProtocol.JoinAnswer {
        let status = runtime.host.currentStatus
        let snapshot = runtime.store.snapshot
        guard status.isLeader else {
            if let leader = snapshot.nodes.first(where: { $0.raftID == status.leader && status.leader != 0 }) {
                return .redirect(address: leader.advertiseAddress)
            }
            return .refused("the swarm has no leader right now: retry in a moment")
        }
        guard let cluster = snapshot.cluster else { return .refused("the swarm is still starting: retry in a moment") }
        // A node joining with the manager token starts as a worker and is then promoted:
        // it catches up as a Raft learner before it votes.
        let asManager: Bool
        if JoinToken(caDigest: "", secret: cluster.workerJoinSecret).hasSecret(request.secret) {
            asManager = false
        } else if JoinToken(caDigest: "", secret: cluster.managerJoinSecret).hasSecret(request.secret) {
            asManager = true
        } else {
            return .refused("A valid join token is necessary to join this cluster")
        }
        // What goes into the store from a peer: a hostname, an address this manager can dial, a key of sane size.
        guard Limits.isPlainToken(request.hostname, maximumBytes: 253),
              Limits.isPlainToken(request.advertiseAddress, maximumBytes: 64), HostPort(request.advertiseAddress) != nil,
              request.publicKeyPEM.utf8.count <= 4096 else {
            return .refused("invalid join request: hostname, advertise address or key out of range")
        }
        let role = NodeRole.worker
        do {
            let nodeID = Base36.objectID()
            let certificate = try cluster.issueNodeCertificate(nodeID: nodeID, role: role, publicKeyPEM: request.publicKeyPEM)
            let node = NodeObject(meta: ObjectMeta(id: nodeID), hostname: request.hostname,
                                  advertiseAddress: request.advertiseAddress, role: role, state: .ready,
                                  publicKeyPEM: request.publicKeyPEM, engineVersion: Defaults.version,
                                  resources: request.resources.flatMap { $0.isValid ? $0 : nil })
            runtime.dispatcher.admitted(nodeID)
            _ = try await runtime.propose([.create(.node(node))])
            runtime.logger.info("node joined", metadata: ["node_id": "\(nodeID)", "hostname": "\(request.hostname)",
                                                  "as_manager": "\(asManager)"])
            if asManager {
                Task {
                    do { try await runtime.promote(nodeID) } catch { runtime.logger.error("promoting \(request.hostname) failed: \(error)") }
                }
            }
            return .joined(nodeID: nodeID, role: (asManager ? NodeRole.manager : role).rawValue, certificatePEM: certificate,
                           managers: runtime.managers())
        } catch let error as SwarmError {
            return .refused(error.description)
        } catch {
            // A peer learns no library detail; the log here keeps it.
            runtime.logger.warning("refused a join from \(request.hostname): \(error)")
            return .refused("certificate request refused: the manager's log says why")
        }
    }
}
