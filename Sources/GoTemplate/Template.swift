/// What went wrong, worded as Go's text/template words it (docker prints these).
public enum TemplateError: Error, Equatable, CustomStringConvertible {
    /// `template: :1: unexpected "}" in operand`
    case parse(line: Int, message: String)
    /// `template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`
    case execution(line: Int, column: Int, node: String, message: String)

    public var description: String {
        switch self {
        case .parse(let line, let message):
            "template: :\(line): \(message)"
        case .execution(let line, let column, let node, let message):
            // Go shortens the node to 20 characters.
            "template: :\(line):\(column): executing \"\" at <\(node.count > 20 ? node.prefix(20) + "..." : node)>: \(message)"
        }
    }
}

/// A failure inside a function or a field lookup, placed at its node by the executor.
struct EvaluationFailure: Error {
    var message: String
    /// Go reports a wrong argument count at the function's name, other failures at the whole call.
    var atName = false
}

/// docker's Go-template language (text/template with docker's functions) over JSON-like values.
public struct Template: Sendable {
    private let nodes: [Node]
    private let bytes: [UInt8]

    public init(_ text: String) throws(TemplateError) {
        var parser = try Parser(text, functions: Set(Functions.names))
        nodes = try parser.parse()
        bytes = Array(text.utf8)
    }

    /// The text the template makes of `dot`. A missing map key is an error
    /// when `missingKeyIsError` (docker's inspect and ours), else `<no value>`;
    /// `functionsPassThrough` makes docker's functions hand back their value
    /// untouched, as docker does when it executes a table's header.
    public func execute(_ dot: TemplateValue, missingKeyIsError: Bool = true, functionsPassThrough: Bool = false)
        throws(TemplateError) -> String {
        var executor = Executor(bytes: bytes, missingKeyIsError: missingKeyIsError, functionsPassThrough: functionsPassThrough,
                                variables: [("$", dot)])
        var output = ""
        try executor.walk(nodes, dot: dot, into: &output)
        return output
    }
}

struct Executor {
    let bytes: [UInt8]
    let missingKeyIsError: Bool
    let functionsPassThrough: Bool
    var variables: [(name: String, value: TemplateValue)]

    private func failure(_ message: String, at position: Int, node: String) -> TemplateError {
        let (line, column) = Lexer.location(of: position, in: bytes)
        return .execution(line: line, column: column, node: node, message: message)
    }

    mutating func walk(_ nodes: [Node], dot: TemplateValue, into output: inout String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .action(let pipeline):
                let value = try evaluate(pipeline, dot: dot)
                if pipeline.variables.isEmpty { output += value.printed }
            case .branch(let kind, let pipeline, let body, let elseBody):
                let mark = variables.count
                defer { variables.removeSubrange(mark...) }
                let value = try evaluate(pipeline, dot: dot, declaring: kind != .range)
                switch kind {
                case .if:
                    try walk(value.isTruthy ? body : elseBody, dot: dot, into: &output)
                case .with:
                    try walk(value.isTruthy ? body : elseBody, dot: value.isTruthy ? value : dot, into: &output)
                case .range:
                    let elements: [(TemplateValue, TemplateValue)]
                    switch value {
                    case .array(let values): elements = values.enumerated().map { (.int($0.offset), $0.element) }
                    case .object(let members): elements = members.keys.sorted().map { (.string($0), members[$0, default: .null]) }
                    case .null: elements = []
                    case .int(let count): elements = (0..<max(0, count)).map { (.int($0), .int($0)) }
                    default:
                        throw failure("range can't iterate over \(value.printed)", at: pipeline.position, node: node.text)
                    }
                    if elements.isEmpty { try walk(elseBody, dot: dot, into: &output) }
                    for (key, element) in elements {
                        let inner = variables.count
                        switch pipeline.variables.count {
                        case 1: variables.append((pipeline.variables[0], element))
                        case 2: variables += [(pipeline.variables[0], key), (pipeline.variables[1], element)]
                        default: break
                        }
                        try walk(body, dot: element, into: &output)
                        variables.removeSubrange(inner...)
                    }
                }
            }
        }
    }

    mutating func evaluate(_ pipeline: Pipeline, dot: TemplateValue, declaring: Bool = true) throws(TemplateError) -> TemplateValue {
        var value: TemplateValue?
        for command in pipeline.commands {
            value = try evaluate(command, dot: dot, final: value)
        }
        let result = value ?? .null
        if declaring, let name = pipeline.variables.last {
            if pipeline.isAssignment, let slot = variables.lastIndex(where: { $0.name == name }) {
                variables[slot].value = result
            } else {
                variables.append((name, result))
            }
        }
        return result
    }

    private mutating func evaluate(_ command: Command, dot: TemplateValue, final: TemplateValue?) throws(TemplateError) -> TemplateValue {
        guard let first = command.arguments.first else { return .null }
        if case .function(let name, let position) = first {
            var arguments: [TemplateValue] = []
            for argument in command.arguments.dropFirst() { arguments.append(try evaluate(argument, dot: dot)) }
            if let final { arguments.append(final) }
            do {
                return try Functions.call(name, arguments, passThrough: functionsPassThrough)
            } catch {
                throw failure(error.message, at: position, node: error.atName ? name : command.text)
            }
        }
        guard command.arguments.count == 1, final == nil else {
            switch first {
            case .field(let chain, let position) where !chain.isEmpty, .variable(_, let chain, let position) where !chain.isEmpty:
                throw failure("\(chain[chain.count - 1]) is not a method but has arguments", at: position, node: first.text)
            default:
                throw failure("can't give argument to non-function \(first.text)", at: command.position, node: first.text)
            }
        }
        return try evaluate(first, dot: dot)
    }

    private mutating func evaluate(_ operand: Operand, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        switch operand {
        case .field(let chain, let position):
            return try follow(chain, from: dot, at: position, node: operand.text)
        case .variable(let name, let chain, let position):
            guard let value = variables.last(where: { $0.name == name })?.value else {
                throw failure("undefined variable: \(name)", at: position, node: operand.text)
            }
            return try follow(chain, from: value, at: position, node: operand.text)
        case .function(let name, let position):
            do {
                return try Functions.call(name, [], passThrough: functionsPassThrough)
            } catch {
                throw failure(error.message, at: position, node: name)
            }
        case .literal(let value, _):
            return value
        case .parenthesized(let pipeline, let chain):
            let value = try evaluate(pipeline, dot: dot)
            return try follow(chain, from: value, at: pipeline.position, node: operand.text)
        }
    }

    private func follow(_ chain: [String], from start: TemplateValue, at position: Int, node: String) throws(TemplateError) -> TemplateValue {
        var value = start
        for name in chain {
            switch value {
            case .object(let members):
                if let member = members[name] {
                    value = member
                } else if missingKeyIsError {
                    throw failure("map has no entry for key \(GoQuote.quoted(name))", at: position, node: node)
                } else {
                    value = .null
                }
            case .null:
                if missingKeyIsError { throw failure("nil data; no entry for key \(GoQuote.quoted(name))", at: position, node: node) }
                return .null
            default:
                throw failure("can't evaluate field \(name) in type \(value.goTypeName)", at: position, node: node)
            }
        }
        return value
    }
}
