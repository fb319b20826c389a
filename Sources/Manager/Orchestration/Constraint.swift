import ClusterWire
import ClusterStore

/// A placement constraint, `node.<key>==value` or `!=`, as docker writes them.
struct Constraint: Equatable, Sendable {
    enum Key: Equatable, Sendable {
        case role, hostname, id
        case label(String)
    }

    let key: Key
    let equals: Bool
    let value: String

    init(parsing text: String) throws(SwarmError) {
        let (op, equals) = text.contains("!=") ? ("!=", false) : ("==", true)
        let parts = text.split(separator: op, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw SwarmError("invalid constraint \"\(text)\": expected one operator, == or !=")
        }
        let name = parts[0].trimmed
        let value = parts[1].trimmed
        guard !value.isEmpty else { throw SwarmError("invalid constraint \"\(text)\": the value after \(op) is empty") }
        switch name {
        case "node.role":
            guard NodeRole(rawValue: value) != nil else {
                throw SwarmError("invalid constraint \"\(text)\": node.role is manager or worker")
            }
            key = .role
        case "node.hostname": key = .hostname
        case "node.id": key = .id
        default:
            guard name.hasPrefix("node.labels."), name.count > "node.labels.".count else {
                throw SwarmError("invalid constraint \"\(text)\": use node.role, node.hostname, node.id or node.labels.KEY")
            }
            key = .label(String(name.dropFirst("node.labels.".count)))
        }
        self.equals = equals
        self.value = value
    }

    func matches(_ node: NodeObject) -> Bool {
        let actual: String? = switch key {
        case .role: node.role.rawValue
        case .hostname: node.hostname
        case .id: node.meta.id
        case .label(let label): node.labels[label]
        }
        return (actual == value) == equals
    }

    /// Whether `node` satisfies every constraint in `texts` (ones that no longer parse match nothing).
    static func allMatch(_ texts: [String], _ node: NodeObject) -> Bool {
        texts.allSatisfy { (try? Constraint(parsing: $0))?.matches(node) ?? false }
    }
}

extension Substring {
    var trimmed: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
