import ArgumentParser
import FoundationEssentials

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

/// Prints a value as indented JSON with sorted keys.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
