import Addressing

/// The ranges every value a user or a peer can send must fall in. The CLI,
/// the local API and the agent check against these same ranges, so nothing
/// the CLI refuses gets in another way.
public enum Limits {
    /// `init --heartbeat-period`, in seconds.
    public static let heartbeatPeriodSeconds: ClosedRange<Double> = 0.1...60
    /// Durations such as `--restart-delay`, in seconds (a week at most).
    public static let durationSeconds: ClosedRange<Double> = 0...(7 * 24 * 3600)
    /// `--restart-max-attempts` (0: no limit).
    public static let restartMaxAttempts: ClosedRange<Int> = 0...1_000_000
    /// `service logs --tail`, in lines.
    public static let logTailLines: ClosedRange<Int> = 0...100_000
    /// Prefix lengths an overlay network's subnet may have: room for a gateway and a task at least.
    public static let networkPrefixLengths: ClosedRange<Int> = 8...30
    /// How many overlay networks one service is attached to.
    public static let networksPerService: ClosedRange<Int> = 0...16
    /// How many ports one service publishes.
    public static let portsPerService: ClosedRange<Int> = 0...64
    /// VXLAN ids (24 bits; 0 is not one).
    public static let vxlanIDs: ClosedRange<UInt32> = 1...0xFF_FFFF
    /// `--label` on a network: how many, and how long keys and values may be.
    public static let labelsPerObject = 64
    public static let labelKeyBytes: ClosedRange<Int> = 1...128
    public static let labelValueBytes = 1024

    /// Whether `labels` are within the limits above.
    public static func labelsFit(_ labels: [String: String]) -> Bool {
        labels.count <= labelsPerObject
            && labels.allSatisfy { labelKeyBytes.contains($0.key.utf8.count) && $0.value.utf8.count <= labelValueBytes }
    }
    /// Byte offsets into a task's output (`service logs` cursors).
    public static let logOffset: ClosedRange<Int> = 0...Int(Int64.max)

    /// Whether `text` is a plain token a peer may put in the store: 1 to
    /// `maximumBytes` bytes of printable ASCII, no spaces (addresses, hostnames).
    public static func isPlainToken(_ text: String, maximumBytes: Int) -> Bool {
        !text.isEmpty && text.utf8.count <= maximumBytes && !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f })
    }

    /// The heartbeat period to wait for, from a value that may come from an
    /// old log entry: out-of-range and non-finite values are clamped, never trapped on.
    public static func heartbeatPeriod(clamping seconds: Double) -> Duration {
        let safe = seconds.isFinite ? min(max(seconds, heartbeatPeriodSeconds.lowerBound), heartbeatPeriodSeconds.upperBound) : Defaults.heartbeatPeriodSeconds
        return .milliseconds(Int((safe * 1000).rounded()))
    }
}

/// Names users give services and networks: docker's rule.
public enum ObjectName {
    public static let maximumLength = 63

    /// Letters, digits, '-', '_' and '.', starting with a letter or digit.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber, name.count <= maximumLength else {
            return false
        }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// The one-line refusal of an invalid `kind` name.
    public static func problem(_ name: String, kind: String) -> String {
        "invalid \(kind) name \"\(name.prefix(maximumLength + 1))\": use letters, digits, '-', '_' and '.', starting with a letter or digit"
    }
}

/// Ids of swarm objects (nodes, services, tasks): 25 characters of
/// lowercase base 36, as `Base36.objectID()` makes them. Ids that name files
/// (`tasks/<id>/output.log`) are checked against this where they arrive.
public enum ObjectID {
    public static let length = 25

    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
    }
}

/// `init --default-addr-pool` and `--default-addr-pool-mask-length`, checked
/// alike by the CLI, the local API and the manager.
public enum AddressPools {
    /// The most pools a swarm takes.
    public static let maximumCount = 16
    /// Subnets cut from a pool: at most /29 (docker's bound), so each holds a gateway and a few tasks.
    public static let maskLengths = 8...29

    /// What is wrong with `pools` cut at `subnetPrefixLength`; nil when nothing is.
    public static func problem(_ pools: [IPv4Network], subnetPrefixLength: Int) -> String? {
        guard !pools.isEmpty, pools.count <= maximumCount else {
            return "invalid default address pools: give 1 to \(maximumCount) --default-addr-pool"
        }
        guard maskLengths.contains(subnetPrefixLength) else {
            return "invalid --default-addr-pool-mask-length \(subnetPrefixLength): use \(maskLengths.lowerBound) to \(maskLengths.upperBound)"
        }
        for (index, pool) in pools.enumerated() {
            guard pool.isNetwork else { return "invalid default address pool \(pool): use \(pool.network)" }
            guard pool.prefixLength <= subnetPrefixLength else {
                return "invalid default address pool \(pool): it is smaller than the subnets cut from it (/\(subnetPrefixLength)); give a larger pool or a longer --default-addr-pool-mask-length"
            }
            if let other = pools[..<index].first(where: { $0.overlaps(pool) }) {
                return "invalid default address pools: \(pool) overlaps \(other)"
            }
        }
        return nil
    }
}
