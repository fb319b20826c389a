import ShoalAPI

/// Where a lab keeps its files: one directory per lab under the lab root
/// (`SHOAL_LAB_ROOT`, default /var/lib/shoal-lab), one per node inside it.
public struct LabLayout: Sendable {
    public let root: String
    public let name: String

    public init(name: String, root: String) {
        self.root = root
        self.name = name
    }

    public var directory: String { "\(root)/\(name)" }
    public var stateFile: String { "\(directory)/state.json" }
    public var switchNamespace: String { "\(directory)/switch.netns" }

    public func nodeName(_ index: Int) -> String { "\(name)-\(index)" }
    public func nodeDirectory(_ node: String) -> String { "\(directory)/nodes/\(node)" }
    public func networkNamespace(_ node: String) -> String { "\(nodeDirectory(node))/net.ns" }
    public func utsNamespace(_ node: String) -> String { "\(nodeDirectory(node))/uts.ns" }
    public func dataDirectory(_ node: String) -> String { "\(nodeDirectory(node))/data" }
    public func socketPath(_ node: String) -> String { "\(nodeDirectory(node))/shoal.sock" }
    /// The switch-side end of a node's cable, in the switch namespace.
    public func switchPort(_ index: Int) -> String { "shport\(index)" }
    public static let switchBridge = "shswitch"
    /// The node-side end of its cable, inside the node's namespace.
    public static let nodeInterface = "eth0"
}
