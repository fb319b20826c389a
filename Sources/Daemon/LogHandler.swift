#if canImport(Glibc)
import Glibc
#endif
import Logging
import ShoalAPI

/// Writes one structured line per event to stderr, logfmt style:
/// `time=… level=info label=daemon msg="…" key=value`.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    /// The capped log file, when the daemon's stderr is one; stderr otherwise.
    private let file: RotatingLog?

    public init(label: String, level: Logger.Level, file: RotatingLog? = nil) {
        self.label = label
        self.logLevel = level
        self.file = file
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "time=\(Self.timestamp()) level=\(event.level) label=\(label) msg=\(Self.quoted(event.message.description))"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.quoted(merged[key]?.description ?? ""))"
        }
        if let file { file.append(Array((line + "\n").utf8)) } else { writeToStandardError(line + "\n") }
    }

    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }
        guard needsQuotes else { return value }
        let escaped = value.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"")
            .replacingOccurrences("\n", "\\n")
        return "\"\(escaped)\""
    }

    /// UTC, RFC 3339 with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let base = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let millis = now.tv_nsec / 1_000_000
        return base + "." + String(repeating: "0", count: millis < 10 ? 2 : millis < 100 ? 1 : 0) + "\(millis)Z"
    }
}

/// The daemon's stderr as a capped log: when it is a regular file (the lab,
/// `shoal init` and `2>daemon.log` put it there), that file rotates as
/// `limits` says, and stderr follows each new file so that even a crash
/// message lands in the current one. nil under systemd (stderr a socket or pipe).
func standardErrorLog(limits: RotatingLog.Limits) -> RotatingLog? {
    var opened = stat()
    guard fstat(STDERR_FILENO, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG else { return nil }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/fd/\(STDERR_FILENO)", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var named = stat()
    guard stat(path, &named) == 0, named.st_ino == opened.st_ino, named.st_dev == opened.st_dev else { return nil }
    return try? RotatingLog(path: path, limits: limits, mirroredDescriptor: STDERR_FILENO)
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
