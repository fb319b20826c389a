import ArgumentParser
import ShoalAPI

/// The root command: a swarm-mode cluster in one binary.
struct Shoal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "Turn a few Linux machines into a swarm-mode cluster.",
        discussion: """
            Global option (before the command): -H, --host HOST picks the daemon to talk to: \
            a socket path, a unix:// URL, or a lab node name (also SHOAL_HOST). \
            Default: \(Defaults.socketPath).
            """,
        version: Defaults.version,
        subcommands: [
            DaemonCommand.self, InitCommand.self, JoinCommand.self, JoinTokenCommand.self, LeaveCommand.self, SwarmCommand.self,
            NodeCommand.self, ServiceCommand.self, RunCommand.self, ExecCommand.self, InspectCommand.self, NetworkCommand.self, DigCommand.self, LabCommand.self,
            WhoamiCommand.self, VersionCommand.self, InfoCommand.self, NamespaceExecCommand.self,
        ]
    )
}
