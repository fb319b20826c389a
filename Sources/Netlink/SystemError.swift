#if canImport(Glibc)
import Glibc
#endif

/// A failed system or netlink call: what was attempted and why it failed.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    /// What was being done, e.g. "add address 10.0.0.1/24 to eth0".
    public let operation: String
    /// The reason the kernel or library gave.
    public let reason: String

    public init(_ operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    /// An error from the current `errno`.
    public static func errno(_ operation: String, _ code: Int32 = Glibc.errno) -> SystemError {
        SystemError(operation, reason: String(cString: strerror(code)))
    }

    public var description: String { "\(operation): \(reason)" }
}
