import ClusterStore
import ShoalAPI

/// The dispatcher's side of task status: what agents report is written to
/// the tasks they run, never moving a task back to an earlier state; a
/// health is kept bounded, and only for a task with a health check.
enum TaskIntake {
    static func apply(_ reports: [String: (nodeID: String, report: TaskReport)], to plan: inout TaskPlan) {
        for (taskID, (nodeID, report)) in reports {
            guard var task = plan.tasks[taskID], task.nodeID == nodeID, report.status.state >= task.status.state else { continue }
            var status = report.status
            // Health only for a task with a check, and within what docker keeps.
            status.health = task.spec.healthCheck == nil ? nil : status.health?.bounded
            guard status != task.status else { continue }
            task.status = status
            plan.update(task)
        }
    }
}
