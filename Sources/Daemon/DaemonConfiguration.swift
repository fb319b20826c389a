import Logging
import ShoalAPI

/// Everything `shoal daemon` is told by its flags; there is no config file.
public struct DaemonConfiguration: Sendable {
    public var dataDirectory: String
    public var socketPath: String
    public var listenAddress: String
    public var advertiseAddress: String?
    public var logLevel: Logger.Level

    public init(dataDirectory: String = Defaults.dataDirectory,
                socketPath: String = Defaults.socketPath,
                listenAddress: String = Defaults.listenAddress,
                advertiseAddress: String? = nil,
                logLevel: Logger.Level = .info) {
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath
        self.listenAddress = listenAddress
        self.advertiseAddress = advertiseAddress
        self.logLevel = logLevel
    }
}
