/// One metric as Prometheus exposes it: a name, its help line, its type and
/// its samples. Families are built fresh for every scrape from the daemon's
/// live state; nothing here keeps history.
public struct MetricFamily: Equatable, Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public var name: String
    public var help: String
    public var kind: Kind
    /// Counters and gauges: one value per label set.
    public var samples: [Sample]
    /// Histograms: one per label set.
    public var histograms: [(labels: Labels, histogram: Histogram)]

    public init(_ name: String, help: String, kind: Kind, samples: [Sample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
        histograms = []
    }

    public init(_ name: String, help: String, histogram: Histogram, labels: Labels = []) {
        self.name = name
        self.help = help
        kind = .histogram
        samples = []
        histograms = [(labels, histogram)]
    }

    /// A gauge of one value, without labels.
    public static func gauge(_ name: String, help: String, _ value: Double) -> MetricFamily {
        MetricFamily(name, help: help, kind: .gauge, samples: [Sample(value)])
    }

    /// A counter of one value, without labels.
    public static func counter(_ name: String, help: String, _ value: Double) -> MetricFamily {
        MetricFamily(name, help: help, kind: .counter, samples: [Sample(value)])
    }

    public static func == (lhs: MetricFamily, rhs: MetricFamily) -> Bool {
        lhs.name == rhs.name && lhs.help == rhs.help && lhs.kind == rhs.kind && lhs.samples == rhs.samples
            && lhs.histograms.map(\.labels) == rhs.histograms.map(\.labels) && lhs.histograms.map(\.histogram) == rhs.histograms.map(\.histogram)
    }
}

/// Label names and values, in the order they are printed.
public typealias Labels = [Label]

public struct Label: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct Sample: Equatable, Sendable {
    public var labels: Labels
    public var value: Double

    public init(_ value: Double, labels: Labels = []) {
        self.labels = labels
        self.value = value
    }
}

/// Observations counted into cumulative buckets, as Prometheus histograms are.
public struct Histogram: Equatable, Sendable {
    /// Upper bounds of the buckets, ascending; +Inf is implied.
    public let bounds: [Double]
    /// Observations per bucket (not cumulative); the last one is +Inf's.
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds.sorted()
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    /// Disk-sync latencies, from 100 µs to 4 s (swarmkit and etcd use such buckets for fsync).
    public static func syncLatency() -> Histogram {
        Histogram(bounds: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 4])
    }

    public mutating func observe(_ value: Double) {
        let bucket = bounds.firstIndex { value <= $0 } ?? bounds.count
        counts[bucket] += 1
        sum += value
        count += 1
    }

    /// (upper bound, observations at or below it), ending with +Inf.
    public var cumulativeBuckets: [(bound: Double, count: UInt64)] {
        var running: UInt64 = 0
        return zip(bounds + [.infinity], counts).map { bound, count in
            running += count
            return (bound, running)
        }
    }
}
