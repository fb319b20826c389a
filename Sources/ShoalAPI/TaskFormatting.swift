import FoundationEssentials
import GoTemplate

/// How docker words task states and durations in `service ps`, `node ps`
/// and the converge progress. Pure, so it is tested directly.
public enum TaskFormatting {
    /// docker's units.HumanDuration, lowercased as `service ps` shows it: "less than a second", "2 minutes".
    public static func humanDuration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        let minutes = Int(seconds / 60)
        let hours = Int((seconds / 3600).rounded())
        if seconds < 1 { return "less than a second" }
        if whole == 1 { return "1 second" }
        if seconds < 60 { return "\(whole) seconds" }
        if minutes == 1 { return "about a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        if hours == 1 { return "about an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(seconds / 3600 / 24 / 365)) years"
    }

    /// CURRENT STATE: "Running 2 minutes ago".
    public static func currentState(_ task: TaskSummary, now: Date) -> String {
        currentState(task.state, since: task.stateSince, now: now)
    }

    public static func currentState(_ state: String, since: Date, now: Date) -> String {
        "\(state.capitalized) \(humanDuration(now.timeIntervalSince(since))) ago"
    }

    /// COMMAND: the arguments on one line, each that holds a space, a quote or a control character (a
    /// `sh -c` script) quoted as Go's %q quotes it, so a table keeps its rows and the words their bounds.
    public static func commandLine(_ arguments: [String]) -> String {
        arguments.map { argument in
            let plain = !argument.isEmpty && !argument.unicodeScalars.contains {
                $0.properties.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f
            }
            return plain ? argument : GoQuote.quoted(argument)
        }.joined(separator: " ")
    }

    /// ERROR: quoted, cut to 30 characters with "…" unless `untruncated`.
    public static func error(_ text: String, untruncated: Bool = false) -> String {
        guard !text.isEmpty else { return "" }
        return "\"\(text.count > 30 && !untruncated ? text.prefix(29) + "…" : text)\""
    }

    /// The cells of `service ps`'s table.
    public static func rows(_ tasks: [TaskSummary], now: Date, fullIDs: Bool = false) -> [[String]] {
        taskRows(tasks, now: now, untruncated: fullIDs).map(\.cells)
    }

    /// The rows of `service ps`: per slot, its newest task, then up to the
    /// rest of its history as ` \_ ` rows, newest first. `untruncated`
    /// (`--no-trunc`) keeps ids and errors whole.
    public static func taskRows(_ tasks: [TaskSummary], now: Date, untruncated: Bool = false) -> [TaskRow] {
        let bySlot = Dictionary(grouping: tasks, by: \.slotName)
        let slots = bySlot.keys.sorted { lhs, rhs in
            let (a, b) = (bySlot[lhs]?.first, bySlot[rhs]?.first)
            return (a?.serviceName ?? "", a?.slot ?? 0, lhs) < (b?.serviceName ?? "", b?.slot ?? 0, rhs)
        }
        var rows: [TaskRow] = []
        for slot in slots {
            let history = (bySlot[slot] ?? []).sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            for (index, task) in history.enumerated() {
                rows.append(TaskRow(id: untruncated ? task.id : String(task.id.prefix(12)),
                                    name: index == 0 ? task.slotName : " \\_ \(task.slotName)",
                                    command: commandLine(task.command), node: task.node ?? "",
                                    desiredState: task.desiredState.capitalized, currentState: currentState(task, now: now),
                                    error: error(task.error, untruncated: untruncated), ports: PortConfig.summaries(task.hostPorts ?? []),
                                    health: task.health))
            }
        }
        return rows
    }

    /// `service logs` lines: `<service>.<slot>.<task>@<node>`, padded to the widest, then `    | `.
    public static func logLines(_ lines: [LogsResponse.Line], raw: Bool) -> [String] {
        let width = lines.map { $0.task.count + $0.node.count + 1 }.max() ?? 0
        return lines.map { raw ? $0.text : "\($0.task)@\($0.node)".padding(to: width) + "    | " + $0.text }
    }

    public static let psHeaders = ["ID", "NAME", "COMMAND", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS"]

    /// The states the progress bar counts through, docker's nine.
    static let progressStates = ["new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running"]

    /// A progress row: `1/3: running   [=====…>]`, the bar only when `bar`.
    public static func progressRow(label: String, state: String, error: String, bar: Bool) -> String {
        guard error.isEmpty else { return "\(label): \(error.count > 75 ? String(error.prefix(74)) + "…" : error)" }
        let padded = state.padding(to: 9)
        guard bar else { return "\(label): \(padded)" }
        let step = (progressStates.firstIndex(of: state) ?? 0) + 1
        let filled = step * 50 / progressStates.count
        return "\(label): \(padded) [" + String(repeating: "=", count: filled) + ">"
            + String(repeating: " ", count: 50 - filled) + "]"
    }
}

extension String {
    /// The first letter upper-cased, as docker shows states: "running" → "Running".
    public var capitalized: String { prefix(1).uppercased() + dropFirst() }

    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
