#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// Network namespaces a test makes, pinned in a folder of its own, and removes with the folder.
public struct ThrowawayNamespaces {
    /// Where the pins are; removed after `with`.
    public let folder: String

    public init(_ prefix: String) throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError.errno("mkdtemp") }
        folder = String(cString: made)
    }

    /// Runs `body` with the pins of new namespaces called `names`; removes them after.
    public func with(_ names: [String], _ body: ([String]) throws -> Void) throws {
        let paths = try create(names)
        defer { remove(paths) }
        try body(paths)
    }

    /// `with` for a body that awaits.
    public func with(_ names: [String], _ body: ([String]) async throws -> Void) async throws {
        let paths = try create(names)
        defer { remove(paths) }
        try await body(paths)
    }

    private func create(_ names: [String]) throws -> [String] {
        let paths = names.map { "\(folder)/\($0)" }
        do {
            for path in paths { try Namespace.create(.network, at: path) }
        } catch {
            remove(paths)
            throw error
        }
        return paths
    }

    private func remove(_ paths: [String]) {
        for path in paths { try? Namespace.remove(at: path) }
        rmdir(folder)
    }
}
