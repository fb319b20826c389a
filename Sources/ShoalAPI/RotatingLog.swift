#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An append-only log capped like docker's json-file driver: when `path`
/// would grow past `maximumBytes` it becomes `path.1` (`path.1` becomes
/// `path.2`, …) and at most `maximumFiles` files are kept.
///
/// Offsets are logical: bytes since the log began, across rotations. The
/// offset where `path` begins is kept in `path.start`, so a reader's offset
/// stays valid when files rotate or the daemon restarts.
public final class RotatingLog: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maximumBytes: Int
        public var maximumFiles: Int

        public init(maximumBytes: Int, maximumFiles: Int) {
            self.maximumBytes = max(maximumBytes, 1)
            self.maximumFiles = max(maximumFiles, 1)
        }

        /// docker's json-file `max-size=10m`, `max-file=3`.
        public static let standard = Limits(maximumBytes: 10 << 20, maximumFiles: 3)
    }

    private struct State: ~Copyable {
        var fd: Int32
        var size: Int
    }

    public let path: String
    public let limits: Limits
    /// A descriptor (2 for the daemon's stderr) kept pointing at the current file.
    private let mirroredDescriptor: Int32?
    private let state: Mutex<State>

    public init(path: String, limits: Limits, mirroredDescriptor: Int32? = nil) throws {
        self.path = path
        self.limits = limits
        self.mirroredDescriptor = mirroredDescriptor
        let fd = try Self.open(path)
        if let mirroredDescriptor { dup2(fd, mirroredDescriptor) }
        var info = stat()
        fstat(fd, &info)
        state = Mutex(State(fd: fd, size: Int(info.st_size)))
    }

    deinit { state.withLock { _ = close($0.fd) } }

    /// Appends `bytes`, rotating first when they would not fit. More than a
    /// file holds (a task's output read in one go) is spread over files, cut
    /// after a line where one ends in the room left, so no file outgrows the
    /// limit. A write that fails (a full disk) is dropped: logging never
    /// stops the caller.
    public func append(_ bytes: [UInt8]) {
        state.withLock { state in
            var rest = bytes[...]
            while !rest.isEmpty {
                if state.size > 0, state.size + rest.count > limits.maximumBytes { rotate(&state) }
                let room = limits.maximumBytes - state.size
                let piece = room > 0 ? Self.piece(of: rest, room: room) : rest  // rotation failed: keep to this file
                let written = Self.write(piece, to: state.fd)
                state.size += written
                guard written == piece.count else { return }
                rest = rest.dropFirst(written)
            }
        }
    }

    /// What of `bytes` goes in `room`: all of them if they fit, else up to the last line end there, else `room`
    /// bytes of a line longer than that.
    static func piece(of bytes: ArraySlice<UInt8>, room: Int) -> ArraySlice<UInt8> {
        guard bytes.count > room else { return bytes }
        let window = bytes.prefix(room)
        return window.lastIndex(of: UInt8(ascii: "\n")).map { bytes[...$0] } ?? window
    }

    /// Writes all of `bytes` unless a write fails; how many were written.
    private static func write(_ bytes: ArraySlice<UInt8>, to fd: Int32) -> Int {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.dropFirst(offset).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { break }
            offset += written
        }
        return offset
    }

    private func rotate(_ state: inout State) {
        let start = Self.startOffset(path) + state.size
        for index in stride(from: limits.maximumFiles - 1, through: 1, by: -1) {
            let from = index == 1 ? path : "\(path).\(index - 1)"
            rename(from, "\(path).\(index)")
        }
        if limits.maximumFiles == 1 { unlink(path) }
        unlink("\(path).\(limits.maximumFiles)")
        try? FileSystem.writeAtomically("\(path).start", Array(String(start).utf8))
        guard let fresh = try? Self.open(path) else { return }
        close(state.fd)
        state.fd = fresh
        state.size = 0
        if let mirroredDescriptor { dup2(fresh, mirroredDescriptor) }
    }

    private static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ShoalError("cannot open \(path): \(String(cString: strerror(errno)))", hint: "check the directory and run as root")
        }
        return fd
    }

    // MARK: Reading

    /// One file of a log, and the logical offset of its first byte.
    struct Segment {
        var path: String
        var start: Int
        var size: Int
        var end: Int { start + size }
    }

    /// The files of the log at `path`, oldest first.
    static func segments(_ path: String) -> [Segment] {
        var segments: [Segment] = []
        var start = startOffset(path)
        var index = 0
        while true {
            let file = index == 0 ? path : "\(path).\(index)"
            var info = stat()
            guard stat(file, &info) == 0 else { break }
            if index > 0 { start -= Int(info.st_size) }
            segments.insert(Segment(path: file, start: max(start, 0), size: Int(info.st_size)), at: 0)
            index += 1
        }
        return segments
    }

    private static func startOffset(_ path: String) -> Int {
        FileSystem.read("\(path).start").flatMap { Int(String(decoding: $0, as: UTF8.self)) }.map { max($0, 0) } ?? 0
    }

    /// The logical offsets the log at `path` holds now: from its oldest kept
    /// byte to its end.
    public static func range(_ path: String) -> Range<Int> {
        let segments = segments(path)
        guard let first = segments.first, let last = segments.last else { return 0..<0 }
        return first.start..<max(last.end, first.start)
    }

    /// At most `maximumBytes` bytes from logical `offset`, across files; an
    /// offset outside what the log holds is moved to its nearest end.
    /// Returns the bytes and the offset they start at.
    public static func read(_ path: String, from offset: Int, maximumBytes: Int) -> (bytes: [UInt8], start: Int) {
        let segments = segments(path)
        let held = range(path)
        let start = min(max(offset, held.lowerBound), held.upperBound)
        var bytes: [UInt8] = []
        for segment in segments where segment.end > start + bytes.count && bytes.count < maximumBytes {
            let from = start + bytes.count - segment.start
            let chunk = readFile(segment.path, at: max(from, 0), count: min(maximumBytes - bytes.count, segment.size - max(from, 0)))
            bytes += chunk
            if chunk.count < segment.size - max(from, 0) { break }  // shrank meanwhile: rotated under us
        }
        return (bytes, start)
    }

    private static func readFile(_ path: String, at offset: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var result = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = result[filled...].withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset + filled)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        return Array(result[..<filled])
    }
}
