/// An error a user can cause or fix: printed as one line,
/// `shoal: <what went wrong>: <what to do>`, with a non-zero exit status.
public struct ShoalError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    /// An error with its remedy: "what went wrong: what to do".
    public init(_ what: String, hint: String, exitCode: Int32 = 1) {
        self.init("\(what): \(hint)", exitCode: exitCode)
    }

    public var description: String { message }
}
