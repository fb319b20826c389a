/// A parsed template, as Go's text/template/parse tree.
indirect enum Node: Sendable {
    case text(String)
    case action(Pipeline)
    /// `if`, `with` and `range`: the pipeline, the list, and the `{{else}}` list.
    case branch(BranchKind, Pipeline, [Node], [Node])
}

enum BranchKind: String, Sendable { case `if`, with, range }

extension Node {
    /// As Go prints a node in "executing … at <…>".
    var text: String {
        switch self {
        case .text(let text): text
        case .action(let pipeline): "{{" + pipeline.text + "}}"
        case .branch(let kind, let pipeline, let body, let elseBody):
            "{{\(kind.rawValue) \(pipeline.text)}}" + body.map(\.text).joined()
                + (elseBody.isEmpty ? "" : "{{else}}" + elseBody.map(\.text).joined()) + "{{end}}"
        }
    }
}

struct Pipeline: Sendable {
    var position: Int
    /// `$x :=` (or `$i, $x :=` in a range); `isAssignment` for `$x =`.
    var variables: [String] = []
    var isAssignment = false
    var commands: [Command]
}

struct Command: Sendable {
    var position: Int
    var arguments: [Operand]
}

indirect enum Operand: Sendable {
    /// `.A.B` on the dot (an empty chain is the dot itself).
    case field([String], position: Int)
    /// `$x.A.B`
    case variable(String, [String], position: Int)
    case function(String, position: Int)
    case literal(TemplateValue, text: String)
    /// `(pipeline).A.B`
    case parenthesized(Pipeline, [String])

    /// As Go prints the node in "executing … at <…>".
    var text: String {
        switch self {
        case .field(let chain, _): chain.isEmpty ? "." : chain.map { "." + $0 }.joined()
        case .variable(let name, let chain, _): name + chain.map { "." + $0 }.joined()
        case .function(let name, _): name
        case .literal(_, let text): text
        case .parenthesized(let pipeline, let chain): "(" + pipeline.text + ")" + chain.map { "." + $0 }.joined()
        }
    }
}

extension Command {
    var text: String { arguments.map(\.text).joined(separator: " ") }
}

extension Pipeline {
    var text: String {
        let declaration = variables.isEmpty ? "" : variables.joined(separator: ", ") + (isAssignment ? " = " : " := ")
        return declaration + commands.map(\.text).joined(separator: " | ")
    }
}

/// Parses tokens into nodes, with Go's error texts.
struct Parser {
    private var tokens: [Token]
    private var index = 0
    private let bytes: [UInt8]
    private let functions: Set<String>
    /// Variables in scope, for Go's "undefined variable" check.
    private var scopes: [[String]] = [["$"]]

    init(_ text: String, functions: Set<String>) throws(TemplateError) {
        var lexer = Lexer(text)
        tokens = lexer.lex()
        bytes = Array(text.utf8)
        self.functions = functions
    }

    mutating func parse() throws(TemplateError) -> [Node] {
        let (nodes, end) = try list()
        if let end { throw error("unexpected {{\(end.value)}}", at: end) }
        return nodes
    }

    private func error(_ message: String, at token: Token) -> TemplateError {
        .parse(line: Lexer.location(of: token.position, in: bytes).line, message: token.kind == .error ? token.value : message)
    }

    private mutating func next() -> Token {
        let token = tokens[min(index, tokens.count - 1)]
        index += 1
        return token
    }

    private func peek() -> Token { tokens[min(index, tokens.count - 1)] }

    private mutating func nextNonSpace() -> Token {
        var token = next()
        while token.kind == .space { token = next() }
        return token
    }

    private mutating func peekNonSpace() -> Token {
        let token = nextNonSpace()
        index -= 1
        return token
    }

    /// Nodes up to EOF, or up to `{{end}}`/`{{else}}` (returned, after its keyword).
    private mutating func list() throws(TemplateError) -> ([Node], Token?) {
        var nodes: [Node] = []
        while true {
            let token = next()
            switch token.kind {
            case .eof:
                index -= 1
                return (nodes, nil)
            case .text:
                nodes.append(.text(token.value))
            case .leftDelim:
                let keyword = peekNonSpace()
                if keyword.kind == .keyword, keyword.value == "end" || keyword.value == "else" {
                    _ = nextNonSpace()
                    return (nodes, keyword)
                }
                nodes.append(try action())
            default:
                throw error("unexpected \(token.quoted) in input", at: token)
            }
        }
    }

    private mutating func action() throws(TemplateError) -> Node {
        let token = peekNonSpace()
        if token.kind == .keyword {
            _ = nextNonSpace()
            switch token.value {
            case "if": return try branch(.if, at: token)
            case "with": return try branch(.with, at: token)
            case "range": return try branch(.range, at: token)
            default: throw error("\(token.value) is not supported", at: token)
            }
        }
        return .action(try pipeline(context: "command", declarations: 1))
    }

    /// `{{if p}} … {{else}} … {{end}}`, with `{{else if p}}` chains.
    private mutating func branch(_ kind: BranchKind, at keyword: Token) throws(TemplateError) -> Node {
        scopes.append([])
        defer { scopes.removeLast() }
        let condition = try pipeline(context: kind.rawValue, declarations: kind == .range ? 2 : 1)
        let (body, end) = try list()
        guard let end else { throw error("unexpected EOF", at: peek()) }
        var elseBody: [Node] = []
        if end.value == "else" {
            let following = peekNonSpace()
            if following.kind == .keyword, following.value == kind.rawValue, kind != .range {
                // `{{else if …}}`: the rest is a nested branch sharing this one's {{end}}.
                _ = nextNonSpace()
                elseBody = [try branch(kind, at: following)]
            } else {
                let closing = nextNonSpace()
                guard closing.kind == .rightDelim else { throw error("unexpected \(closing.quoted) in else", at: closing) }
                let (nodes, last) = try list()
                guard let last else { throw error("unexpected EOF", at: peek()) }
                guard last.value == "end" else { throw error("expected end; found {{else}}", at: last) }
                try closeEnd()
                elseBody = nodes
            }
        } else {
            try closeEnd()
        }
        return .branch(kind, condition, body, elseBody)
    }

    private mutating func closeEnd() throws(TemplateError) {
        let closing = nextNonSpace()
        guard closing.kind == .rightDelim else { throw error("unexpected \(closing.quoted) in end", at: closing) }
    }

    private mutating func pipeline(context: String, declarations allowed: Int) throws(TemplateError) -> Pipeline {
        let start = peekNonSpace()
        var pipeline = Pipeline(position: start.position, commands: [])
        try declarations(into: &pipeline, allowed: allowed)
        while true {
            let token = peekNonSpace()
            switch token.kind {
            case .rightDelim, .rightParen:
                _ = nextNonSpace()
                if token.kind == .rightParen, context != "parenthesized pipeline" {
                    throw error("unexpected \(token.quoted) in \(context)", at: token)
                }
                if token.kind == .rightDelim, context == "parenthesized pipeline" { throw error("unclosed left paren", at: token) }
                guard !pipeline.commands.isEmpty else {
                    throw error(context == "command" && !pipeline.variables.isEmpty ? "missing value for command"
                                    : "missing value for \(context)", at: token)
                }
                return pipeline
            case .pipe where !pipeline.commands.isEmpty:
                _ = nextNonSpace()
                guard [.rightDelim, .rightParen, .pipe].contains(peekNonSpace().kind) == false else {
                    throw error("missing command", at: peekNonSpace())
                }
            default:
                pipeline.commands.append(try command())
            }
        }
    }

    /// `$x :=`, `$x =`, `$i, $x :=` at the start of a pipeline.
    private mutating func declarations(into pipeline: inout Pipeline, allowed: Int) throws(TemplateError) {
        let saved = index
        var names: [String] = []
        while true {
            let variable = nextNonSpace()
            guard variable.kind == .variable else { break }
            names.append(variable.value)
            let separator = nextNonSpace()
            if separator.kind == .comma, names.count < allowed { continue }
            if separator.kind == .declare || separator.kind == .assign {
                pipeline.variables = names
                pipeline.isAssignment = separator.kind == .assign
                if pipeline.isAssignment {
                    for name in names where !isDefined(name) { throw error("undefined variable \"\(name)\"", at: variable) }
                } else {
                    scopes[scopes.count - 1] += names
                }
                return
            }
            break
        }
        index = saved
    }

    private func isDefined(_ name: String) -> Bool { scopes.contains { $0.contains(name) } }

    private mutating func command() throws(TemplateError) -> Command {
        var command = Command(position: peekNonSpace().position, arguments: [])
        while true {
            let token = peekNonSpace()
            switch token.kind {
            case .rightDelim, .rightParen, .pipe:
                return command
            default:
                command.arguments.append(try operand())
            }
            // After an operand: a space, the end of the command, or Go's "unexpected … in operand".
            let following = peek()
            switch following.kind {
            case .space, .rightDelim, .rightParen, .pipe: continue
            default: throw error("unexpected \(following.quoted) in operand", at: following)
            }
        }
    }

    private mutating func operand() throws(TemplateError) -> Operand {
        let token = nextNonSpace()
        switch token.kind {
        case .field:
            return .field([String(token.value.dropFirst())] + fieldChain(), position: token.position)
        case .dot:
            if peek().kind == .field { throw error("unexpected . after term \".\"", at: peek()) }
            return .field([], position: token.position)
        case .variable:
            guard isDefined(token.value) else { throw error("undefined variable \"\(token.value)\"", at: token) }
            return .variable(token.value, fieldChain(), position: token.position)
        case .identifier:
            guard functions.contains(token.value) else { throw error("function \"\(token.value)\" not defined", at: token) }
            return .function(token.value, position: token.position)
        case .bool:
            return .literal(.bool(token.value == "true"), text: token.value)
        case .null:
            return .literal(.null, text: "nil")
        case .string:
            return .literal(.string(token.value), text: GoQuote.quoted(token.value))
        case .number:
            if let value = Int(token.value) { return .literal(.int(value), text: token.value) }
            if let value = Double(token.value) { return .literal(.double(value), text: token.value) }
            throw error("bad number syntax: \(GoQuote.quoted(token.value))", at: token)
        case .leftParen:
            let inner = try pipeline(context: "parenthesized pipeline", declarations: 1)
            return .parenthesized(inner, fieldChain())
        case .eof:
            throw error("unclosed action", at: token)
        default:
            throw error("unexpected \(token.quoted) in operand", at: token)
        }
    }

    /// Fields right after a term: `.B.C` of `.A.B.C`, `$x.B`, `(…).B`.
    private mutating func fieldChain() -> [String] {
        var chain: [String] = []
        while peek().kind == .field { chain.append(String(next().value.dropFirst())) }
        return chain
    }
}
