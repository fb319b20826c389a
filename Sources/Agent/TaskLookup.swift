import ClusterStore
import FoundationEssentials
import ShoalAPI

/// A task as `shoal exec` looks for it: in the agent's own tasks, or in a
/// manager's store (`TaskSummary`).
public protocol ReferencedTask {
    var taskID: String { get }
    /// `<service>.<slot>` (`<service>.<node id>` for a global service).
    var slotName: String { get }
    var createdAt: Date { get }
    /// The current state's name, as `service ps` shows it ("running", "complete"…).
    var stateName: String { get }
    var stateSince: Date { get }
}

extension ReferencedTask {
    public var isRunning: Bool { stateName == TaskState.running.rawValue }
    /// Its process has ended, or never will start.
    public var hasEnded: Bool { TaskState(rawValue: stateName)?.isTerminal == true }
    /// The full name, `<service>.<slot>.<id>`.
    var fullName: String { "\(slotName).\(taskID)" }
}

extension TaskObject: ReferencedTask {
    public var taskID: String { meta.id }
    public var createdAt: Date { meta.createdAt }
    public var stateName: String { status.state.rawValue }
    public var stateSince: Date { status.timestamp }
}

extension TaskSummary: ReferencedTask {
    public var taskID: String { id }
    public var stateName: String { state }
}

/// Finds the task a `shoal exec` reference means, as docker finds a
/// container: an exact id or full name first, then `<service>.<slot>` (the
/// slot's newest running task, else its newest), then a unique id prefix.
public enum TaskLookup {
    public enum Outcome<Candidate: ReferencedTask> {
        case found(Candidate)
        case ambiguous(matches: Int)
        case notFound
    }

    public static func resolve<Candidate: ReferencedTask>(_ reference: String, in tasks: [Candidate]) -> Outcome<Candidate> {
        if let exact = tasks.first(where: { $0.taskID == reference || $0.fullName == reference }) { return .found(exact) }
        let slot = tasks.filter { $0.slotName == reference }
        let newestFirst = slot.sorted { ($0.createdAt, $0.taskID) > ($1.createdAt, $1.taskID) }
        if let task = newestFirst.first(where: \.isRunning) ?? newestFirst.first { return .found(task) }
        let byPrefix = reference.isEmpty ? [] : tasks.filter { $0.taskID.hasPrefix(reference) }
        if byPrefix.count == 1, let task = byPrefix.first { return .found(task) }
        return byPrefix.isEmpty ? .notFound : .ambiguous(matches: byPrefix.count)
    }

    /// "task web.1 is not running (Complete 3 seconds ago)".
    public static func notRunning(_ task: some ReferencedTask, now: Date) -> String {
        "task \(task.slotName) is not running (\(TaskFormatting.currentState(task.stateName, since: task.stateSince, now: now)))"
    }
}
