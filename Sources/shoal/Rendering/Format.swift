import ArgumentParser
import FoundationEssentials
import GoTemplate
import ShoalAPI

/// `--format json` for scripts; tables and text otherwise.
struct FormatOption: ParsableArguments {
    @Option(help: "Output format: 'table' (default) or 'json'.")
    var format: String = "table"

    var isJSON: Bool { format == "json" }

    func validate() throws {
        guard ["table", "json"].contains(format) else {
            throw ValidationError("unknown format '\(format)', use 'table' or 'json'")
        }
    }
}

/// Prints a value as indented JSON, its keys sorted.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `inspect` of several objects as docker does it: prints those found (one
/// JSON array, or each through `--format`), then fails with the first that was not.
func printInspected<Detail: Encodable>(_ references: [String], format: InspectFormatOption,
                                       _ fetch: (String) throws -> Detail) throws {
    var found: [Detail] = []
    var missing: [String] = []
    for reference in references {
        do {
            found.append(try fetch(reference))
        } catch let error as ShoalError {
            missing.append(error.message)
        }
    }
    try format.print(found)
    if let first = missing.first { throw ShoalError(first) }
}

/// `--format` of `ls` and `ps`, as docker's: its table (default), `json`
/// (one object per line, docker's keys), or a Go template (`table` prefix
/// for a table with a header row).
struct ListFormatOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Output format: 'table' (default), 'json' (one object per line), or a Go template, e.g. '{{.ID}}' or 'table {{.ID}}\\t{{.Name}}'.",
        valueName: "format"))
    var format = "table"

    /// Prints `rows` as asked; `defaultTable` is docker's default table of them.
    func print<Row: ListRow>(_ rows: [Row], defaultTable: () -> String) throws {
        switch format {
        case "table":
            Swift.print(defaultTable())
        case "json":
            for row in rows { Swift.print(try templateValue(row).json) }
        default:
            // docker words both a template that does not parse and one that fails on a row this way.
            do {
                Swift.print(try ListFormat(format).render(rows.map(templateValue), headers: Row.titles), terminator: "")
            } catch let error as TemplateError {
                throw ShoalError("template parsing error: \(error)")
            }
        }
    }
}

/// A value as a template sees it: its JSON.
func templateValue<Value: Encodable>(_ value: Value) throws -> TemplateValue {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    return try JSONDecoder().decode(TemplateValue.self, from: encoder.encode(value))
}

/// `inspect --format`: each object through a Go template over its JSON (`json`: the JSON as without it).
struct InspectFormatOption: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Format the output using the given Go template, e.g. '{{.ID}}'.", valueName: "format"))
    var format: String?

    func print<Detail: Encodable>(_ details: [Detail]) throws {
        guard let format, format != "json" else { return Swift.print(try GoJSON.indented(details)) }
        do {
            let template = try Template(format)
            for detail in details { Swift.print(try template.execute(templateValue(detail))) }
        } catch let error as TemplateError {
            throw ShoalError("Template parsing error: \(error)")
        }
    }
}
