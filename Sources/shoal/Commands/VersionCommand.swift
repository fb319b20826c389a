import ArgumentParser
import ShoalAPI

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show the shoal version of this client and, when one answers, of the daemon."
    )

    func run() throws {
        print("Client:\n Version:\t\(Defaults.version)")
        if let info = try? HostOption.client().get("/info", as: DaemonInfo.self) {
            print("\nServer:\n Version:\t\(info.version)")
        }
    }
}
