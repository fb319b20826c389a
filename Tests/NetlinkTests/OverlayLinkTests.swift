#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Testing
import TestSupport
@testable import Netlink

/// VXLAN devices, bridge ports, forwarding and neighbour entries, in
/// namespaces the test creates and removes itself.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct OverlayLinkTests {
    private let namespaces: ThrowawayNamespaces
    private let vtep = IPv4Address(0x6447_fa01)       // 100.71.250.1
    private let otherVTEP = IPv4Address(0x6447_fa02)  // 100.71.250.2

    init() throws { namespaces = try ThrowawayNamespaces("shoal-overlay-link-test") }

    private func withNamespaces(_ names: [String], _ body: ([String]) throws -> Void) throws {
        try namespaces.with(names, body)
    }

    @Test func aVXLANDeviceGoesStraightIntoAnotherNamespace() throws {
        try withNamespaces(["node", "network", "other"]) { paths in
            let node = try RouteSocket.open(inNamespace: paths[0])
            try node.addVXLAN(named: "vx0", vni: 4097, local: vtep, mtu: 1450, intoNamespace: paths[1])
            #expect(!(try node.linkNames().contains("vx0")))
            let vxlan = try #require(try RouteSocket.open(inNamespace: paths[1]).link(named: "vx0"))
            #expect(vxlan.kind == "vxlan")
            #expect(vxlan.vni == 4097)
            #expect(vxlan.local == vtep)
            #expect(vxlan.mtu == 1450)
            #expect(try RouteSocket.open(inNamespace: paths[1]).link(named: "no-such-link") == nil)

            // One device per VNI and port in an underlay namespace, wherever it went.
            let error = #expect(throws: SystemError.self) {
                try node.addVXLAN(named: "vx1", vni: 4097, local: vtep, mtu: 1450, intoNamespace: paths[2])
            }
            #expect(error?.reason.contains("VNI 4097 is already used") == true)
        }
    }

    @Test func vethEndsGetTheMTUAndThePeerItsMAC() throws {
        try withNamespaces(["switch", "task"]) { paths in
            let mac = MACAddress(derivedFrom: IPv4Address(0xac1e_0002))
            let switchSocket = try RouteSocket.open(inNamespace: paths[0])
            try switchSocket.addBridge(named: "br0", mtu: 1450)
            let bridge = try switchSocket.index(of: "br0")
            try switchSocket.addVethPair(named: "port0", peerName: "eth0", peerNamespace: paths[1], master: bridge,
                                         up: true, peerIndex: 2, mtu: 1450, peerMAC: mac)
            let port = try #require(try switchSocket.link(named: "port0"))
            #expect(port.mtu == 1450)
            #expect(port.master == bridge)
            #expect(try switchSocket.link(named: "br0")?.mtu == 1450)
            let peer = try #require(try RouteSocket.open(inNamespace: paths[1]).link(named: "eth0"))
            #expect(peer.index == 2)
            #expect(peer.mtu == 1450)
            #expect(peer.mac == mac)
        }
    }

    @Test func forwardingEntriesAreAddedListedMovedAndDeleted() throws {
        try withNamespaces(["fdb"]) { paths in
            let socket = try RouteSocket.open(inNamespace: paths[0])
            try socket.addVXLAN(named: "vx0", vni: 4098, local: vtep, mtu: 1450, intoNamespace: paths[0])
            try socket.setUp("vx0")
            let index = try socket.index(of: "vx0")
            let mac = MACAddress(derivedFrom: IPv4Address(0xac1e_0003))
            let entry = ForwardingEntry(mac: mac, vtep: otherVTEP)
            try socket.addForwardingEntry(entry, onIndex: index)
            try socket.addForwardingEntry(entry, onIndex: index)  // again: a no-op
            #expect(try socket.forwardingEntries(onIndex: index) == [entry])

            let moved = ForwardingEntry(mac: mac, vtep: vtep)
            try socket.addForwardingEntry(moved, onIndex: index)
            #expect(try socket.forwardingEntries(onIndex: index) == [moved])

            try socket.deleteForwardingEntry(moved, onIndex: index)
            #expect(try socket.forwardingEntries(onIndex: index).isEmpty)
        }
    }

    @Test func neighbourEntriesAreAddedListedAndDeleted() throws {
        try withNamespaces(["neighbours"]) { paths in
            let socket = try RouteSocket.open(inNamespace: paths[0])
            try socket.addVXLAN(named: "vx0", vni: 4099, local: vtep, mtu: 1450, intoNamespace: paths[0])
            try socket.setUp("vx0")
            let index = try socket.index(of: "vx0")
            let address = IPv4Address(0xac1e_0004)
            let entry = NeighbourEntry(address: address, mac: MACAddress(derivedFrom: address))
            try socket.addNeighbour(entry, onIndex: index)
            try socket.addNeighbour(entry, onIndex: index)
            // The device's own IPv6 multicast entries and the FDB do not show here.
            #expect(try socket.neighbours(onIndex: index) == [entry])
            #expect(try socket.forwardingEntries(onIndex: index).isEmpty)
            try socket.deleteNeighbour(entry, onIndex: index)
            #expect(try socket.neighbours(onIndex: index).isEmpty)
        }
    }

    @Test func isolatedBridgePortsReachTheBridgeButNotEachOther() throws {
        try withNamespaces(["switch", "a", "b"]) { paths in
            let switchSocket = try RouteSocket.open(inNamespace: paths[0])
            try switchSocket.addBridge(named: "br0")
            try switchSocket.addAddress(try #require(IPv4Network("192.0.2.1/24")), to: "br0")
            try switchSocket.setUp("br0")
            let bridge = try switchSocket.index(of: "br0")
            for (position, path) in paths.dropFirst().enumerated() {
                try switchSocket.addVethPair(named: "port\(position)", peerName: "eth0", peerNamespace: path, master: bridge,
                                             up: true, peerIndex: 2)
                let task = try RouteSocket.open(inNamespace: path)
                try task.setUp(index: 2, named: "eth0")
                try task.addAddress(try #require(IPv4Network("192.0.2.\(10 + position)/24")), toIndex: 2)
            }
            // Reaching: one answer of up to three will do (a fresh port can lose the first); not reaching: none of three.
            let ping = ["ping", "-c", "3", "-i", "0.2", "-W", "1", "-q"]
            #expect(runQuietly(inNetworkNamespace: paths[1], ping + ["192.0.2.11"]) == 0)

            for position in 0..<2 { try switchSocket.setBridgePortIsolated(index: try switchSocket.index(of: "port\(position)")) }
            // The ARP entry learnt above would not stop a ping; the bridge must.
            #expect(runQuietly(inNetworkNamespace: paths[1], ping + ["192.0.2.11"]) != 0)
            #expect(runQuietly(inNetworkNamespace: paths[1], ping + ["192.0.2.1"]) == 0)
        }
    }
}
