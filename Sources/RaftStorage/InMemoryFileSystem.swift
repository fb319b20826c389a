/// A file system in memory that models what survives a crash, for tests: file contents are
/// durable up to the last `sync`, and creations, renames and removals only once their directory
/// is synced. It can fail the Nth write or sync (tearing that write) and then produce the image
/// a restarted process would see.
public final class InMemoryFileSystem: FileSystem {
    final class FileData {
        var bytes: [UInt8] = []
        var syncedCount = 0
    }

    private var files: [String: FileData] = [:]
    private var durableFiles: [String: FileData] = [:]
    private var directories: Set<String> = []

    /// The 1-based write/sync operation at which to fail; nil never fails.
    public var failAtOperation: Int?
    /// Write and sync operations attempted so far.
    public private(set) var operationCount = 0
    /// Whether the injected fault fired; every later operation fails too.
    public private(set) var hasFailed = false

    /// Creates an empty file system.
    public init() {}

    /// What a process restarted after a crash now would see. Unsynced bytes of each surviving
    /// file are kept only up to `unsyncedBytesKept` (a torn write keeps a prefix).
    public func crashImage(unsyncedBytesKept: Int = 0) -> InMemoryFileSystem {
        let image = InMemoryFileSystem()
        image.directories = directories
        for (path, data) in durableFiles {
            let copy = FileData()
            let kept = min(data.bytes.count, data.syncedCount + max(0, unsyncedBytesKept))
            copy.bytes = Array(data.bytes[0..<kept])
            copy.syncedCount = kept
            image.files[path] = copy
            image.durableFiles[path] = copy
        }
        return image
    }

    /// Overwrites one byte of a file in place (for corruption tests).
    public func corrupt(_ path: String, at offset: Int) {
        guard let data = files[path], offset < data.bytes.count else { return }
        data.bytes[offset] ^= 0xFF
    }

    /// Creates or replaces a file with `bytes`, durably (for tests that craft damaged files).
    public func setContents(_ path: String, _ bytes: [UInt8]) {
        let data = FileData()
        data.bytes = bytes
        data.syncedCount = bytes.count
        files[path] = data
        durableFiles[path] = data
    }

    /// The current contents of a file, if it exists.
    public func contents(of path: String) -> [UInt8]? {
        files[path]?.bytes
    }

    /// Counts a write or sync and fails it if it is the chosen one.
    func checkFault(_ what: String) throws {
        if hasFailed { throw StorageError.injectedFault("\(what) after failure") }
        operationCount += 1
        if operationCount == failAtOperation {
            hasFailed = true
            throw StorageError.injectedFault("\(what) at operation \(operationCount)")
        }
    }

    public func listDirectory(_ path: String) throws -> [String] {
        let prefix = path + "/"
        return files.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }
            .map { String($0.dropFirst(prefix.count)) }
    }

    public func createDirectory(_ path: String) throws {
        directories.insert(path)
    }

    public func readFile(_ path: String) throws -> [UInt8] {
        guard let data = files[path] else { throw StorageError.io(operation: "open", path: path, errno: 2) }
        return data.bytes
    }

    public func openForAppend(_ path: String) throws -> any AppendableFile {
        if hasFailed { throw StorageError.injectedFault("open after failure") }
        let data = files[path] ?? FileData()
        files[path] = data
        return InMemoryFile(data: data, fileSystem: self)
    }

    public func truncateFile(_ path: String, to length: Int) throws {
        guard let data = files[path] else { throw StorageError.io(operation: "truncate", path: path, errno: 2) }
        if length < data.bytes.count { data.bytes.removeSubrange(length...) }
        data.syncedCount = min(data.syncedCount, length)
    }

    public func rename(_ source: String, to destination: String) throws {
        if hasFailed { throw StorageError.injectedFault("rename after failure") }
        guard let data = files.removeValue(forKey: source) else {
            throw StorageError.io(operation: "rename", path: source, errno: 2)
        }
        files[destination] = data
    }

    public func removeFile(_ path: String) throws {
        if hasFailed { throw StorageError.injectedFault("remove after failure") }
        files[path] = nil
    }

    public func syncDirectory(_ path: String) throws {
        try checkFault("sync directory \(path)")
        let prefix = path + "/"
        func inDirectory(_ file: String) -> Bool {
            file.hasPrefix(prefix) && !file.dropFirst(prefix.count).contains("/")
        }
        for name in durableFiles.keys where inDirectory(name) { durableFiles[name] = nil }
        for (name, data) in files where inDirectory(name) { durableFiles[name] = data }
    }
}

/// A handle to an in-memory file.
final class InMemoryFile: AppendableFile {
    private let data: InMemoryFileSystem.FileData
    private let fileSystem: InMemoryFileSystem

    init(data: InMemoryFileSystem.FileData, fileSystem: InMemoryFileSystem) {
        self.data = data
        self.fileSystem = fileSystem
    }

    func write(_ bytes: [UInt8]) throws {
        if fileSystem.hasFailed { throw StorageError.injectedFault("write after failure") }
        do {
            try fileSystem.checkFault("write")
        } catch {
            // A failed write may still have reached the page cache partly.
            data.bytes.append(contentsOf: bytes.prefix(bytes.count / 2))
            throw error
        }
        data.bytes.append(contentsOf: bytes)
    }

    func sync() throws {
        try fileSystem.checkFault("sync")
        data.syncedCount = data.bytes.count
    }

    func close() {}
}
