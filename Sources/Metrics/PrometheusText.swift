/// Prometheus' text exposition format, version 0.0.4: what a scraper reads
/// from `/metrics`.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ families: [MetricFamily]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                text += "\(family.name)\(labels(sample.labels)) \(number(sample.value))\n"
            }
            for (labels, histogram) in family.histograms {
                for bucket in histogram.cumulativeBuckets {
                    let le = Label("le", bucket.bound == .infinity ? "+Inf" : number(bucket.bound))
                    text += "\(family.name)_bucket\(self.labels(labels + [le])) \(bucket.count)\n"
                }
                text += "\(family.name)_sum\(self.labels(labels)) \(number(histogram.sum))\n"
                text += "\(family.name)_count\(self.labels(labels)) \(histogram.count)\n"
            }
        }
        return text
    }

    private static func labels(_ labels: Labels) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }.joined(separator: ",") + "}"
    }

    /// Whole numbers without a fraction; others as Swift prints a Double (shortest exact form).
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    private static func escapeHelp(_ text: String) -> String {
        text.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
    }

    private static func escapeLabelValue(_ text: String) -> String {
        text.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n")
    }
}

private extension String {
    /// Without Foundation: this module has no dependencies.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
