import Addressing

extension HostPort {
    /// A peer's HOST:PORT as the store, the leader or this node's identity names it.
    public init(peer address: String) throws(SwarmError) {
        guard let parsed = HostPort(address) else { throw SwarmError("invalid address \(address): use HOST:PORT") }
        self = parsed
    }
}
