#if canImport(Glibc)
import Glibc
#endif
import Netlink
import ShoalAPI
import Testing
@testable import Lab

@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"))
struct LabDownTests {
    @Test func downUnpinsTheOverlayNamespacesOfItsNodes() throws {
        var template = Array("/tmp/shoal-lab-down-test-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        let lab = Lab(name: "t", root: root)
        let networks = LabLayout(name: "t", root: root).dataDirectory("t-1") + "/networks"
        try FileSystem.makeDirectory(networks, mode: 0o700)
        let pin = networks + "/1-abcdefghij.netns"
        try Namespace.create(.network, at: pin)
        defer { try? Namespace.remove(at: pin); FileSystem.removeTree(root) }

        try lab.down()
        #expect(!Namespace.isPinned(at: pin))
        #expect(!FileSystem.exists(root))
    }
}
