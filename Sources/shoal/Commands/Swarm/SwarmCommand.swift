import ArgumentParser
import ShoalAPI

struct SwarmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm", abstract: "Manage the swarm.",
        discussion: "init, join, join-token and leave are also here, where docker's tutorials put them: 'shoal swarm init' is 'shoal init'.",
        subcommands: [InitCommand.self, JoinCommand.self, JoinTokenCommand.self, LeaveCommand.self, SwarmUpdateCommand.self])
}

struct SwarmUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update the swarm.")

    @Option(help: ArgumentHelp("Validity period for node certificates, e.g. 2160h0m0s or 1m.", discussion: CertExpiry.help))
    var certExpiry: String?

    func run() throws {
        let request = SwarmUpdateRequest(certExpirySeconds: try certExpiry.map(CertExpiry.seconds))
        let answer: MessageResponse = try SwarmClient.daemon(startingIfNeeded: false).post("/swarm/update", request)
        print(answer.message)
    }
}

/// `--cert-expiry` of `init` and `swarm update`, as docker takes it.
enum CertExpiry {
    static let defaultText = CertificateExpiry.text(CertificateExpiry.defaultSeconds)
    static let help = """
        Nodes renew their certificate at half its validity. Docker's minimum is 1h; shoal accepts down to 1m \
        so that tests can watch renewals. A new value applies to the certificates issued from then on.
        """

    static func seconds(_ text: String) throws -> Double {
        // Any length parses; `CertificateExpiry.problem` names the range, in the daemon's words.
        let seconds = try Durations.seconds(text, option: "--cert-expiry", range: 0...Double.greatestFiniteMagnitude)
        if let problem = CertificateExpiry.problem(seconds) { throw ShoalError(problem) }
        return seconds
    }
}
