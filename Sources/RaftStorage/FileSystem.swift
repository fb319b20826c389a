/// The file operations the WAL needs, so tests can substitute a fault-injecting file system.
public protocol FileSystem: AnyObject {
    /// Names (not paths) of the entries in a directory.
    func listDirectory(_ path: String) throws -> [String]
    /// Creates a directory if it does not exist.
    func createDirectory(_ path: String) throws
    /// The whole contents of a file.
    func readFile(_ path: String) throws -> [UInt8]
    /// Opens a file for appending, creating it if needed.
    func openForAppend(_ path: String) throws -> any AppendableFile
    /// Cuts a file to `length` bytes.
    func truncateFile(_ path: String, to length: Int) throws
    /// Atomically renames a file.
    func rename(_ source: String, to destination: String) throws
    /// Deletes a file.
    func removeFile(_ path: String) throws
    /// Makes creations, renames and removals in a directory durable.
    func syncDirectory(_ path: String) throws
}

/// A file open for appending.
public protocol AppendableFile: AnyObject {
    /// Appends all of `bytes`.
    func write(_ bytes: [UInt8]) throws
    /// Makes everything written so far durable.
    func sync() throws
    /// Closes the file.
    func close()
}
