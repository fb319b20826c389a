import ArgumentParser

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Run several shoal nodes on this machine, each in its own network namespace.",
        subcommands: [LabUpCommand.self, LabListCommand.self, LabExecCommand.self, LabStartCommand.self, LabDownCommand.self]
    )
}

/// `--name`, shared by the lab commands that act on one lab.
struct LabNameOption: ParsableArguments {
    @Option(help: "Name of the lab; its nodes are NAME-1, NAME-2, …")
    var name: String = "lab"
}
