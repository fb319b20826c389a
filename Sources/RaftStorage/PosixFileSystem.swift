#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX calls.
public final class PosixFileSystem: FileSystem {
    /// Creates the file system accessor.
    public init() {}

    public func listDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw StorageError.io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func createDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw StorageError.io(operation: "mkdir", path: path, errno: errno)
        }
    }

    public func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.io(operation: "open", path: path, errno: errno) }
        defer { _ = Glibc.close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return contents }
            contents.append(contentsOf: buffer[0..<count])
        }
    }

    public func openForAppend(_ path: String) throws -> any AppendableFile {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.io(operation: "open", path: path, errno: errno) }
        return PosixFile(fd: fd, path: path)
    }

    public func truncateFile(_ path: String, to length: Int) throws {
        if truncate(path, off_t(length)) != 0 {
            throw StorageError.io(operation: "truncate", path: path, errno: errno)
        }
    }

    public func rename(_ source: String, to destination: String) throws {
        if Glibc.rename(source, destination) != 0 {
            throw StorageError.io(operation: "rename", path: source, errno: errno)
        }
    }

    public func removeFile(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw StorageError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    public func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.io(operation: "open", path: path, errno: errno) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 { throw StorageError.io(operation: "fsync", path: path, errno: errno) }
    }
}

/// A file descriptor opened for appending.
final class PosixFile: AppendableFile {
    private var fd: Int32
    private let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit {
        close()
    }

    func write(_ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "write", path: path, errno: errno)
            }
            written += count
        }
    }

    func sync() throws {
        if fdatasync(fd) != 0 { throw StorageError.io(operation: "fdatasync", path: path, errno: errno) }
    }

    func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }
}
