import ArgumentParser
import Daemon
import Logging
import ShoalAPI

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the shoal daemon in the foreground (what the systemd unit runs)."
    )

    @Option(help: "Directory for the node's state (created mode 0700).")
    var dataDir: String = Defaults.dataDirectory

    @Option(help: "Unix socket of the local API (mode 0600).")
    var socket: String = Defaults.socketPath

    @Option(help: "Address and port for cluster traffic.")
    var listenAddr: String = Defaults.listenAddress

    @Option(help: "Address other nodes reach this one at: an interface name or IP[:PORT].")
    var advertiseAddr: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        guard dataDir.hasPrefix("/"), socket.hasPrefix("/") else {
            throw ValidationError("--data-dir and --socket must be absolute paths")
        }
        guard ListenAddress(listenAddr) != nil else {
            throw ValidationError("--listen-addr must be ADDRESS:PORT, not '\(listenAddr)'")
        }
    }

    func run() throws {
        try requireRoot("shoal daemon")
        try Daemon.run(DaemonConfiguration(
            dataDirectory: dataDir, socketPath: socket, listenAddress: listenAddr,
            advertiseAddress: advertiseAddr, logLevel: Logger.Level(rawValue: logLevel) ?? .info))
    }
}

/// ADDRESS:PORT with a dotted-quad address and a port in 1...65535.
struct ListenAddress {
    let host: String
    let port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
        self.host = host
        self.port = port
    }
}
