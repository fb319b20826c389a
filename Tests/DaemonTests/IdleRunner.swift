import Agent
import ClusterStore
import ClusterWire
import ShoalAPI

/// An executor that runs nothing: for tests that start no task.
struct IdleRunner: TaskRunner {
    func apply(_ assignments: ClusterProtocol.Assignments) async {}
    func reports() async -> [TaskReport] { [] }
    func setReporter(_ reporter: @escaping @Sendable ([TaskReport]) -> Void) async {}
    func logs(of taskID: String, from offset: Int, tail: Int?) async -> TaskOutput { TaskOutput(lines: [], next: 0, more: false) }
    func execTarget(_ reference: String) async throws(SwarmError) -> ExecTarget {
        throw SwarmError("no such task on this node: \(reference)", kind: .notFound)
    }
    func execTarget(onNetwork reference: String) async throws(SwarmError) -> ExecTarget {
        throw SwarmError("no task on network \(reference) runs on this node", kind: .notFound)
    }
    func networkDetail(_ reference: String) async throws(SwarmError) -> NetworkDetail {
        throw SwarmError("no such network: \(reference)", kind: .notFound)
    }
}
