import ClusterStore
import FoundationEssentials
import ShoalAPI
import Transport

/// The frames nodes exchange besides Raft's, and their JSON bodies.
enum ClusterProtocol {
    /// One-way, member to member.
    static let raft: UInt8 = 1
    /// One-way, every node to the managers, once per heartbeat period and
    /// whenever a task's status changes; the body lists task statuses (JSON
    /// `[TaskReport]`, or empty).
    static let heartbeat: UInt8 = 2
    /// One-way, leader to a worker it promoted: its Raft id, manager certificate and the managers.
    static let promotion: UInt8 = 3
    /// One-way, leader to workers: the current managers and how often to heartbeat to them.
    static let managers: UInt8 = 4
    /// One-way, leader to a node: everything it must act on (`Assignments`).
    static let assignments: UInt8 = 5
    /// One-way, member to member: a piece of a Raft message too large for one frame (see `RaftWire`).
    static let raftChunk: UInt8 = 6
    /// Requests (answered on the same connection), served to anyone.
    /// The root CA's answer is its certificate, DER: the exact bytes a joiner pins.
    static let rootCA: UInt8 = 128
    static let join: UInt8 = 129
    /// A manager that is not the leader hands a write of the local API to the leader.
    static let forwardedCall: UInt8 = 130
    /// A manager asks a node for task output (`LogsRequest` → `LogsAnswer`).
    static let logs: UInt8 = 131
    /// A node asks for a new certificate before its current one expires, over
    /// mutual TLS with that certificate (empty body → `RenewAnswer`).
    static let renewCertificate: UInt8 = 132

    struct Assignments: Codable, Sendable {
        var tasks: [TaskObject]
        var retained: Set<String>
    }

    struct LogsRequest: Codable, Sendable {
        /// Task id → the byte offset to read from.
        var offsets: [String: Int]
        var tail: Int?
    }

    struct LogsAnswer: Codable, Sendable {
        var lines: [String: [String]]
        var offsets: [String: Int]
        /// Tasks with more output than this answer holds.
        var more: Set<String>?

        mutating func record(_ taskID: String, _ output: TaskOutput) {
            lines[taskID] = output.lines
            offsets[taskID] = output.next
            if output.more { more = (more ?? []).union([taskID]) }
        }
    }

    struct JoinRequest: Codable, Sendable {
        var secret: String
        var hostname: String
        var advertiseAddress: String
        var publicKeyPEM: String
    }

    struct ManagerInfo: Codable, Equatable, Sendable {
        var nodeID: String
        var raftID: UInt64
        var address: String
    }

    struct Session: Codable, Sendable {
        var managers: [ManagerInfo]
        var heartbeatPeriodSeconds: Double
    }

    struct Promotion: Codable, Sendable {
        var raftID: UInt64
        var certificatePEM: String
        var managers: [ManagerInfo]
    }

    enum JoinAnswer: Codable, Sendable {
        case joined(nodeID: String, role: String, certificatePEM: String, managers: [ManagerInfo])
        /// Ask the leader instead.
        case redirect(address: String)
        case refused(String)
    }

    enum RenewAnswer: Codable, Equatable, Sendable {
        /// For the key the store has on record, with the role the store says.
        case renewed(certificatePEM: String)
        /// Ask the leader instead.
        case redirect(address: String)
        case refused(String)
    }

    struct Call: Codable, Sendable {
        var method: String
        var path: String
        var query: [String: String]
        var body: [UInt8]
    }

    struct CallAnswer: Codable, Sendable {
        var status: Int
        var body: [UInt8]
    }

    static func frame(_ kind: UInt8, _ body: some Encodable) -> Frame {
        Frame(kind: kind, payload: (try? Array(JSONEncoder().encode(body))) ?? [])
    }

    static func decode<Body: Decodable>(_ type: Body.Type, from frame: Frame) -> Body? {
        try? JSONDecoder().decode(type, from: Data(frame.payload))
    }
}
