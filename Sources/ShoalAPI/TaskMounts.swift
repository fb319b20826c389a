/// `--mount` as docker's long syntax takes it, for the two kinds a task
/// without an image can have: `type=bind,source=/host/path,target=/path[,readonly]`
/// and `type=tmpfs,target=/path[,tmpfs-size=64m][,readonly]`.
public struct TaskMount: Equatable, Sendable {
    public enum Kind: String, Sendable { case bind, tmpfs }

    public var kind: Kind
    /// The host path of a bind mount; nil for tmpfs.
    public var source: String?
    public var target: String
    public var readOnly: Bool
    /// tmpfs only: its size in bytes (nil: the kernel's default, half the memory).
    public var tmpfsSize: Int?

    public init(kind: Kind, source: String? = nil, target: String, readOnly: Bool = false, tmpfsSize: Int? = nil) {
        self.kind = kind
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.tmpfsSize = tmpfsSize
    }

    /// Parses docker's syntax (`src`, `dst`/`destination`, `ro` as docker's
    /// aliases); the first problem is the error.
    public init(parsing text: String) throws(ShoalError) {
        func refuse(_ problem: String) -> ShoalError {
            ShoalError("invalid --mount \"\(text.prefix(128))\": \(problem)",
                       hint: "use type=bind,source=/path,target=/path[,readonly] or type=tmpfs,target=/path[,tmpfs-size=64m]")
        }
        guard text.utf8.count <= 4096, !text.utf8.contains(0) else { throw refuse("too long, or holds a NUL byte") }
        var kind: Kind?
        var source: String?
        var target: String?
        var readOnly = false
        var tmpfsSize: Int?
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].lowercased()
            let value = parts.count == 2 ? String(parts[1]) : nil
            switch (key, value) {
            case ("type", let value?):
                guard let known = Kind(rawValue: value) else { throw refuse("type \(value) is not bind or tmpfs (shoal has no volumes)") }
                kind = known
            case ("source", let value?), ("src", let value?): source = value
            case ("target", let value?), ("dst", let value?), ("destination", let value?): target = value
            case ("readonly", nil), ("ro", nil): readOnly = true
            case ("readonly", let value?), ("ro", let value?):
                switch value.lowercased() {
                case "true", "1": readOnly = true
                case "false", "0": readOnly = false
                default: throw refuse("\(key) takes true or false")
                }
            case ("tmpfs-size", let value?):
                guard let bytes = ByteSize.parse(value, range: 1 << 12...1 << 40) else {
                    throw refuse("tmpfs-size takes a size from 4k to 1t, e.g. 64m")
                }
                tmpfsSize = bytes
            default:
                throw refuse("unknown or incomplete field \"\(field.prefix(64))\"")
            }
        }
        guard let kind else { throw refuse("no type") }
        guard let target, Self.isPlainAbsolutePath(target), target != "/" else { throw refuse("the target must be an absolute path below /") }
        switch kind {
        case .bind:
            guard let source, Self.isPlainAbsolutePath(source) else { throw refuse("a bind mount needs an absolute source path") }
            guard tmpfsSize == nil else { throw refuse("tmpfs-size is for tmpfs mounts") }
        case .tmpfs:
            guard source == nil else { throw refuse("a tmpfs mount has no source") }
        }
        self.init(kind: kind, source: source, target: target, readOnly: readOnly, tmpfsSize: tmpfsSize)
    }

    /// The form `init(parsing:)` reads back, as the daemon stores it.
    public var text: String {
        var fields = ["type=\(kind.rawValue)"]
        if let source { fields.append("source=\(source)") }
        fields.append("target=\(target)")
        if readOnly { fields.append("readonly") }
        if let tmpfsSize { fields.append("tmpfs-size=\(tmpfsSize)") }
        return fields.joined(separator: ",")
    }

    /// Absolute, without `..` (a mount's place is what it says), no commas (they separate fields).
    private static func isPlainAbsolutePath(_ path: String) -> Bool {
        path.hasPrefix("/") && path.utf8.count <= 1024 && !path.contains(",")
            && !path.split(separator: "/").contains("..")
    }
}

/// `--user UID[:GID]`: numeric ids only (a task runs a host command; there is no image whose names to look up).
public struct TaskUser: Equatable, Sendable {
    public var uid: UInt32
    /// nil: the same as the uid, as docker's default group for a numeric user without an entry.
    public var gid: UInt32?

    public init(uid: UInt32, gid: UInt32? = nil) {
        self.uid = uid
        self.gid = gid
    }

    public init(parsing text: String) throws(ShoalError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        // 2^32-1 is "no id" to the kernel.
        func id(_ part: Substring) -> UInt32? { UInt32(part).flatMap { $0 == UInt32.max ? nil : $0 } }
        guard let uid = id(parts[0]), parts.count == 1 || id(parts[1]) != nil else {
            throw ShoalError("invalid --user \"\(text.prefix(64))\"", hint: "use a numeric UID or UID:GID, e.g. 1000:1000")
        }
        self.init(uid: uid, gid: parts.count == 2 ? id(parts[1]) : nil)
    }

    public var text: String { gid.map { "\(uid):\($0)" } ?? "\(uid)" }
}

/// Sizes as docker's flags take them: a number of bytes, or with k, m, g or t (powers of 1024).
public enum ByteSize {
    public static func parse(_ text: String, range: ClosedRange<Int>) -> Int? {
        let scales: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        var digits = text.lowercased()
        if digits.hasSuffix("b") { digits.removeLast() }
        var scale = 1
        if let last = digits.last, let found = scales[last] {
            scale = found
            digits.removeLast()
        }
        guard let number = Int(digits), number >= 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
        return !overflow && range.contains(bytes) ? bytes : nil
    }
}
