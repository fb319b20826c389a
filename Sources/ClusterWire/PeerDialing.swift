import Addressing
import Transport

extension Transport {
    /// Sends `frames` to the node `nodeID`, dialing it at `address`
    /// (HOST:PORT, as the store or the leader names it) when no link is up;
    /// returns how many were queued.
    @discardableResult
    public func send(_ frames: [Frame], to nodeID: String, at address: String) -> Int {
        if let peer = HostPort(address) { setPeer(nodeID, host: peer.host, port: peer.port) }
        return send(frames, to: nodeID)
    }

    @discardableResult
    public func send(_ frame: Frame, to nodeID: String, at address: String) -> Bool {
        send([frame], to: nodeID, at: address) == 1
    }
}
