import ClusterStore
import ClusterWire
import ShoalAPI

/// The executor as the session with the managers drives it: `TaskAgent`, or a stand-in in tests.
public protocol TaskRunner: Sendable {
    /// The managers' complete list of what this node must act on: its
    /// tasks, the ids of every task of it they keep (whose logs stay), and
    /// the overlay networks its tasks use with their remote endpoints.
    func apply(_ assignments: ClusterProtocol.Assignments) async
    /// The status of every task this node knows.
    func reports() async -> [TaskReport]
    func setReporter(_ reporter: @escaping @Sendable ([TaskReport]) -> Void) async
    /// Whole lines of a task's output from byte `offset` (the last `tail` of them), and where to go on from.
    func logs(of taskID: String, from offset: Int, tail: Int?) async -> TaskOutput
    /// `shoal exec`: how to enter the task `reference` names among this
    /// node's tasks. Refuses with `.notFound` when no task of this node is
    /// meant, `.conflict` when it is not running, `.invalid` when ambiguous.
    func execTarget(_ reference: String) async throws(SwarmError) -> ExecTarget
    /// `shoal dig --network`: a running task of this node on the network `reference` names.
    func execTarget(onNetwork reference: String) async throws(SwarmError) -> ExecTarget
    /// `network inspect` where no store is: a network this node's tasks use, with its tasks here.
    func networkDetail(_ reference: String) async throws(SwarmError) -> NetworkDetail
}

extension TaskAgent: TaskRunner {}
