/// A JSON-like value a template reads: what `--format` templates see of a
/// row or an inspected object.
public enum TemplateValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object([String: TemplateValue])

    /// Go's truthiness: false, 0, nil and empty strings, arrays and maps are false.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        case .array(let values): !values.isEmpty
        case .object(let members): !members.isEmpty
        }
    }

    /// The name Go's errors give the value's type, as it holds decoded JSON.
    var goTypeName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .int: "int"
        case .double: "float64"
        case .string: "string"
        case .array: "[]interface {}"
        case .object: "map[string]interface {}"
        }
    }

    /// As Go's fmt prints it with %v: maps as `map[k:v]` in key order, arrays as `[a b]`.
    public var printed: String { printed(topLevel: true) }

    private func printed(topLevel: Bool) -> String {
        switch self {
        case .null: topLevel ? "<no value>" : "<nil>"
        case .bool(let value): String(value)
        case .int(let value): String(value)
        case .double(let value): Self.goFloat(value)
        case .string(let value): value
        case .array(let values): "[" + values.map { $0.printed(topLevel: false) }.joined(separator: " ") + "]"
        case .object(let members):
            "map[" + members.keys.sorted().map { "\($0):\(members[$0, default: .null].printed(topLevel: false))" }
                .joined(separator: " ") + "]"
        }
    }

    /// Go's %v of a float64: whole numbers without a fraction or exponent.
    static func goFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(), value.magnitude < 9.2e18 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Compact JSON as Go's json.Marshal writes it: map keys sorted, `<`, `>` and `&` escaped.
    public var json: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .int(let value): String(value)
        case .double(let value): value.isFinite ? Self.goFloat(value) : "null"
        case .string(let value): GoQuote.json(value)
        case .array(let values): "[" + values.map(\.json).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.keys.sorted().map { GoQuote.json($0) + ":" + members[$0, default: .null].json }.joined(separator: ",") + "}"
        }
    }

}

extension TemplateValue: Decodable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([TemplateValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: TemplateValue].self))
        }
    }
}
