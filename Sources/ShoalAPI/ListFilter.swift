/// docker's `-f/--filter KEY=VALUE` of `ls` and `ps`: values of one key
/// combine with OR, different keys with AND.
public struct ListFilter: Equatable, Sendable {
    private var values: [String: [String]] = [:]

    public static let nodeKeys = ["id", "label", "node.label", "membership", "name", "role"]
    public static let serviceKeys = ["id", "label", "mode", "name"]
    public static let taskKeys = ["id", "name", "node", "desired-state"]
    public static let networkKeys = ["driver", "id", "label", "name", "scope"]

    /// `options` as typed; a key not in `keys` is refused in docker's words.
    public init(_ options: [String], keys: [String]) throws {
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ShoalError("bad format of filter (expected name=value)", hint: "use --filter KEY=VALUE, e.g. name=web")
            }
            let key = String(parts[0]).lowercased()
            guard keys.contains(key) else {
                throw ShoalError("invalid filter '\(parts[0])'", hint: "use one of \(keys.joined(separator: ", "))")
            }
            values[key, default: []].append(String(parts[1]))
        }
    }

    /// Whether a filter names `key`.
    public func has(_ key: String) -> Bool { values[key] != nil }

    /// True when no filter names `key`, or one of its values matches.
    public func accepts(_ key: String, _ matches: (String) -> Bool) -> Bool {
        guard let wanted = values[key] else { return true }
        return wanted.contains(where: matches)
    }

    /// `label=KEY` (the label is set) or `label=KEY=VALUE` (set to VALUE).
    static func labelMatches(_ filter: String, _ labels: [String: String]) -> Bool {
        let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let value = labels[String(parts[0])] else { return false }
        return parts.count == 1 || value == parts[1]
    }

    /// node ls: id prefix, hostname, role, membership (every node shoal lists is accepted); labels are the node's own.
    public func accepts(_ node: NodeSummary, labels: [String: String]) -> Bool {
        accepts("id") { node.id.hasPrefix($0) } && accepts("name") { node.hostname == $0 } && accepts("role") { node.role == $0 }
            && accepts("membership") { $0 == "accepted" } && accepts("node.label") { Self.labelMatches($0, labels) }
            // docker's `label` is the engine's labels: a shoal node has none.
            && accepts("label") { Self.labelMatches($0, [:]) }
    }

    /// service ls: id and name prefixes, mode, labels (the daemon's: a one-off's `OneOff.nodeLabel`).
    public func accepts(_ service: ServiceDetail) -> Bool {
        accepts("id") { service.id.hasPrefix($0) } && accepts("name") { service.spec.name.hasPrefix($0) }
            && accepts("mode") { service.mode == $0 } && accepts("label") { Self.labelMatches($0, service.labels ?? [:]) }
    }

    /// service ps and node ps: id and name prefixes (of `web.1.<task id>`), the node by id, id prefix
    /// or hostname, the desired state.
    public func accepts(_ task: TaskSummary) -> Bool {
        accepts("id") { task.id.hasPrefix($0) } && accepts("name") { task.name.hasPrefix($0) }
            && accepts("node") { wanted in task.node == wanted || (task.nodeID.map { !wanted.isEmpty && $0.hasPrefix(wanted) } ?? false) }
            && accepts("desired-state") { task.desiredState == $0.lowercased() }
    }

    /// network ls: driver, id prefix, labels, a part of the name, scope.
    public func accepts(_ network: NetworkDetail) -> Bool {
        accepts("driver") { network.driver == $0 } && accepts("id") { network.id.hasPrefix($0) }
            && accepts("label") { Self.labelMatches($0, network.labels) } && accepts("name") { network.name.contains($0) }
            && accepts("scope") { network.scope == $0 }
    }
}
