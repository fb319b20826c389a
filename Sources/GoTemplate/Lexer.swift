/// A token of a template, as Go's text/template lexer cuts it.
struct Token: Equatable {
    enum Kind: Equatable {
        case text, leftDelim, rightDelim, space, field, dot, identifier, keyword, string, number, bool, null
        case variable, pipe, leftParen, rightParen, declare, assign, comma, char, eof
        /// A lexing error: the parser reports it when it reaches it, as Go's does.
        case error
    }

    var kind: Kind
    var value: String
    /// Byte offset in the template, for error positions.
    var position: Int

    /// As Go's parser quotes a token in "unexpected …" errors.
    var quoted: String {
        switch kind {
        case .eof: "EOF"
        case .keyword: "<\(value)>"
        case .rightDelim: "\"}}\""
        case .leftDelim: "\"{{\""
        default: value.count > 10 ? GoQuote.quoted(String(value.prefix(10))) + "..." : GoQuote.quoted(value)
        }
    }
}

/// Cuts a template into tokens: text between actions, and the tokens of each
/// `{{…}}` action, with `{{- ` and ` -}}` trimming the text beside them.
struct Lexer {
    private let bytes: [UInt8]
    private var position = 0
    private(set) var tokens: [Token] = []

    static let keywords: Set<String> = ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"]

    init(_ text: String) { bytes = Array(text.utf8) }

    /// The template's line of a byte offset, 1-based, and the column in that line, 0-based as Go counts it.
    static func location(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let before = bytes[..<min(offset, bytes.count)]
        let line = 1 + before.count { $0 == UInt8(ascii: "\n") }
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        return (line, offset - lineStart)
    }

    mutating func lex() -> [Token] {
        do {
            while position < bytes.count {
                try lexText()
            }
            tokens.append(Token(kind: .eof, value: "", position: bytes.count))
        } catch {
            tokens.append(Token(kind: .error, value: error.message, position: error.offset))
        }
        return tokens
    }

    private func starts(with text: String, at offset: Int) -> Bool {
        let pattern = Array(text.utf8)
        return offset + pattern.count <= bytes.count && Array(bytes[offset..<offset + pattern.count]) == pattern
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    struct Failure: Error {
        var message: String
        var offset: Int
    }

    private func error(_ message: String, at offset: Int) -> Failure { Failure(message: message, offset: offset) }

    private func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    private mutating func lexText() throws(Failure) {
        var end = position
        while end < bytes.count, !starts(with: "{{", at: end) { end += 1 }
        var textEnd = end
        let trimsLeft = end + 3 <= bytes.count && bytes[end + 2] == UInt8(ascii: "-") && end + 3 < bytes.count && isSpace(bytes[end + 3])
        if trimsLeft { while textEnd > position, isSpace(bytes[textEnd - 1]) { textEnd -= 1 } }
        if textEnd > position { tokens.append(Token(kind: .text, value: string(position..<textEnd), position: position)) }
        position = end
        guard position < bytes.count else { return }
        let delimiter = position
        position += trimsLeft ? 4 : 2
        if starts(with: "/*", at: position) {
            try lexComment(from: delimiter)
        } else {
            tokens.append(Token(kind: .leftDelim, value: "{{", position: delimiter))
            try lexInsideAction()
        }
    }

    /// `{{/* … */}}`, nothing printed.
    private mutating func lexComment(from delimiter: Int) throws(Failure) {
        var end = position + 2
        while end < bytes.count, !starts(with: "*/", at: end) { end += 1 }
        guard end < bytes.count else { throw error("unclosed comment", at: delimiter) }
        position = end + 2
        if starts(with: " -}}", at: position) {
            position += 4
            skipSpace()
        } else if starts(with: "}}", at: position) {
            position += 2
        } else {
            throw error("comment ends before closing delimiter", at: delimiter)
        }
    }

    private mutating func skipSpace() { while position < bytes.count, isSpace(bytes[position]) { position += 1 } }

    /// Whether a right delimiter, with its trim marker or without, is at `offset`.
    private func rightDelimiter(at offset: Int) -> (length: Int, trims: Bool)? {
        if offset < bytes.count, isSpace(bytes[offset]), starts(with: "-}}", at: offset + 1) { return (4, true) }
        return starts(with: "}}", at: offset) ? (2, false) : nil
    }

    private mutating func lexInsideAction() throws(Failure) {
        var parenDepth = 0
        while true {
            if let (length, trims) = rightDelimiter(at: position) {
                let start = position + (trims ? 1 : 0)
                position += length
                if trims { skipSpace() }
                tokens.append(Token(kind: .rightDelim, value: "}}", position: start))
                return
            }
            guard position < bytes.count else { throw error("unclosed action", at: position) }
            let start = position
            let byte = bytes[position]
            switch byte {
            case _ where isSpace(byte):
                while position < bytes.count, isSpace(bytes[position]), rightDelimiter(at: position)?.trims != true { position += 1 }
                tokens.append(Token(kind: .space, value: string(start..<position), position: start))
            case UInt8(ascii: "|"): emit(.pipe, length: 1)
            case UInt8(ascii: ","): emit(.comma, length: 1)
            case UInt8(ascii: "("):
                parenDepth += 1
                emit(.leftParen, length: 1)
            case UInt8(ascii: ")"):
                guard parenDepth > 0 else { throw error("unexpected right paren", at: position) }
                parenDepth -= 1
                emit(.rightParen, length: 1)
            case UInt8(ascii: "="): emit(.assign, length: 1)
            case UInt8(ascii: ":"):
                guard starts(with: ":=", at: position) else { throw error("expected :=", at: position) }
                emit(.declare, length: 2)
            case UInt8(ascii: "\""): try lexQuote()
            case UInt8(ascii: "`"): try lexRawQuote()
            case UInt8(ascii: "$"):
                position += 1
                scanAlphanumerics()
                tokens.append(Token(kind: .variable, value: string(start..<position), position: start))
            case UInt8(ascii: "."):
                if position + 1 < bytes.count, isDigit(bytes[position + 1]) {
                    lexNumber()
                } else {
                    position += 1
                    scanAlphanumerics()
                    tokens.append(Token(kind: position - start == 1 ? .dot : .field, value: string(start..<position), position: start))
                }
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): lexNumber()
            case _ where isAlphanumeric(byte):
                scanAlphanumerics()
                let word = string(start..<position)
                let kind: Token.Kind = switch word {
                case "true", "false": .bool
                case "nil": .null
                case _ where Self.keywords.contains(word): .keyword
                default: .identifier
                }
                tokens.append(Token(kind: kind, value: word, position: start))
            default:
                // Any other character: the parser says where it is unexpected, as Go's does.
                let scalarLength = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                emit(.char, length: min(scalarLength, bytes.count - position))
            }
        }
    }

    private mutating func emit(_ kind: Token.Kind, length: Int) {
        tokens.append(Token(kind: kind, value: string(position..<position + length), position: position))
        position += length
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private mutating func scanAlphanumerics() { while position < bytes.count, isAlphanumeric(bytes[position]) { position += 1 } }

    private mutating func lexNumber() {
        let start = position
        if bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count, isAlphanumeric(bytes[position]) || bytes[position] == UInt8(ascii: ".")
            || ((bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-"))
                && (bytes[position - 1] == UInt8(ascii: "e") || bytes[position - 1] == UInt8(ascii: "E"))) {
            position += 1
        }
        tokens.append(Token(kind: .number, value: string(start..<position), position: start))
    }

    private mutating func lexQuote() throws(Failure) {
        let start = position
        position += 1
        var value = ""
        var segmentStart = position
        while true {
            guard position < bytes.count, bytes[position] != UInt8(ascii: "\n") else {
                throw error("unterminated quoted string", at: start)
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                value += string(segmentStart..<position)
                guard position + 1 < bytes.count else { throw error("unterminated quoted string", at: start) }
                switch bytes[position + 1] {
                case UInt8(ascii: "n"): value += "\n"
                case UInt8(ascii: "t"): value += "\t"
                case UInt8(ascii: "r"): value += "\r"
                case UInt8(ascii: "\\"): value += "\\"
                case UInt8(ascii: "\""): value += "\""
                default: throw error("invalid syntax", at: start)
                }
                position += 2
                segmentStart = position
                continue
            }
            position += 1
        }
        value += string(segmentStart..<position)
        position += 1
        tokens.append(Token(kind: .string, value: value, position: start))
    }

    private mutating func lexRawQuote() throws(Failure) {
        let start = position
        position += 1
        while position < bytes.count, bytes[position] != UInt8(ascii: "`") { position += 1 }
        guard position < bytes.count else { throw error("unterminated raw quoted string", at: start) }
        tokens.append(Token(kind: .string, value: string(start + 1..<position), position: start))
        position += 1
    }
}
