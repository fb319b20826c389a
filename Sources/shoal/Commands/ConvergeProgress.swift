#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ShoalAPI

/// Waits for a service to converge, showing docker's progress: a bar per
/// slot on a wide enough terminal, "overall progress" lines otherwise.
/// Gives up, with the reason, when a task cannot be placed or keeps failing.
struct ConvergeProgress {
    let client: APIClient
    let service: String
    var timeoutSeconds = 120.0
    /// How long every task must keep running before the service counts as converged.
    var stableSeconds = 1.0
    /// How long a task may stay unplaceable before waiting is pointless.
    var unplaceableSeconds = 3.0
    /// Failed starts of one slot, while waiting, that end the wait.
    var failuresPerSlot = 3

    func wait() throws {
        let started = Date()
        let bars = isatty(1) == 1 && Self.terminalColumns() >= 111
        var drawnLines = 0
        var lastOverall = ""
        var convergedSince: Date?
        var unplaceableSince: Date?
        while true {
            let detail: ServiceDetail = try client.post("/services/inspect", ServiceReferenceRequest(service: service))
            let tasks: [TaskSummary] = try client.get("/tasks", query: ["service": detail.id])
            let current = Self.currentTasks(tasks, detail: detail)
            let running = current.filter { $0.task?.state == "running" }.count
            let overall = "overall progress: \(running) out of \(detail.desired) tasks"
            if bars && current.count <= 20 {
                if drawnLines > 0 { print("\u{1B}[\(drawnLines)A", terminator: "") }
                let rows = [overall] + current.map { row in
                    TaskFormatting.progressRow(label: row.label, state: row.task?.state ?? "new",
                                               error: row.task?.error ?? "", bar: true)
                }
                rows.forEach { print("\u{1B}[K" + $0) }
                drawnLines = rows.count
            } else if overall != lastOverall {
                print(overall)
            }
            lastOverall = overall
            fflush(nil)

            let now = Date()
            let settled = running == detail.desired && current.count == detail.desired
                && !tasks.contains { $0.desiredState == "running" && $0.state != "running" }
            convergedSince = settled ? convergedSince ?? now : nil
            if let since = convergedSince, now.timeIntervalSince(since) >= stableSeconds {
                print("verify: Service \(detail.id) converged")
                return
            }
            let unplaceable = current.compactMap(\.task).first { $0.state == "pending" && $0.error.hasPrefix("no suitable node") }
            unplaceableSince = unplaceable == nil ? nil : unplaceableSince ?? now
            if let task = unplaceable, let since = unplaceableSince, now.timeIntervalSince(since) >= unplaceableSeconds {
                throw ShoalError("service \(detail.spec.name) cannot converge: \(task.slotName): \(task.error)",
                                 hint: "check its constraints ('shoal service inspect --pretty \(detail.spec.name)') and 'shoal node ls'")
            }
            let failures = tasks.filter { ["failed", "rejected"].contains($0.state) && $0.createdAt >= started }
            if let (slot, failed) = Dictionary(grouping: failures, by: \.slotName).first(where: { $0.value.count >= failuresPerSlot }),
               let last = failed.max(by: { $0.stateSince < $1.stateSince }) {
                throw ShoalError("service \(detail.spec.name) cannot converge: \(slot) failed \(failed.count) times, last with \(last.error)",
                                 hint: "see 'shoal service ps \(detail.spec.name)' and 'shoal service logs \(detail.spec.name)'")
            }
            if now.timeIntervalSince(started) > timeoutSeconds {
                throw ShoalError("service \(detail.spec.name) did not converge within \(Int(timeoutSeconds)) s",
                                 hint: "it goes on in the background; see 'shoal service ps \(detail.spec.name)'")
            }
            usleep(200_000)
        }
    }

    /// Each slot's (or, for a global service, each node's) task that should run now.
    static func currentTasks(_ tasks: [TaskSummary], detail: ServiceDetail) -> [(label: String, task: TaskSummary?)] {
        let wanted = tasks.filter { $0.desiredState == "running" }
        if let replicas = detail.spec.replicas {
            return (0..<replicas).map { index in
                ("\(index + 1)/\(replicas)", wanted.filter { $0.slot == index + 1 }.max { $0.createdAt < $1.createdAt })
            }
        }
        let byNode = Dictionary(grouping: wanted, by: { $0.nodeID ?? "" })
        return byNode.keys.sorted().map { node in
            (String(node.prefix(25)), byNode[node]?.max { $0.createdAt < $1.createdAt })
        }
    }

    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
        return Int(size.ws_col)
    }
}
