import ClusterStore
import FoundationEssentials
import Transport

/// What every node's session (worker or manager) does for its agent: hands
/// it the leader's assignments in the order they came, puts its task
/// statuses in heartbeats, and answers managers' requests for task output.
final class AgentLink: Sendable {
    let runner: TaskRunner
    private let assignments: AsyncStream<ClusterProtocol.Assignments>.Continuation
    private let consumer: Task<Void, Never>

    init(runner: TaskRunner) {
        self.runner = runner
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterProtocol.Assignments.self,
                                                             bufferingPolicy: .bufferingNewest(1))
        assignments = continuation
        consumer = Task {
            for await next in stream { await runner.apply(next.tasks, retained: next.retained) }
        }
    }

    deinit {
        assignments.finish()
        consumer.cancel()
    }

    /// Only the newest list matters: each is complete.
    func deliver(_ next: ClusterProtocol.Assignments) { assignments.yield(next) }

    func deliver(_ frame: Frame) {
        if let next = ClusterProtocol.decode(ClusterProtocol.Assignments.self, from: frame) { deliver(next) }
    }

    static func heartbeat(_ reports: [TaskReport]) -> Frame {
        reports.isEmpty ? Frame(kind: ClusterProtocol.heartbeat, payload: [])
            : ClusterProtocol.frame(ClusterProtocol.heartbeat, reports)
    }

    func heartbeat() async -> Frame { Self.heartbeat(await runner.reports()) }

    static func reports(in frame: Frame) -> [TaskReport] {
        frame.payload.isEmpty ? [] : ClusterProtocol.decode([TaskReport].self, from: frame) ?? []
    }

    /// A manager's request for task output; anyone else gets nothing.
    func answerLogs(_ frame: Frame, from peer: PeerIdentity?) async -> Frame? {
        guard peer?.role == NodeRole.manager.rawValue,
              let request = ClusterProtocol.decode(ClusterProtocol.LogsRequest.self, from: frame) else { return nil }
        var answer = ClusterProtocol.LogsAnswer(lines: [:], offsets: [:])
        for (taskID, offset) in request.offsets {
            answer.record(taskID, await runner.logs(of: taskID, from: offset, tail: request.tail))
        }
        return ClusterProtocol.frame(ClusterProtocol.logs, answer)
    }
}
