import Addressing
import ArgumentParser
import ShoalAPI

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Initialize a swarm.")

    @Option(help: "Address peers reach this node at: an IP or an interface name, with an optional :PORT.")
    var advertiseAddr: String?

    @Option(help: "Address the cluster transport listens on (ADDRESS:PORT, default 0.0.0.0:2377).")
    var listenAddr: String?

    @Flag(help: "Restart a manager that lost its quorum as a single-member cluster, keeping its state.")
    var forceNewCluster = false

    @Option(help: "Seconds between the heartbeats every node sends the managers; a node silent for three is Down.")
    var heartbeatPeriod: Double = Defaults.heartbeatPeriodSeconds

    @Option(help: ArgumentHelp("Validity period for node certificates, e.g. 2160h0m0s or 1m.", discussion: CertExpiry.help))
    var certExpiry = CertExpiry.defaultText

    @Option(help: "Default address pool in CIDR format, repeatable (default 10.0.0.0/8): where networks take their subnets.")
    var defaultAddrPool: [String] = []

    @Option(help: "Subnet length the default address pools are cut into (default 24).")
    var defaultAddrPoolMaskLength: Int = Defaults.addressPoolMaskLength

    func validate() throws {
        guard Limits.heartbeatPeriodSeconds.contains(heartbeatPeriod) else {
            throw ValidationError("--heartbeat-period must be between 0.1 and 60 seconds")
        }
        if let problem = AddressPools.problem(try addressPools(), subnetPrefixLength: defaultAddrPoolMaskLength) {
            throw ValidationError(problem)
        }
    }

    /// `--default-addr-pool` as networks; the default when none is given.
    private func addressPools() throws -> [IPv4Network] {
        guard !defaultAddrPool.isEmpty else { return Defaults.addressPools }
        return try defaultAddrPool.map { text in
            guard let pool = IPv4Network(text) else {
                throw ValidationError("invalid --default-addr-pool \(text): use a network in CIDR form, e.g. 10.20.0.0/16")
            }
            return pool
        }
    }

    func run() throws {
        let certExpirySeconds = try CertExpiry.seconds(certExpiry)
        let client = try SwarmClient.daemon(startingIfNeeded: true)
        let answer: SwarmInitResponse = try client.post(
            "/swarm/init", SwarmInitRequest(advertiseAddress: advertiseAddr, listenAddress: listenAddr,
                                            forceNewCluster: forceNewCluster, heartbeatPeriod: heartbeatPeriod,
                                            certExpirySeconds: certExpirySeconds, defaultAddressPools: try addressPools(),
                                            defaultAddressPoolMaskLength: defaultAddrPoolMaskLength))
        print("""
            Swarm initialized: current node (\(answer.nodeID)) is now a manager.

            To add a worker to this swarm, run the following command:

                shoal join --token \(answer.workerToken) \(answer.managerAddress)

            To add a manager to this swarm, run 'shoal join-token manager' and follow the instructions.

            """)
    }
}

struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "join", abstract: "Join a swarm as a node.")

    @Option(help: "The join token (shoal join-token worker|manager on a manager shows it).")
    var token: String

    @Option(help: "Address peers reach this node at: an IP or an interface name, with an optional :PORT.")
    var advertiseAddr: String?

    @Option(help: "Address the cluster transport listens on (ADDRESS:PORT, default 0.0.0.0:2377).")
    var listenAddr: String?

    @Argument(help: "A manager's address, HOST[:PORT].")
    var manager: String

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: true)
        let answer: SwarmJoinResponse = try client.post(
            "/swarm/join", SwarmJoinRequest(token: token, remoteAddress: manager,
                                            advertiseAddress: advertiseAddr, listenAddress: listenAddr))
        print("This node joined a swarm as a \(answer.role).")
    }
}

struct JoinTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "join-token", abstract: "Manage join tokens.")

    @Argument(help: "worker or manager") var role: String
    @Flag(name: .shortAndLong, help: "Only display the token.") var quiet = false
    @Flag(help: "Rotate the join token.") var rotate = false

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let answer: JoinTokenResponse = try client.get("/swarm/join-token", query: ["role": role].merging(rotate ? ["rotate": "1"] : [:]) { $1 })
        if rotate { print("Successfully rotated \(answer.role) join token.\n") }
        if quiet {
            print(answer.token)
            return
        }
        print("""
            To add a \(answer.role) to this swarm, run the following command:

                shoal join --token \(answer.token) \(answer.managerAddress)

            """)
    }
}

/// The daemon a swarm command talks to; `init` and `join` start one in the
/// background when none answers on the default socket.
enum SwarmClient {
    static func daemon(startingIfNeeded: Bool) throws -> APIClient {
        let client = try HostOption.client()
        guard !client.ping() else { return client }
        guard startingIfNeeded, client.socketPath == Defaults.socketPath else {
            throw ShoalError("no shoal daemon answers on \(client.socketPath)",
                             hint: "start it with 'systemctl start shoal' or 'shoal daemon'")
        }
        try requireRoot("starting the shoal daemon")
        try FileSystem.makeDirectory(Defaults.dataDirectory, mode: 0o700)
        _ = try DaemonLauncher(arguments: [try DaemonLauncher.currentExecutable(), "daemon"],
                               socketPath: client.socketPath,
                               logPath: "\(Defaults.dataDirectory)/\(Defaults.daemonLogName)").start()
        return client
    }
}

struct LeaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leave", abstract: "Leave the swarm.")
    @Flag(name: .shortAndLong, help: "Force this node to leave the swarm, ignoring warnings.") var force = false

    func run() throws {
        let answer: MessageResponse = try SwarmClient.daemon(startingIfNeeded: false)
            .post("/swarm/leave", NodeChangeRequest(node: "self", force: force))
        print(answer.message)
    }
}
