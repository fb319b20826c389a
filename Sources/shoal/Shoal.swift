import ArgumentParser
import ShoalAPI

/// The root command: a swarm-mode cluster in one binary.
struct Shoal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "Turn a few Linux machines into a swarm-mode cluster.",
        discussion: """
            -H, --host (before the command) picks the daemon: a socket path, a unix:// URL, or a lab node name. \
            Default: \(Defaults.socketPath).
            """,
        version: Defaults.version,
        subcommands: [
            DaemonCommand.self, InitCommand.self, JoinCommand.self, JoinTokenCommand.self, LeaveCommand.self, SwarmCommand.self,
            NodeCommand.self, ServiceCommand.self, RunCommand.self, ExecCommand.self, InspectCommand.self, NetworkCommand.self,
            DigCommand.self, LabCommand.self, WhoamiCommand.self, VersionCommand.self, InfoCommand.self, CompletionCommand.self,
            NamespaceExecCommand.self,
        ]
    )

    /// Taken off the command line before parsing (`HostOption`); declared so
    /// help and the completion scripts know it, and complete after it.
    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("The daemon to talk to (also SHOAL_HOST).", valueName: "HOST"))
    var host: String?
}
