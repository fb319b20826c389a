#if canImport(Glibc)
import Glibc
#endif

/// A service's `--limit-cpu`, `--limit-memory`, `--limit-pids`,
/// `--reserve-cpu` and `--reserve-memory`, as docker keeps them: CPUs in
/// billionths, memory in bytes, 0 for none.
public struct Resources: Codable, Equatable, Sendable {
    public var limitNanoCPUs: Int64
    public var limitMemoryBytes: Int64
    public var limitPids: Int64
    public var reservedNanoCPUs: Int64
    public var reservedMemoryBytes: Int64

    public init(limitNanoCPUs: Int64 = 0, limitMemoryBytes: Int64 = 0, limitPids: Int64 = 0, reservedNanoCPUs: Int64 = 0,
                reservedMemoryBytes: Int64 = 0) {
        self.limitNanoCPUs = limitNanoCPUs
        self.limitMemoryBytes = limitMemoryBytes
        self.limitPids = limitPids
        self.reservedNanoCPUs = reservedNanoCPUs
        self.reservedMemoryBytes = reservedMemoryBytes
    }

    public var hasLimits: Bool { limitNanoCPUs > 0 || limitMemoryBytes > 0 || limitPids > 0 }
    public var hasReservations: Bool { reservedNanoCPUs > 0 || reservedMemoryBytes > 0 }

    /// docker's floor for a memory limit: below it a task cannot even start.
    public static let minimumMemoryLimit: Int64 = 6 << 20
    /// 1 PiB, 1024 CPUs, the kernel's most pids: more is a typo, not a machine.
    public static let maximumMemoryBytes: Int64 = 1 << 50
    public static let maximumNanoCPUs: Int64 = 1024 * nanoCPUsPerCPU
    public static let maximumPids: Int64 = 1 << 22
    public static let nanoCPUsPerCPU: Int64 = 1_000_000_000

    /// What a daemon stores: each value in its range, the memory reservation within the limit.
    public func validate() throws(ShoalError) {
        try validateRanges()
        if limitMemoryBytes > 0 && reservedMemoryBytes > limitMemoryBytes {
            throw ShoalError("--reserve-memory \(ResourceUnits.memoryText(reservedMemoryBytes)) is above --limit-memory \(ResourceUnits.memoryText(limitMemoryBytes)): reserve at most the limit")
        }
    }

    /// Each value in its range, refused in one line.
    public func validateRanges() throws(ShoalError) {
        for (option, value, most) in [("--limit-cpu", limitNanoCPUs, Self.maximumNanoCPUs),
                                      ("--reserve-cpu", reservedNanoCPUs, Self.maximumNanoCPUs)] where !(0...most).contains(value) {
            throw ShoalError("invalid \(option) value \(ResourceUnits.cpuText(value)): use 0 to \(most / Self.nanoCPUsPerCPU) CPUs")
        }
        for (option, value) in [("--limit-memory", limitMemoryBytes), ("--reserve-memory", reservedMemoryBytes)]
        where !(0...Self.maximumMemoryBytes).contains(value) {
            throw ShoalError("invalid \(option) value \(value): use 0 to 1p bytes")
        }
        if limitMemoryBytes > 0 && limitMemoryBytes < Self.minimumMemoryLimit {
            throw ShoalError("invalid --limit-memory value \(ResourceUnits.memoryText(limitMemoryBytes)): the minimum memory limit allowed is 6MB")
        }
        guard (0...Self.maximumPids).contains(limitPids) else {
            throw ShoalError("invalid --limit-pids value \(limitPids): use 0 (no limit) to \(Self.maximumPids)")
        }
    }
}

extension Resources {
    /// `service inspect --pretty`'s Resources section, as docker prints it (nothing when there are none).
    public var prettyLines: [String] {
        guard hasLimits || hasReservations else { return [] }
        var lines = ["Resources:"]
        if hasReservations {
            lines.append(" Reservations:")
            if reservedNanoCPUs > 0 { lines.append("  CPU:\t\t\(ResourceUnits.cpuText(reservedNanoCPUs))") }
            if reservedMemoryBytes > 0 { lines.append("  Memory:\t\(ResourceUnits.memoryText(reservedMemoryBytes))") }
        }
        if hasLimits {
            lines.append(" Limits:")
            if limitNanoCPUs > 0 { lines.append("  CPU:\t\t\(ResourceUnits.cpuText(limitNanoCPUs))") }
            if limitMemoryBytes > 0 { lines.append("  Memory:\t\(ResourceUnits.memoryText(limitMemoryBytes))") }
        }
        if limitPids > 0 { lines.append("  PIDs:\t\t\(limitPids)") }
        return lines
    }
}

/// `service update`'s `--limit-*` and `--reserve-*`: nil leaves the service's value.
public struct ResourceChanges: Codable, Equatable, Sendable {
    public var limitNanoCPUs: Int64?
    public var limitMemoryBytes: Int64?
    public var limitPids: Int64?
    public var reservedNanoCPUs: Int64?
    public var reservedMemoryBytes: Int64?

    public init(limitNanoCPUs: Int64? = nil, limitMemoryBytes: Int64? = nil, limitPids: Int64? = nil,
                reservedNanoCPUs: Int64? = nil, reservedMemoryBytes: Int64? = nil) {
        self.limitNanoCPUs = limitNanoCPUs
        self.limitMemoryBytes = limitMemoryBytes
        self.limitPids = limitPids
        self.reservedNanoCPUs = reservedNanoCPUs
        self.reservedMemoryBytes = reservedMemoryBytes
    }

    public func applied(to resources: Resources) -> Resources {
        Resources(limitNanoCPUs: limitNanoCPUs ?? resources.limitNanoCPUs,
                  limitMemoryBytes: limitMemoryBytes ?? resources.limitMemoryBytes, limitPids: limitPids ?? resources.limitPids,
                  reservedNanoCPUs: reservedNanoCPUs ?? resources.reservedNanoCPUs,
                  reservedMemoryBytes: reservedMemoryBytes ?? resources.reservedMemoryBytes)
    }
}

/// What a node offers tasks: its CPUs and memory, as docker's node Description.Resources.
public struct NodeResources: Codable, Equatable, Sendable {
    public var nanoCPUs: Int64
    public var memoryBytes: Int64

    public init(nanoCPUs: Int64, memoryBytes: Int64) {
        self.nanoCPUs = nanoCPUs
        self.memoryBytes = memoryBytes
    }

    enum CodingKeys: String, CodingKey { case nanoCPUs = "NanoCPUs", memoryBytes = "MemoryBytes" }

    /// This machine's, as docker's node reports them: its online CPUs, MemTotal.
    public static var host: NodeResources {
        let cpus = max(1, Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let pages = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
        let meminfo = String(decoding: FileSystem.read("/proc/meminfo") ?? [], as: UTF8.self)
        return NodeResources(nanoCPUs: cpus * Resources.nanoCPUsPerCPU, memoryBytes: memoryTotal(meminfo: meminfo) ?? pages)
    }

    /// `MemTotal:` of /proc/meminfo, in bytes.
    static func memoryTotal(meminfo: String) -> Int64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kibibytes = Int64(fields[1]) else { return nil }
            return kibibytes * 1024
        }
        return nil
    }

    /// What a node may claim: at least a byte and a billionth, at most the limits a service may name.
    public var isValid: Bool {
        (1...Resources.maximumNanoCPUs).contains(nanoCPUs) && (1...Resources.maximumMemoryBytes).contains(memoryBytes)
    }
}

/// docker's units: memory as `32M`, `1g` or bytes; CPUs as a decimal, e.g. `0.5`.
public enum ResourceUnits {
    public static func memoryBytes(_ text: String, option: String) throws(ShoalError) -> Int64 {
        guard let bytes = ByteSize.parse(text, range: 0...Int(Resources.maximumMemoryBytes)) else {
            throw ShoalError("invalid \(option) value \(text.prefix(32)): use bytes or a size with k, m or g, e.g. 32M")
        }
        return Int64(bytes)
    }

    /// Decimal CPUs to billionths: at most nine decimals, as docker's.
    public static func nanoCPUs(_ text: String, option: String) throws(ShoalError) -> Int64 {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
              fraction.count <= 9, whole.count <= 4, let cpus = Int64(whole.isEmpty ? "0" : whole),
              let billionths = Int64(fraction + String(repeating: "0", count: 9 - fraction.count)) else {
            throw ShoalError("invalid \(option) value \(text.prefix(32)): use a number of CPUs with at most 9 decimals, e.g. 0.5")
        }
        return cpus * Resources.nanoCPUsPerCPU + billionths
    }

    /// Billionths of CPUs as docker prints them: `0.5`, `2`.
    public static func cpuText(_ nanoCPUs: Int64) -> String {
        let sign = nanoCPUs < 0 ? "-" : ""
        let magnitude = nanoCPUs.magnitude
        let whole = magnitude / UInt64(Resources.nanoCPUsPerCPU), fraction = magnitude % UInt64(Resources.nanoCPUsPerCPU)
        guard fraction > 0 else { return "\(sign)\(whole)" }
        return "\(sign)\(whole)." + decimalDigits(fraction, width: 9)
    }

    /// Bytes as docker prints them (its units.BytesSize): four significant digits and a binary unit, `32MiB`.
    public static func memoryText(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var size = Double(bytes)
        var unit = 0
        while size >= 1024, unit < units.count - 1 {
            size /= 1024
            unit += 1
        }
        return fourSignificantDigits(size) + units[unit]
    }

    /// Go's `%.4g` for a size from 0 to 1024: rounded to four significant digits, trailing zeros dropped.
    static func fourSignificantDigits(_ value: Double) -> String {
        guard value >= 1 else { return "0" }
        let decimals = max(0, 4 - String(Int64(value)).count)
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((value * Double(scale)).rounded())
        let whole = scaled / scale, fraction = scaled % scale
        guard fraction > 0 else { return "\(whole)" }
        return "\(whole)." + decimalDigits(fraction, width: decimals)
    }

    /// `fraction` as `width` decimals (zero-padded in front), its trailing zeros dropped.
    private static func decimalDigits<Number: BinaryInteger>(_ fraction: Number, width: Int) -> String {
        var digits = String(fraction)
        digits = String(repeating: "0", count: max(0, width - digits.count)) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return digits
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
