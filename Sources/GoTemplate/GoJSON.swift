import FoundationEssentials

/// JSON as Go's `json.MarshalIndent` writes it, which is what `docker inspect` prints: members in the
/// order the value encodes them (docker's struct order, where JSONEncoder keeps no order), `"key": value`,
/// a map's keys sorted, a 4-space indent, `[]` and `{}` when empty, `<`, `>` and `&` escaped, dates in RFC 3339.
public enum GoJSON {
    public static func indented(_ value: some Encodable, indent: String = "    ") throws -> String {
        var out = ""
        try JSONNode.encoding(value, codingPath: []).write(to: &out, indent: indent, depth: 0)
        return out
    }
}

/// An encoded value, objects keeping their members' order.
final class JSONNode {
    enum Content {
        case unset
        case literal(String)  // already JSON: null, a number, true or false, a quoted string
        case array([JSONNode])
        case object([(key: String, value: JSONNode)])
    }

    var content: Content

    init(_ content: Content = .unset) { self.content = content }

    static func encoding(_ value: some Encodable, codingPath: [any CodingKey]) throws -> JSONNode {
        let node = JSONNode()
        switch value {
        case let text as String: node.content = .literal(GoQuote.json(text))
        case let flag as Bool: node.content = .literal(String(flag))
        case let date as Date: node.content = .literal(GoQuote.json(date.formatted(.iso8601)))
        case let number as Double: node.content = .literal(Self.number(number))
        case let number as Float: node.content = .literal(Self.number(Double(number)))
        case let integer as any BinaryInteger: node.content = .literal(String(describing: integer))
        case let map as [String: any Encodable]:  // as Go writes a map: its keys sorted
            node.content = .object(try map.sorted { $0.key < $1.key }.map { key, member in
                (key, try encoding(member, codingPath: codingPath))
            })
        default: try value.encode(to: TreeEncoder(node: node, codingPath: codingPath))
        }
        return node
    }

    /// Go writes no fraction for a whole number; JSON has no NaN or infinity.
    private static func number(_ value: Double) -> String {
        value.isFinite ? TemplateValue.goFloat(value) : "null"
    }

    /// Sets member `key` (again: replaced in its place). The members are taken out of `content` while they
    /// change, so the array is not copied each time.
    func set(_ key: String, _ value: JSONNode) {
        guard case .object(var members) = content else { content = .object([(key, value)]); return }
        content = .unset
        if let index = members.firstIndex(where: { $0.key == key }) { members[index].value = value } else { members.append((key, value)) }
        content = .object(members)
    }

    func append(_ value: JSONNode) {
        guard case .array(var elements) = content else { content = .array([value]); return }
        content = .unset
        elements.append(value)
        content = .array(elements)
    }

    func write(to out: inout String, indent: String, depth: Int) {
        let inner = String(repeating: indent, count: depth + 1), closing = String(repeating: indent, count: depth)
        switch content {
        case .unset: out += "{}"  // a value that encoded nothing, as an empty keyed container does
        case .literal(let text): out += text
        case .array(let elements) where elements.isEmpty: out += "[]"
        case .object(let members) where members.isEmpty: out += "{}"
        case .array(let elements):
            out += "[\n"
            for (index, element) in elements.enumerated() {
                out += inner
                element.write(to: &out, indent: indent, depth: depth + 1)
                out += index == elements.count - 1 ? "\n" : ",\n"
            }
            out += closing + "]"
        case .object(let members):
            out += "{\n"
            for (index, member) in members.enumerated() {
                out += inner + GoQuote.json(member.key) + ": "
                member.value.write(to: &out, indent: indent, depth: depth + 1)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += closing + "}"
        }
    }
}

/// Builds a `JSONNode` from `Encodable.encode(to:)`.
private struct TreeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .unset = node.content { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedContainer(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unset = node.content { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.set(key.stringValue, JSONNode(.literal("null"))) }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws { try put(value, key) }

    private func put(_ value: some Encodable, _ key: Key) throws {
        node.set(key.stringValue, try JSONNode.encoding(value, codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey> {
        let child = JSONNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = JSONNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

    private func superEncoder(named name: String) -> any Encoder {
        let child = JSONNode()
        node.set(name, child)
        return TreeEncoder(node: child, codingPath: codingPath)
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var count: Int {
        if case .array(let elements) = node.content { return elements.count }
        return 0
    }

    mutating func encodeNil() throws { node.append(JSONNode(.literal("null"))) }
    mutating func encode(_ value: some Encodable) throws {
        node.append(try JSONNode.encoding(value, codingPath: codingPath + [IndexKey(intValue: count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONNode()
        node.append(child)
        return TreeEncoder(node: child, codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = JSONNode()
        node.append(child)
        return TreeEncoder(node: child, codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = JSONNode()
        node.append(child)
        return TreeEncoder(node: child, codingPath: codingPath)
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .literal("null") }
    mutating func encode(_ value: some Encodable) throws {
        node.content = try JSONNode.encoding(value, codingPath: codingPath).content
    }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { intValue.map(String.init) ?? "" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
