#if canImport(Glibc)
import Glibc
#endif

/// Small file-system helpers shared by the daemon and the lab.
public enum FileSystem {
    /// `mkdir -p`; the last component gets `mode` even when it existed.
    public static func makeDirectory(_ path: String, mode: mode_t) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw ShoalError("cannot create \(prefix): \(String(cString: strerror(errno)))",
                                 hint: "check the path and run as root")
            }
        }
        guard chmod(path, mode) == 0 else {
            throw ShoalError("cannot set the mode of \(path): \(String(cString: strerror(errno)))",
                             hint: "run as root")
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Reads a whole file; nil when it cannot be read.
    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return count == 0 ? result : nil }
            result += buffer[..<count]
        }
    }

    /// Writes a file whole: to a temporary file, fsync'd, renamed, then its
    /// directory fsync'd. Every write-temp-then-rename of shoal goes through here.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ShoalError("cannot write \(temporary): \(String(cString: strerror(errno)))", hint: "run as root")
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                close(fd)
                throw ShoalError("cannot write \(temporary): \(String(cString: strerror(errno)))",
                                 hint: "check free disk space")
            }
            offset += written
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0, syncDirectory(containing: path) else {
            throw ShoalError("cannot write \(path): \(String(cString: strerror(errno)))", hint: "check free disk space")
        }
    }

    /// fsyncs the directory `path` is in, so a rename into it survives a crash.
    @discardableResult
    public static func syncDirectory(containing path: String) -> Bool {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    /// `rm -rf`, without following symbolic links. Missing paths are fine.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            list(path).forEach { removeTree(path + "/" + $0) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// The names in a directory, without "." and ".."; empty when it cannot be read.
    public static func list(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
