/// Finds the service or network a user means: its id or name, or an
/// unambiguous id prefix — as `docker service` and `docker network` take them.
public enum NamedReference {
    public static func resolve<Object>(_ reference: String, in objects: [Object], kind: String, id: (Object) -> String,
                                       name: (Object) -> String) throws(SwarmError) -> Object {
        if let exact = objects.first(where: { id($0) == reference || name($0) == reference }) { return exact }
        let byPrefix = reference.isEmpty ? [] : objects.filter { id($0).hasPrefix(reference) }
        if byPrefix.count == 1, let object = byPrefix.first { return object }
        if byPrefix.count > 1 { throw SwarmError("\(kind) \(reference) is ambiguous (\(byPrefix.count) matches found)") }
        throw SwarmError("no such \(kind): \(reference)", kind: .notFound)
    }
}
