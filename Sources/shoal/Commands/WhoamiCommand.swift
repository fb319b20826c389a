import ArgumentParser
import NIOCore
import NIOPosix
import ShoalAPI
import Whoami

struct WhoamiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Serve HTTP answering with this host's name and addresses and the caller's (the tutorials' demo web app).")

    @Option(help: "TCP port to listen on.") var port: Int = 80
    @Option(help: "Address to listen on.") var address: String = "0.0.0.0"

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
    }

    func run() throws {
        let channel: any Channel
        do {
            channel = try WhoamiServer.start(host: address, port: port, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            throw ShoalError("cannot listen on \(address):\(port): \(error)", hint: "pick another --port")
        }
        print("whoami listening on \(address):\(port)")
        try channel.closeFuture.wait()
    }
}
