/// docker's `--format` of a list (`service ls`, `node ps`, …): a template
/// made text per row, or with the `table` prefix a header row first and the
/// `\t`-separated cells aligned as docker's tabwriter aligns them.
public struct ListFormat: Sendable {
    public let isTable: Bool
    private let template: Template

    /// `format` as typed: `table` prefix, and `\t`/`\n` written as two characters, as docker takes them.
    public init(_ format: String) throws(TemplateError) {
        isTable = format.hasPrefix("table")
        var body = isTable ? String(format.dropFirst("table".count)) : format
        body = body.trimmingSpaces.replacingEscapes
        template = try Template(body)
    }

    /// The text of all rows, each ending in a newline. `headers` maps each
    /// field a row has to its column title ("DesiredState" → "DESIRED STATE").
    public func render(_ rows: [TemplateValue], headers: [String: String]) throws(TemplateError) -> String {
        var text = ""
        if isTable {
            let headerObject = TemplateValue.object(headers.mapValues { .string($0) })
            // docker runs the row template over the titles (a field without one shows as Go shows a missing key).
            text += ((try? template.execute(headerObject, missingKeyIsError: false, functionsPassThrough: true)) ?? "") + "\n"
        }
        for row in rows { text += try template.execute(row) + "\n" }
        return isTable ? TabWriter.align(text) : text
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    /// docker replaces the two characters `\t` and `\n` of a format with a tab and a newline.
    fileprivate var replacingEscapes: String {
        var out = ""
        var characters = self[...]
        while let character = characters.popFirst() {
            if character == "\\", let next = characters.first, next == "t" || next == "n" {
                out.append(next == "t" ? "\t" : "\n")
                characters.removeFirst()
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Go's text/tabwriter as docker sets it up (minwidth 10, tabwidth 1,
/// padding 3, padded with spaces): tab-terminated cells of consecutive lines
/// form columns, each as wide as its widest cell plus 3, at least 10; the
/// text after a line's last tab is not part of any column.
public enum TabWriter {
    public static func align(_ text: String, minimumWidth: Int = 10, padding: Int = 3) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let endsWithNewline = text.hasSuffix("\n")
        if endsWithNewline { lines.removeLast() }
        var output: [String] = Array(repeating: "", count: lines.count)
        var widths: [Int] = []
        format(lines, 0..<lines.count, widths: &widths, minimumWidth: minimumWidth, padding: padding, into: &output)
        return output.joined(separator: "\n") + (endsWithNewline ? "\n" : "")
    }

    private static func width(_ cell: String) -> Int { cell.unicodeScalars.count }

    private static func format(_ lines: [[String]], _ range: Range<Int>, widths: inout [Int], minimumWidth: Int, padding: Int,
                               into output: inout [String]) {
        let column = widths.count
        var start = range.lowerBound
        var line = range.lowerBound
        while line < range.upperBound {
            guard column < lines[line].count - 1 else {
                line += 1
                continue
            }
            write(lines, start..<line, widths: widths, into: &output)
            start = line
            var columnWidth = minimumWidth
            while line < range.upperBound, column < lines[line].count - 1 {
                columnWidth = max(columnWidth, width(lines[line][column]) + padding)
                line += 1
            }
            widths.append(columnWidth)
            format(lines, start..<line, widths: &widths, minimumWidth: minimumWidth, padding: padding, into: &output)
            widths.removeLast()
            start = line
        }
        write(lines, start..<range.upperBound, widths: widths, into: &output)
    }

    private static func write(_ lines: [[String]], _ range: Range<Int>, widths: [Int], into output: inout [String]) {
        for line in range {
            var text = ""
            for (column, cell) in lines[line].enumerated() {
                text += cell
                if column < widths.count { text += String(repeating: " ", count: max(0, widths[column] - width(cell))) }
            }
            output[line] = text
        }
    }
}
