import ClusterStore

/// The dispatcher's side of task status: what agents report is written to
/// the tasks they run, never moving a task back to an earlier state.
enum TaskIntake {
    static func apply(_ reports: [String: (nodeID: String, report: TaskReport)], to plan: inout TaskPlan) {
        for (taskID, (nodeID, report)) in reports {
            guard var task = plan.tasks[taskID], task.nodeID == nodeID,
                  report.status.state >= task.status.state, report.status != task.status else { continue }
            task.status = report.status
            plan.update(task)
        }
    }
}
