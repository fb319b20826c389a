import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import Transport

@Suite struct RateLimitedWarningsTests {
    /// Keeps every message logged through it.
    struct Recorder: LogHandler {
        let lines: NIOLockedValueBox<[String]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.withLockedValue { $0.append(event.message.description) }
        }
    }

    @Test func aFloodOfOneWarningIsLoggedOnceThenCounted() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "warnings-test", factory: { _ in Recorder(lines: lines) })
        let warnings = RateLimitedWarnings(interval: .milliseconds(200))
        for i in 0..<1000 { warnings.warning("flood", "bad frame \(i)", logger: logger) }
        warnings.warning("other", "another kind", logger: logger)
        #expect(lines.withLockedValue { $0 } == ["bad frame 0", "another kind"])
        try await Task.sleep(for: .milliseconds(250))
        warnings.warning("flood", "bad frame 1000", logger: logger)
        #expect(lines.withLockedValue { $0 }.last == "bad frame 1000 (and 999 more like it since the last report)")
    }

    @Test func anOversizedSendIsDroppedAndLoggedWithItsKindAndSize() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        let transport = try Transport(credentials: TestPKI().credentials(nodeID: "node-a"), configuration: .init(maximumFrameBytes: 64),
                                      group: MultiThreadedEventLoopGroup.singleton,
                                      logger: Logger(label: "oversized-test", factory: { _ in Recorder(lines: lines) }),
                                      admits: { _ in true }, receive: { _, _ in })
        transport.setPeer("node-b", host: "127.0.0.1", port: 1)
        #expect(!transport.send(Frame(kind: 7, payload: [UInt8](repeating: 0, count: 100)), to: "node-b"))
        #expect(lines.withLockedValue { $0 }.contains("dropping a frame of kind 7 for node-b: 102 bytes, more than the limit of 64"))
        await transport.shutdown()
    }
}
