import ClusterStore
import ClusterWire
import FoundationEssentials

/// The agent as every node's session (worker or manager) sees it: the
/// leader's assignments go to the executor in the order they came, task
/// statuses go into heartbeats, and managers' requests for output are read
/// from the executor's logs.
public final class AgentLink: NodeAgent {
    public let runner: TaskRunner
    private let assignments: AsyncStream<ClusterProtocol.Assignments>.Continuation
    private let consumer: Task<Void, Never>

    public init(runner: TaskRunner) {
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
    public func deliver(_ next: ClusterProtocol.Assignments) { assignments.yield(next) }

    public func reports() async -> [TaskReport] { await runner.reports() }

    public func logs(_ request: ClusterProtocol.LogsRequest) async -> ClusterProtocol.LogsAnswer {
        var answer = ClusterProtocol.LogsAnswer(lines: [:], offsets: [:])
        for (taskID, offset) in request.offsets {
            answer.record(taskID, await runner.logs(of: taskID, from: offset, tail: request.tail))
        }
        return answer
    }
}
