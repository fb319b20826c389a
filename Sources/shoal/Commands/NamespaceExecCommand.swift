import ArgumentParser
import Netlink
import ShoalAPI

/// Hidden helper: joins pinned namespaces, then becomes the given command.
/// `shoal lab` starts each node's daemon through it.
struct NamespaceExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ns-exec",
        abstract: "Run a command inside pinned namespaces (used by shoal itself).",
        shouldDisplay: false
    )

    @Option(help: "Network namespace file to join.")
    var net: String?

    @Option(help: "UTS namespace file to join.")
    var uts: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty else { throw ShoalError("ns-exec needs a command", hint: "add -- CMD [ARGS...]") }
        do {
            try Namespace.execute(arguments, network: net, uts: uts)
        } catch let error as SystemError {
            throw ShoalError(error.description, hint: "check the namespace files and the command", exitCode: 127)
        }
    }
}
