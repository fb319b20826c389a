/// Strings quoted as Go quotes them.
public enum GoQuote {
    /// As `strconv.Quote` (fmt's `%q`): `\"`, `\\`, `\n`, `\t` and the like, other control characters as `\x01`.
    public static func quoted(_ text: String) -> String { quote(text, json: false) }

    /// As encoding/json writes a string: control characters as `\u0001`, and `<`, `>`, `&`, U+2028 and U+2029
    /// escaped too, so the text is safe inside HTML.
    public static func json(_ text: String) -> String { quote(text, json: true) }

    private static let htmlUnsafe: Set<Unicode.Scalar> = ["<", ">", "&", "\u{2028}", "\u{2029}"]

    private static func quote(_ text: String, json: Bool) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where json && htmlUnsafe.contains(scalar): out += unicodeEscape(scalar.value)
            case _ where scalar.value < 0x20: out += json ? unicodeEscape(scalar.value) : byteEscape(scalar.value)
            case "\u{7f}" where !json: out += byteEscape(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String { "\\u" + hex(value, digits: 4) }
    private static func byteEscape(_ value: UInt32) -> String { "\\x" + hex(value, digits: 2) }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
