import Addressing
import ClusterWire
import Transport

/// How a write made on a follower reaches Raft: the daemon hands the whole
/// local-API call to the leader, over mutual TLS as this manager; the leader
/// runs it as its own (`FrameRouter` checks the sender is a manager) and the
/// answer comes back as it is.
extension ManagerRuntime {
    /// Hands `call` to the leader and returns its answer; nil when this node
    /// leads (or no leader is known) and should run the call itself.
    public func forwardToLeader(_ call: ClusterProtocol.Call) async throws -> ClusterProtocol.CallAnswer? {
        let status = host.currentStatus
        guard !status.isLeader, status.leader != 0, let address = leaderAddress() else { return nil }
        let leader = try HostPort(peer: address)
        let frame: Frame
        do {
            frame = try await Request.send(ClusterProtocol.frame(ClusterProtocol.forwardedCall, call), host: leader.host, port: leader.port,
                                           trustedRootDER: nil, credentials: identity.credentials, group: group,
                                           timeout: .seconds(60))
        } catch {
            throw SwarmError("cannot reach the leader at \(address) (\(error)): retry in a moment", kind: .unavailable)
        }
        guard let answer = ClusterProtocol.decode(ClusterProtocol.CallAnswer.self, from: frame) else {
            throw SwarmError("the leader sent an answer this node cannot read", kind: .badPeerAnswer)
        }
        return answer
    }
}
