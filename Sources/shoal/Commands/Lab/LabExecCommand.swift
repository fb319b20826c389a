import ArgumentParser
import Lab
import Netlink
import ShoalAPI

struct LabExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command inside a lab node's network namespace.",
        usage: "shoal lab exec NODE -- CMD [ARGS...]"
    )

    @Argument(help: "The lab node, e.g. lab-2.")
    var node: String

    @Argument(parsing: .captureForPassthrough, help: "The command to run and its arguments.")
    var command: [String] = []

    var arguments: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        guard !arguments.isEmpty else { throw ValidationError("missing command after the node name") }
    }

    func run() throws {
        try requireRoot("shoal lab exec")
        guard let found = Lab.node(named: node) else {
            throw ShoalError("no lab node named '\(node)'", hint: "see 'shoal lab ls' for the nodes")
        }
        do {
            try Namespace.execute(arguments, network: found.networkNamespace, uts: found.utsNamespace)
        } catch let error as SystemError {
            throw ShoalError(error.description, hint: "check the command name and that the lab is up", exitCode: 127)
        }
    }
}
