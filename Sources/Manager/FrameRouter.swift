import ClusterCA
import ClusterStore
import ClusterWire
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import Raft
import RaftHost
import ShoalAPI
import Transport

/// Every frame a manager takes in, with who may send it: the one table of
/// who may call what. Mutual TLS is for nodes of the swarm (as the store
/// says now, or the managers a new manager was told about); a connection
/// without a certificate reaches only the requests open to `anyone`.
final class FrameRouter: Sendable {
    /// Who may send a frame.
    enum Sender {
        /// No certificate needed: what a joining node asks.
        case anyone
        /// A node of this swarm: it connected with a certificate of the swarm's CA
        /// (what the store says of it is the handler's to check).
        case node
        /// A member of Raft: the store (or a seed) gives the node a Raft id.
        case raftMember
        /// A manager, as the store says now (not as its certificate says).
        case manager
        /// The manager Raft says leads.
        case leader
    }

    /// One-way frames.
    static let oneWay: [UInt8: Sender] = [
        ClusterProtocol.heartbeat: .node,
        ClusterProtocol.assignments: .leader,
        ClusterProtocol.raft: .raftMember,
        ClusterProtocol.raftChunk: .raftMember,
    ]

    /// Requests, answered on the same connection.
    static let requests: [UInt8: Sender] = [
        ClusterProtocol.rootCA: .anyone,
        ClusterProtocol.join: .anyone,
        ClusterProtocol.renewCertificate: .node,
        ClusterProtocol.forwardedCall: .manager,
        ClusterProtocol.logs: .manager,
        ClusterProtocol.oneOffCall: .node,
    ]

    /// Set once the runtime exists: frames that come before are dropped.
    let runtime = LateBound<ManagerRuntime>()
    private let identity: NodeIdentity
    private let store: ReplicatedStore
    private let dispatcher: Dispatcher
    private let agent: any NodeAgent
    private let logger: Logger
    private let assembler = NIOLockedValueBox(RaftMessageAssembler(maximumMessageBytes: ManagerRuntime.maximumRaftMessageBytes,
                                                                   timeout: .seconds(30)))

    init(identity: NodeIdentity, store: ReplicatedStore, dispatcher: Dispatcher, agent: any NodeAgent, logger: Logger) {
        self.identity = identity
        self.store = store
        self.dispatcher = dispatcher
        self.agent = agent
        self.logger = logger
    }

    /// Who peers are as the store says now; until a promoted node's store has
    /// caught up, the managers it was told about.
    private var membership: ClusterMembership { ClusterMembership(store.snapshot, identity) }

    private func allows(_ sender: Sender, _ peer: PeerIdentity?) -> Bool {
        switch sender {
        case .anyone: return true
        case .node: return peer != nil
        case .raftMember: return peer.flatMap { membership.raftID(of: $0.nodeID) } != nil
        case .manager: return membership.isManager(peer)
        case .leader:
            let membership = membership
            guard let leader = runtime.value?.host.currentStatus.leader, leader != 0, let peer else { return false }
            return membership.isManager(peer) && membership.raftID(of: peer.nodeID) == leader
        }
    }

    /// Whether the transport takes a mutual-TLS connection from `peer`.
    @Sendable func admits(_ peer: PeerIdentity) -> Bool { membership.admits(peer.nodeID) }

    @Sendable func receive(_ peer: PeerIdentity, _ frame: Frame) {
        guard let sender = Self.oneWay[frame.kind], allows(sender, peer) else { return }
        switch frame.kind {
        case ClusterProtocol.heartbeat:
            dispatcher.heard(from: peer.nodeID, ClusterProtocol.heartbeat(in: frame))
        case ClusterProtocol.assignments:
            if let assignments = ClusterProtocol.decode(ClusterProtocol.Assignments.self, from: frame) { agent.deliver(assignments) }
        case ClusterProtocol.raft:
            guard let sender = membership.raftID(of: peer.nodeID) else { return }
            // Heartbeats keep coming: they also retire a chunked message whose sender went quiet.
            assembler.withLockedValue { $0.discardIfStale(now: .now) }
            receiveRaft(frame.payload, from: sender)
        case ClusterProtocol.raftChunk:
            guard let sender = membership.raftID(of: peer.nodeID), let leader = runtime.value?.host.currentStatus.leader,
                  let bytes = assembler.withLockedValue({ $0.add(frame.payload, from: sender, leader: leader, now: .now) })
            else { return }
            receiveRaft(bytes, from: sender)
        default:
            return
        }
    }

    private func receiveRaft(_ bytes: [UInt8], from sender: UInt64) {
        guard let message = try? Message(decoding: bytes), message.from == sender else { return }
        runtime.value?.host.receive(message)
    }

    @Sendable func disconnected(_ peer: PeerIdentity) {
        if let id = membership.raftID(of: peer.nodeID) { runtime.value?.host.peerDisconnected(id) }
    }

    @Sendable func serve(_ peer: PeerIdentity?, _ frame: Frame) async -> Frame? {
        guard let sender = Self.requests[frame.kind] else { return nil }
        guard allows(sender, peer) else { return Self.refusal(of: frame.kind) }
        guard let runtime = runtime.value else { return nil }
        switch frame.kind {
        case ClusterProtocol.rootCA:
            // DER: exactly the bytes the joiner pins and trusts (see `JoinToken.pinnedCA`).
            guard let der = try? CertificateAuthority.certificateDER(ownPEM: identity.caCertificatePEM) else { return nil }
            return Frame(kind: ClusterProtocol.rootCA, payload: der)
        case ClusterProtocol.join:
            guard let request = ClusterProtocol.decode(ClusterProtocol.JoinRequest.self, from: frame) else {
                return ClusterProtocol.frame(ClusterProtocol.join, ClusterProtocol.JoinAnswer.refused(
                    "invalid join request: check that this node runs shoal \(Defaults.version) as the manager does"))
            }
            return ClusterProtocol.frame(ClusterProtocol.join, await JoinAdmission.answer(request, runtime))
        case ClusterProtocol.renewCertificate:
            let status = runtime.host.currentStatus
            return ClusterProtocol.frame(ClusterProtocol.renewCertificate, CertificateIssue.answer(
                renewalFrom: peer, store: store.snapshot, isLeader: status.isLeader, leaderAddress: runtime.leaderAddress()))
        case ClusterProtocol.forwardedCall:
            guard let call = ClusterProtocol.decode(ClusterProtocol.Call.self, from: frame) else { return Self.refusal(of: frame.kind) }
            guard let handler = runtime.callHandler.value else { return nil }
            return ClusterProtocol.frame(ClusterProtocol.forwardedCall, await handler(call))
        case ClusterProtocol.oneOffCall:
            guard let peer, var call = ClusterProtocol.decode(ClusterProtocol.Call.self, from: frame),
                  call.method == "POST", ClusterProtocol.oneOffPaths.contains(call.path) else { return Self.refusal(of: frame.kind) }
            // The sender's certificate names the node: a worker makes and removes only its own one-offs.
            call.query = [OneOff.nodeQuery: peer.nodeID]
            let answer: ClusterProtocol.CallAnswer?
            do {
                answer = try await runtime.forwardToLeader(call)
            } catch {
                answer = ClusterProtocol.CallAnswer(status: 503, body: Self.errorBody("\(error)"))
            }
            if let answer { return ClusterProtocol.frame(frame.kind, answer) }
            guard let handler = runtime.callHandler.value else { return nil }
            return ClusterProtocol.frame(frame.kind, await handler(call))
        case ClusterProtocol.logs:
            guard let request = ClusterProtocol.decode(ClusterProtocol.LogsRequest.self, from: frame) else { return nil }
            return ClusterProtocol.frame(ClusterProtocol.logs, await agent.logs(request))
        default:
            return nil
        }
    }

    /// What a sender the table does not allow gets: a refusal it can show, or nothing.
    private static func refusal(of kind: UInt8) -> Frame? {
        switch kind {
        case ClusterProtocol.forwardedCall:
            // A worker's certificate, or a demoted or removed manager's, cannot forward calls.
            ClusterProtocol.frame(kind, ClusterProtocol.CallAnswer(
                status: 403, body: errorBody("only a manager of this swarm may forward calls")))
        case ClusterProtocol.oneOffCall:
            ClusterProtocol.frame(kind, ClusterProtocol.CallAnswer(
                status: 403, body: errorBody("only a node of this swarm may make or remove its one-offs")))
        case ClusterProtocol.renewCertificate:
            ClusterProtocol.frame(kind, ClusterProtocol.RenewAnswer.refused("a certificate of this swarm is needed to renew one"))
        default:
            nil
        }
    }

    /// An answer's body as the local API words an error.
    private static func errorBody(_ message: String) -> [UInt8] {
        (try? Array(JSONEncoder().encode(APIErrorBody(message: message)))) ?? []
    }

    /// The manager with Raft id `id` and where to reach it: the store's, else a seed's.
    @Sendable func manager(withRaftID id: UInt64) -> ClusterProtocol.ManagerInfo? {
        if let node = store.snapshot.nodes.first(where: { $0.raftID == id }) {
            return ClusterProtocol.ManagerInfo(nodeID: node.meta.id, raftID: id, address: node.advertiseAddress)
        }
        return identity.managers.first { $0.raftID == id }
    }

    /// `message` as frames: whole, or in chunks when it is larger than a frame.
    static func raftFrames(for message: Message, maximumPayloadBytes: Int) -> [Frame] {
        RaftWire.payloads(for: message, maximumPayloadBytes: maximumPayloadBytes,
                          messageID: .random(in: 1...UInt64.max)).map { payload in
            switch payload {
            case .whole(let bytes): Frame(kind: ClusterProtocol.raft, payload: bytes)
            case .chunk(let bytes): Frame(kind: ClusterProtocol.raftChunk, payload: bytes)
            }
        }
    }
}
