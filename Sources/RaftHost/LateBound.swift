import NIOConcurrencyHelpers

/// A reference set once, after the closures that read it were created — the
/// transport's receive closure needs the Raft host, which needs the transport.
public final class LateBound<Value: Sendable>: Sendable {
    private let box = NIOLockedValueBox<Value?>(nil)

    public init() {}

    public var value: Value? {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}
