import Addressing
import NIOConcurrencyHelpers
import Netlink
import ShoalAPI

/// The node's way into the routing mesh, docker's ingress-sbox: a network
/// namespace of its own (pinned at `<data-dir>/networks/ingress_sbox.netns`)
/// with `eth0` on the ingress overlay, at the node's own address there, and
/// `eth1` on the gateway bridge, where the node sends its published ports.
/// Inside, each published port is balanced over the service's tasks on the
/// ingress network and leaves from the node's ingress address, so replies
/// come back through the same node.
///
/// Blocking netlink calls: use it from a thread that may block.
public final class IngressSandbox: Sendable {
    /// Where the node's published ports come in, and where they go out to the tasks.
    static let inbound = "eth1", overlay = "eth0"

    public let path: String
    /// What the sandbox was built with, and its address on the gateway bridge.
    private let built = NIOLockedValueBox<(network: OverlayNetwork, address: IPv4Network, gateway: IPv4Network)?>(nil)

    public init(dataDirectory: String) {
        path = "\(dataDirectory)/networks/ingress_sbox.netns"
    }

    /// Builds the sandbox (again when the network or the node's address on it
    /// changed, or when a pin is left from an earlier run); returns its address
    /// on the gateway bridge: where published ports are sent.
    public func ensure(network: OverlayNetwork, address: IPv4Network, overlay: OverlayDriver, bridge: GatewayBridge) throws -> IPv4Address {
        try built.withLockedValue { built in
            if let current = built, current.network == network, current.address == address, Namespace.isPinned(at: path) {
                return current.gateway.address
            }
            if let gateway = built?.gateway { bridge.release(gateway) }
            built = nil
            try Namespace.remove(at: path)
            try FileSystem.makeDirectory(overlay.directory, mode: 0o700)
            try Namespace.create(.network, at: path)
            do {
                try overlay.attach(taskID: "ingress-sbox", namespace: path, to: [OverlayAttachment(network: network, address: address)])
                let gateway = try bridge.attach(namespace: path, linkName: "vethingress0", position: 1)
                built = (network, address, gateway)
                return gateway.address
            } catch {
                try? Namespace.remove(at: path)
                throw error
            }
        }
    }

    /// Makes the sandbox balance exactly `ports` with `backend`.
    public func balance(_ ports: [IngressPort], with backend: LoadBalancerBackend) throws {
        try backend.balanceIngress(inNamespace: path, inbound: Self.inbound, overlayBridge: Self.overlay, ports)
    }

    /// Takes the sandbox down (its links go with its namespace).
    public func remove(bridge: GatewayBridge?) {
        built.withLockedValue { built in
            if let gateway = built?.gateway { bridge?.release(gateway) }
            built = nil
            try? Namespace.remove(at: path)
        }
    }
}
