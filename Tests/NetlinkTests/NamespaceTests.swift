#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Testing
import TestSupport
@testable import Netlink

/// Real netlink calls in namespaces the test creates and removes itself;
/// the host's own links and routes are never touched.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct NamespaceTests {
    private let namespaces: ThrowawayNamespaces

    init() throws { namespaces = try ThrowawayNamespaces("shoal-netlink-test") }

    private func withNamespaces(_ names: [String], _ body: ([String]) throws -> Void) throws {
        try namespaces.with(names, body)
    }

    @Test func aNewNetworkNamespaceIsPinnedAndEmpty() throws {
        try withNamespaces(["a"]) { paths in
            let path = paths[0]
            #expect(Namespace.isPinned(at: path))
            #expect(try Namespace.identity(at: path) != Namespace.identity(at: "/proc/self/ns/net"))
            let links = try RouteSocket.open(inNamespace: path).linkNames()
            #expect(links == ["lo"])
        }
    }

    @Test func removingANamespaceUnpinsItAndDeletesTheFile() throws {
        try withNamespaces(["gone"]) { paths in
            try Namespace.remove(at: paths[0])
            #expect(!Namespace.isPinned(at: paths[0]))
            #expect(access(paths[0], F_OK) != 0)
            try Namespace.remove(at: paths[0])  // a second removal is not an error
        }
    }

    @Test func aPlainFileIsNotANamespace() throws {
        let path = "\(namespaces.folder)/plain"
        defer { unlink(path); rmdir(namespaces.folder) }
        close(open(path, O_CREAT | O_WRONLY, 0o600))
        #expect(!Namespace.isPinned(at: path))
    }

    @Test func bridgeVethAndAddressesAcrossTwoNamespaces() throws {
        try withNamespaces(["switch", "node"]) { paths in
            let switchSocket = try RouteSocket.open(inNamespace: paths[0])
            try switchSocket.addBridge(named: "testbr")
            try switchSocket.setUp("testbr")
            try switchSocket.addVethPair(named: "testport", peerName: "eth0", peerNamespace: paths[1])
            try switchSocket.setMaster(of: "testport", to: "testbr")
            try switchSocket.setUp("testport")
            #expect(Set(try switchSocket.linkNames()).isSuperset(of: ["testbr", "testport"]))
            #expect(try switchSocket.index(of: "testbr") > 0)

            let nodeSocket = try RouteSocket.open(inNamespace: paths[1])
            #expect(try nodeSocket.linkNames().contains("eth0"))
            let address = try #require(IPv4Network("192.0.2.10/24"))
            try nodeSocket.addAddress(address, to: "eth0")
            try nodeSocket.setUp("eth0")
            let addresses = try nodeSocket.ipv4Addresses()
            #expect(addresses.contains { $0.link == "eth0" && $0.address == address })
            #expect(try nodeSocket.ipv4RouteDestinations().contains(try #require(IPv4Network("192.0.2.0/24"))))

            try switchSocket.deleteLink("testport")
            #expect(!(try nodeSocket.linkNames().contains("eth0")))  // the peer went with it
        }
    }

    @Test func netlinkErrorsNameTheOperation() throws {
        try withNamespaces(["errors"]) { paths in
            let socket = try RouteSocket.open(inNamespace: paths[0])
            #expect(throws: SystemError.self) { try socket.setUp("no-such-link") }
            #expect(throws: SystemError.self) { try socket.addBridge(named: "lo") }
        }
    }

    @Test func runExecutesTheBodyInsideTheNamespace() throws {
        try withNamespaces(["inside"]) { paths in
            let inside = try Namespace.run(inNetworkNamespace: paths[0]) {
                try Namespace.identity(at: "/proc/thread-self/ns/net")
            }
            #expect(inside == (try Namespace.identity(at: paths[0])))
        }
    }
}
