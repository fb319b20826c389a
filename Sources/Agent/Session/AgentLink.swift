import Addressing
import ClusterStore
import ClusterWire
import FoundationEssentials

/// The agent as every node's session (worker or manager) sees it: the
/// leader's assignments go to the executor in the order they came, task
/// statuses go into heartbeats, and managers' requests for output are read
/// from the executor's logs.
public final class AgentLink: NodeAgent {
    public let runner: TaskRunner
    private let occupied: @Sendable () -> [IPv4Network]
    private let assignments: AsyncStream<ClusterProtocol.Assignments>.Continuation
    private let consumer: Task<Void, Never>

    /// `occupied` reads the networks this node uses itself.
    public init(runner: TaskRunner, occupied: @escaping @Sendable () -> [IPv4Network]) {
        self.runner = runner
        self.occupied = occupied
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterProtocol.Assignments.self,
                                                             bufferingPolicy: .bufferingNewest(1))
        assignments = continuation
        consumer = Task {
            for await next in stream { await runner.apply(next) }
        }
    }

    deinit {
        assignments.finish()
        consumer.cancel()
    }

    /// Only the newest list matters: each is complete.
    public func deliver(_ next: ClusterProtocol.Assignments) { assignments.yield(next) }

    public func reports() async -> [TaskReport] { await runner.reports() }

    public func occupiedNetworks() async -> [IPv4Network] {
        Array(occupied().prefix(ClusterProtocol.Heartbeat.maximumOccupied))
    }

    public func logs(_ request: ClusterProtocol.LogsRequest) async -> ClusterProtocol.LogsAnswer {
        var answer = ClusterProtocol.LogsAnswer(lines: [:], offsets: [:])
        for (taskID, offset) in request.offsets {
            answer.record(taskID, await runner.logs(of: taskID, from: offset, tail: request.tail))
        }
        return answer
    }
}
