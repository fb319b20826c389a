import ArgumentParser
import FoundationEssentials
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

/// Prints a value as indented JSON, its keys sorted unless the value gives them in docker's order.
func printJSON<Value: Encodable>(_ value: Value, sortedKeys: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = sortedKeys ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `inspect` of several objects as docker does it: prints those found as one
/// JSON array, then fails with the first that was not.
func printInspected<Detail: Encodable>(_ references: [String], _ fetch: (String) throws -> Detail) throws {
    var found: [Detail] = []
    var missing: [String] = []
    for reference in references {
        do {
            found.append(try fetch(reference))
        } catch let error as ShoalError {
            missing.append(error.message)
        }
    }
    try printJSON(found, sortedKeys: false)
    if let first = missing.first { throw ShoalError(first) }
}
