/// The functions a template may call: docker's (json, split, join, title,
/// lower, upper, pad, truncate) and text/template's built-ins.
enum Functions {
    static let names = ["json", "split", "join", "title", "lower", "upper", "pad", "truncate",
                        "and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge"]

    /// docker's own functions: those a table header runs as the identity.
    private static let docker: Set<String> = ["json", "split", "join", "title", "lower", "upper", "pad", "truncate"]

    static func call(_ name: String, _ arguments: [TemplateValue], passThrough: Bool) throws(EvaluationFailure) -> TemplateValue {
        if passThrough, docker.contains(name), let first = arguments.first { return first }
        func want(_ count: Int) throws(EvaluationFailure) {
            guard arguments.count == count else {
                throw EvaluationFailure(message: "wrong number of args for \(name): want \(count) got \(arguments.count)", atName: true)
            }
        }
        func atLeast(_ count: Int) throws(EvaluationFailure) {
            guard arguments.count >= count else {
                throw EvaluationFailure(message: "wrong number of args for \(name): want at least \(count) got \(arguments.count)",
                                        atName: true)
            }
        }
        switch name {
        case "json":
            try want(1)
            return .string(arguments[0].json)
        case "split":
            try want(2)
            let (text, separator) = (arguments[0].printed, arguments[1].printed)
            return .array(split(text, by: separator).map { .string($0) })
        case "join":
            try want(2)
            guard case .array(let values) = arguments[0] else {
                throw EvaluationFailure(message: "error calling join: wrong type for value; expected []string; got \(arguments[0].goTypeName)")
            }
            return .string(values.map(\.printed).joined(separator: arguments[1].printed))
        case "title":
            try want(1)
            return .string(title(arguments[0].printed))
        case "lower":
            try want(1)
            return .string(arguments[0].printed.lowercased())
        case "upper":
            try want(1)
            return .string(arguments[0].printed.uppercased())
        case "pad":
            try want(3)
            let (before, after) = (count(arguments[1]), count(arguments[2]))
            return .string(String(repeating: " ", count: before) + arguments[0].printed + String(repeating: " ", count: after))
        case "truncate":
            try want(2)
            let text = arguments[0].printed
            let length = count(arguments[1])
            return .string(text.unicodeScalars.count <= length ? text : String(String.UnicodeScalarView(text.unicodeScalars.prefix(length))))
        case "and":
            try atLeast(1)
            return arguments.first { !$0.isTruthy } ?? arguments[arguments.count - 1]
        case "or":
            try atLeast(1)
            return arguments.first(where: \.isTruthy) ?? arguments[arguments.count - 1]
        case "not":
            try want(1)
            return .bool(!arguments[0].isTruthy)
        case "len":
            try want(1)
            switch arguments[0] {
            case .string(let text): return .int(text.utf8.count)
            case .array(let values): return .int(values.count)
            case .object(let members): return .int(members.count)
            default: throw EvaluationFailure(message: "error calling len: len of type \(arguments[0].goTypeName)")
            }
        case "index":
            try atLeast(1)
            return try index(arguments[0], arguments.dropFirst())
        case "print":
            return .string(sprint(arguments))
        case "println":
            return .string(arguments.map(\.printed).joined(separator: " ") + "\n")
        case "printf":
            try atLeast(1)
            return .string(Printf.format(arguments[0].printed, Array(arguments.dropFirst())))
        case "eq":
            try atLeast(2)
            for argument in arguments.dropFirst() where try compare(name, arguments[0], argument) == 0 { return .bool(true) }
            return .bool(false)
        case "ne":
            try want(2)
            return .bool(try compare(name, arguments[0], arguments[1]) != 0)
        case "lt", "le", "gt", "ge":
            try want(2)
            guard let order = try compare(name, arguments[0], arguments[1], ordered: true) else {
                throw EvaluationFailure(message: "error calling \(name): invalid type for comparison")
            }
            switch name {
            case "lt": return .bool(order < 0)
            case "le": return .bool(order <= 0)
            case "gt": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        default:
            throw EvaluationFailure(message: "function \"\(name)\" not defined")
        }
    }

    private static func count(_ value: TemplateValue) -> Int {
        switch value {
        case .int(let count): max(0, count)
        case .double(let count): count.isFinite ? max(0, Int(clamping: Int64(max(min(count, 1e9), 0)))) : 0
        default: Int(value.printed).map { max(0, $0) } ?? 0
        }
    }

    /// Go's strings.Split: an empty separator splits into characters.
    private static func split(_ text: String, by separator: String) -> [String] {
        guard !separator.isEmpty else { return text.map(String.init) }
        let (characters, pattern) = (Array(text), Array(separator))
        var parts: [String] = []
        var (start, position) = (0, 0)
        while position + pattern.count <= characters.count {
            if Array(characters[position..<position + pattern.count]) == pattern {
                parts.append(String(characters[start..<position]))
                position += pattern.count
                start = position
            } else {
                position += 1
            }
        }
        return parts + [String(characters[start...])]
    }

    /// Go's strings.Title: the first letter of each word upper-cased.
    private static func title(_ text: String) -> String {
        var out = ""
        var atWordStart = true
        for character in text {
            out += atWordStart ? character.uppercased() : String(character)
            atWordStart = !(character.isLetter || character.isNumber || character == "_" || character == "'")
        }
        return out
    }

    /// fmt.Sprint: a space between operands when neither is a string.
    private static func sprint(_ arguments: [TemplateValue]) -> String {
        var out = ""
        for (position, argument) in arguments.enumerated() {
            if position > 0 {
                if case .string = argument {} else if case .string = arguments[position - 1] {} else { out += " " }
            }
            out += argument.printed
        }
        return out
    }

    private static func index(_ start: TemplateValue, _ keys: ArraySlice<TemplateValue>) throws(EvaluationFailure) -> TemplateValue {
        var value = start
        for key in keys {
            switch (value, key) {
            case (.object(let members), .string(let name)):
                value = members[name] ?? .null
            case (.array(let values), .int(let position)):
                guard values.indices.contains(position) else {
                    throw EvaluationFailure(message: "error calling index: index out of range: \(position)")
                }
                value = values[position]
            case (.null, _):
                throw EvaluationFailure(message: "error calling index: index of untyped nil")
            case (.object, _), (.array, _):
                throw EvaluationFailure(message: "error calling index: cannot index slice/array with type \(key.goTypeName)")
            default:
                throw EvaluationFailure(message: "error calling index: can't index item of type \(value.goTypeName)")
            }
        }
        return value
    }

    /// Go's comparison of basic values: numbers with numbers, strings with strings, bools with bools.
    private static func compare(_ name: String, _ lhs: TemplateValue, _ rhs: TemplateValue, ordered: Bool = false)
        throws(EvaluationFailure) -> Int? {
        func order<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a == b ? 0 : 1 }
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return order(a, b)
        case (.int(let a), .double(let b)): return order(Double(a), b)
        case (.double(let a), .int(let b)): return order(a, Double(b))
        case (.double(let a), .double(let b)): return order(a, b)
        case (.string(let a), .string(let b)): return order(a, b)
        case (.bool(let a), .bool(let b)) where !ordered: return a == b ? 0 : 1
        case (.null, .null) where !ordered: return 0
        default:
            throw EvaluationFailure(message: "error calling \(name): incompatible types for comparison")
        }
    }
}

/// fmt.Sprintf's verbs a template uses: %s %v %d %q %t %f %x %%, with flags, width and precision.
enum Printf {
    static func format(_ format: String, _ arguments: [TemplateValue]) -> String {
        var out = ""
        var next = 0
        var characters = Array(format)[...]
        while let character = characters.popFirst() {
            guard character == "%" else {
                out.append(character)
                continue
            }
            var (leftAlign, zeroPad, plus) = (false, false, false)
            flags: while let flag = characters.first {
                switch flag {
                case "-": leftAlign = true
                case "0": zeroPad = true
                case "+": plus = true
                case " ", "#": break
                default: break flags
                }
                characters.removeFirst()
            }
            var width = 0
            while let digit = characters.first?.wholeNumberValue { width = width * 10 + digit; characters.removeFirst() }
            var precision: Int?
            if characters.first == "." {
                characters.removeFirst()
                var digits = 0
                while let digit = characters.first?.wholeNumberValue { digits = digits * 10 + digit; characters.removeFirst() }
                precision = digits
            }
            guard let verb = characters.popFirst() else {
                out += "%!(NOVERB)"
                break
            }
            if verb == "%" {
                out += "%"
                continue
            }
            guard next < arguments.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            let argument = arguments[next]
            next += 1
            var text = convert(argument, verb: verb, precision: precision, plus: plus)
            let length = text.count
            if width > length {
                let padding = String(repeating: zeroPad && !leftAlign ? "0" : " ", count: width - length)
                if leftAlign {
                    text += padding
                } else if zeroPad, text.hasPrefix("-") || text.hasPrefix("+") {
                    text = String(text.prefix(1)) + padding + text.dropFirst()
                } else {
                    text = padding + text
                }
            }
            out += text
        }
        if next < arguments.count {
            out += "%!(EXTRA " + arguments[next...].map { "\($0.goTypeName)=\($0.printed)" }.joined(separator: ", ") + ")"
        }
        return out
    }

    private static func convert(_ value: TemplateValue, verb: Character, precision: Int?, plus: Bool) -> String {
        switch (verb, value) {
        case ("d", .int(let number)): return (plus && number >= 0 ? "+" : "") + String(number)
        case ("d", .double(let number)) where number == number.rounded() && number.magnitude < 9.2e18:
            return (plus && number >= 0 ? "+" : "") + String(Int64(number))
        case ("x", .int(let number)): return String(number, radix: 16)
        case ("x", .string(let text)): return text.utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        case ("f", .int(let number)): return fixed(Double(number), precision ?? 6)
        case ("f", .double(let number)): return fixed(number, precision ?? 6)
        case ("q", .string(let text)): return GoQuote.quoted(text)
        case ("t", .bool(let flag)): return String(flag)
        case ("s", _), ("v", _):
            let text = value.printed
            guard let precision, case .string = value else { return text }
            return String(text.prefix(precision))
        default:
            return "%!\(verb)(\(value.goTypeName)=\(value.printed))"
        }
    }

    /// A fixed-point rendering with `digits` decimals, rounded half away from zero.
    private static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return TemplateValue.goFloat(value) }
        let scale = (0..<min(digits, 15)).reduce(1.0) { result, _ in result * 10 }
        let scaled = (value.magnitude * scale).rounded()
        guard scaled < 9.2e18 else { return TemplateValue.goFloat(value) }
        let whole = Int64(scaled)
        let integer = String(whole / Int64(scale))
        var fraction = String(whole % Int64(scale))
        fraction = String(repeating: "0", count: max(0, min(digits, 15) - fraction.count)) + fraction
        return (value < 0 && scaled > 0 ? "-" : "") + integer + (digits > 0 ? "." + fraction : "")
    }
}
