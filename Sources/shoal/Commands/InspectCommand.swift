import ArgumentParser
import ShoalAPI

/// `docker inspect TASK`: a task as the managers hold it, its networks and addresses with it.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Display detailed information on one or more tasks.")
    @Argument(help: "Task ids (or unique prefixes), full names, or SERVICE.SLOT.") var tasks: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        try printInspected(tasks) { task -> TaskDetail in
            try TaskReference.validate(task)
            return try client.get("/tasks/inspect", query: ["task": task])
        }
    }
}
