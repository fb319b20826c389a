import Dispatch

/// Runs a blocking call (a socket the test's own server answers) on a
/// dispatch thread and waits for it without holding a thread of Swift's
/// cooperative pool: that pool has one thread per core (two here), and the
/// server's router needs one to answer.
public func offTheCooperativePool<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Swift.Result { try body() }) }
    }
}
