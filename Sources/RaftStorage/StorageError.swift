/// Why durable storage failed.
///
/// **Any error thrown by a writing call is fatal for the node**: the storage marks itself
/// failed and every later call throws `.failed`. The caller must not send the messages or apply
/// the entries of the `Ready` it was persisting; it must stop the node (in practice, exit the
/// process) and restart it from what `WAL.open` recovers. Nothing is ever reported as persisted
/// when it might not be.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// Stored data is damaged somewhere a crash cannot explain (not a torn tail).
    case corrupt(file: String, offset: Int, reason: String)
    /// An earlier write or sync failed; nothing more can be trusted to persist.
    case failed(String)
    /// A fault injected by `InMemoryFileSystem`.
    case injectedFault(String)
    /// The caller asked for something the log cannot represent (for example a gap).
    case invalidArgument(String)

    /// A one-line explanation naming the file and offset where relevant.
    public var description: String {
        switch self {
        case let .io(operation, path, errno): return "\(operation) \(path) failed: errno \(errno)"
        case let .corrupt(file, offset, reason): return "corrupt file \(file) at byte offset \(offset): \(reason)"
        case let .failed(cause): return "storage failed earlier and must not be used: \(cause)"
        case let .injectedFault(what): return "injected fault: \(what)"
        case let .invalidArgument(what): return "invalid argument: \(what)"
        }
    }
}
