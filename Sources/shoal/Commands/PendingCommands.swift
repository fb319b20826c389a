import ArgumentParser
import ShoalAPI

/// Commands whose issue has not landed yet: listed in `--help`, and
/// saying so plainly when run.
protocol PendingCommand: ParsableCommand {
    var arguments: [String] { get }
}

extension PendingCommand {
    func run() throws {
        throw ShoalError("'shoal \(Self._commandName)' is not yet available in shoal \(Defaults.version)",
                         hint: "see the README for what works today")
    }
}

struct DigCommand: PendingCommand {
    static let configuration = CommandConfiguration(commandName: "dig", abstract: "Query the swarm's DNS (not yet available).")
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
}
