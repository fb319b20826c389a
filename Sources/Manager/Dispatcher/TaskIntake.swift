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

    /// What `nodeID`'s agent must act on: tasks placed there that should run
    /// or have not yet stopped.
    static func assignments(for nodeID: String, in store: Store) -> [TaskObject] {
        store.tasks.filter { task in
            task.nodeID == nodeID && task.status.state >= .assigned
                && (task.desiredState <= .running || !task.status.state.isTerminal)
        }.sorted { $0.meta.id < $1.meta.id }
    }
}
