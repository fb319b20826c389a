import Addressing

/// Chooses the address a node tells its peers, as `docker swarm init` does:
/// an IP, an interface name (its IPv4 address), either with an optional
/// `:PORT`; or, when none is given, the one address this host has outside
/// loopback — several addresses on different interfaces need a choice.
public enum AdvertiseAddress {
    public struct InterfaceAddress: Sendable {
        public var interface: String
        public var address: String

        public init(interface: String, address: String) {
            self.interface = interface
            self.address = address
        }
    }

    public static func resolve(_ flag: String?, defaultPort: Int, interfaces: [InterfaceAddress]) throws(ManagerError) -> String {
        let candidates = interfaces.filter { $0.interface != "lo" && !$0.address.hasPrefix("127.") }
        guard let flag, !flag.isEmpty else {
            // One entry per address, in the order the interfaces came (the message names the first two).
            var seen = Set<String>()
            let distinct = candidates.filter { seen.insert($0.address).inserted }
            if distinct.count == 1, let only = distinct.first { return "\(only.address):\(defaultPort)" }
            if distinct.isEmpty {
                throw ManagerError("could not find an IP address to advertise: this system has no address outside loopback - specify one with --advertise-addr")
            }
            let listed = distinct.prefix(2).map { "\($0.address) on \($0.interface)" }.joined(separator: " and ")
            throw ManagerError("could not choose an IP address to advertise since this system has multiple addresses on different interfaces (\(listed)) - specify one with --advertise-addr")
        }
        let notAnAddress = ManagerError("advertise address must be a non-zero IP address or network interface (with optional port number), not \(flag)")
        let address: HostPort
        do throws(HostPort.ParseError) {
            address = try HostPort(parsing: flag, defaultPort: defaultPort)
        } catch {
            switch error {
            case .invalidPort: throw ManagerError("invalid --advertise-addr \(flag): the port must be a number from 1 to 65535")
            case .emptyHost: throw notAnAddress
            }
        }
        if let ip = IPv4Address(address.host), ip.value != 0 { return address.description }
        guard let match = interfaces.first(where: { $0.interface == address.host }) else { throw notAnAddress }
        return "\(match.address):\(address.port)"
    }
}

/// An error a user caused or can fix, with docker's wording where docker has one.
public struct ManagerError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    /// The HTTP status the local API answers with.
    public var status: Int

    public init(_ description: String, status: Int = 400) {
        self.description = description
        self.status = status
    }

    static let notInSwarm = ManagerError(
        "This node is not a swarm manager. Use \"shoal init\" or \"shoal join\" to connect this node to swarm and try again.",
        status: 503)
    static let workerNotManager = ManagerError(
        "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.",
        status: 503)
    static let noLeader = ManagerError(
        "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.",
        status: 503)
    static func notLeader(_ leaderAddress: String?) -> ManagerError {
        ManagerError("this manager is not the leader: run the command on the leader\(leaderAddress.map { " (\($0))" } ?? "")", status: 503)
    }
    static let alreadyInSwarm = ManagerError(
        "This node is already part of a swarm. Use \"shoal leave\" to leave this swarm and join another one.",
        status: 409)
}
