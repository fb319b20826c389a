/// Durations as docker's flags take them: 1s, 500ms, 1m30s, 2h.
public enum Durations {
    /// The seconds `text` stands for; an error naming `option` when it is
    /// malformed or longer than `range` allows.
    public static func seconds(_ text: String, option: String,
                               range: ClosedRange<Double> = Limits.durationSeconds) throws -> Double {
        var total = 0.0
        var number = ""
        var rest = Substring(text)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        while let character = rest.first {
            if character.isASCII && (character.isNumber || character == ".") {
                number.append(character)
                rest = rest.dropFirst()
                continue
            }
            guard let value = Double(number), let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { break }
            total += value * scale
            number = ""
            rest = rest.dropFirst(unit.count)
        }
        guard rest.isEmpty, number.isEmpty || text == "0", !text.isEmpty else {
            throw ShoalError("invalid duration '\(text)' for \(option)", hint: "use a number with a unit, e.g. 1s, 500ms or 1m")
        }
        guard range.contains(total) else {
            throw ShoalError("duration '\(text)' for \(option) is too long", hint: "use at most \(Self.text(range.upperBound))")
        }
        return total
    }

    /// "1s", "500ms", "168h0m0s"-style text; any value, even one no parser
    /// would accept, is shown without trapping.
    public static func text(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e12 else { return "\(seconds)s" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(Int((seconds * 1000).rounded()))ms"
    }
}
