import ArgumentParser
import Lab
import ShoalAPI

struct LabStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a lab node's daemon again after it stopped or was killed."
    )

    @Argument(help: "The lab node, e.g. lab-2.")
    var node: String

    func run() throws {
        try requireRoot("shoal lab start")
        let pid = try Lab.start(node: node, executable: try DaemonLauncher.currentExecutable())
        print("Node \(node) is running (pid \(pid)).")
    }
}
