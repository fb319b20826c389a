import ClusterWire
import ClusterStore

/// Finds the node a user means: a full id, an unambiguous id prefix, or a
/// hostname — as `docker node` commands take them.
enum NodeReference {
    static func resolve(_ reference: String, in nodes: [NodeObject]) throws(SwarmError) -> NodeObject {
        if let exact = nodes.first(where: { $0.meta.id == reference }) { return exact }
        let byName = nodes.filter { $0.hostname == reference }
        if byName.count == 1, let node = byName.first { return node }
        let byPrefix = reference.isEmpty ? [] : nodes.filter { $0.meta.id.hasPrefix(reference) }
        if byPrefix.count == 1, let node = byPrefix.first { return node }
        let matches = max(byName.count, byPrefix.count)
        if matches > 1 { throw SwarmError("node \(reference) is ambiguous (\(matches) matches found)") }
        throw SwarmError("node \(reference) not found", kind: .notFound)
    }
}
