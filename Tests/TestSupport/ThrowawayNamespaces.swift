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
        let paths = names.map { "\(folder)/\($0)" }
        defer {
            for path in paths { try? Namespace.remove(at: path) }
            rmdir(folder)
        }
        for path in paths { try Namespace.create(.network, at: path) }
        try body(paths)
    }
}
