// swift-tools-version:6.0
import PackageDescription

/// Products of swift-nio, by name.
func nio(_ names: String...) -> [Target.Dependency] { names.map { .product(name: $0, package: "swift-nio") } }
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")

let package = Package(
    name: "shoal",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shoal", targets: ["shoal"]),
        .executable(name: "shoal-raft-bench", targets: ["RaftBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(
            name: "shoal",
            dependencies: ["Addressing", "ShoalAPI", "Daemon", "Lab", "Whoami", "Agent", "DNS", "NameServer", "GoTemplate", "Network", argumentParser]
                + nio("NIOCore", "NIOPosix")
        ),
        .target(name: "ShoalAPI", dependencies: ["Addressing", "GoTemplate"]),
        // docker's Go-template language for --format: pure, no dependencies.
        .target(name: "GoTemplate"),
        // Prometheus' text format and histograms: pure, no dependencies.
        .target(name: "Metrics"),
        .target(
            name: "Daemon",
            dependencies: ["Addressing", "ShoalAPI", "Manager", "Agent", "ClusterWire", "ClusterStore", "Network", "Netlink", "NameServer",
                           "Metrics", logging]
                + nio("NIOConcurrencyHelpers", "NIOCore", "NIOPosix", "NIOHTTP1")
        ),
        .target(name: "Lab", dependencies: ["Addressing", "ShoalAPI", "Netlink"]),
        .target(
            name: "Agent",
            dependencies: ["Addressing", "ClusterWire", "ClusterStore", "ClusterCA", "Transport", "Network", "Netlink", "CShoalSystem",
                           "DNS", "NameServer", "ShoalAPI", "Metrics", logging] + nio("NIOConcurrencyHelpers", "NIOCore")
        ),
        .target(
            name: "ClusterWire",
            dependencies: ["Addressing", "ClusterStore", "ClusterCA", "Transport", "ShoalAPI", logging,
                           .product(name: "X509", package: "swift-certificates")]
                + nio("NIOConcurrencyHelpers", "NIOCore")
        ),
        .target(name: "ClusterStore", dependencies: ["Addressing", "ShoalAPI"] + nio("NIOConcurrencyHelpers")),
        .target(name: "Whoami", dependencies: nio("NIOCore", "NIOPosix", "NIOHTTP1")),
        .target(
            name: "Manager",
            dependencies: ["Addressing", "ClusterWire", "ClusterStore", "ClusterCA", "Raft", "RaftStorage", "RaftHost", "Transport",
                           "ShoalAPI", "Metrics", logging]
                + nio("NIOCore", "NIOConcurrencyHelpers")
        ),
        .target(name: "Raft"),
        .target(name: "RaftStorage", dependencies: ["Raft"]),
        .target(
            name: "RaftHost",
            dependencies: ["Raft", "RaftStorage", "Metrics", logging] + nio("NIOCore", "NIOConcurrencyHelpers", "NIOPosix")
        ),
        .executableTarget(
            name: "RaftBench",
            dependencies: ["Addressing", "Raft", "RaftStorage", "RaftHost", "Transport", "ClusterCA", "Daemon", "ShoalAPI", argumentParser,
                           logging]
                + nio("NIOPosix")
        ),
        .target(
            name: "ClusterCA",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(
            name: "Transport",
            dependencies: [logging, nioSSL, .product(name: "X509", package: "swift-certificates")]
                + nio("NIOConcurrencyHelpers", "NIOCore", "NIOPosix", "NIOTLS")
        ),
        // IPv4 addresses, networks and HOST:PORT: plain values, no system libraries.
        .target(name: "Addressing"),
        .target(name: "Netlink", dependencies: ["Addressing", "CNetlink", "CShoalSystem"]),
        // The embedded DNS server's pure part: codec, the network-scoped responder, forwarding rules, dig.
        .target(name: "DNS", dependencies: ["Addressing"]),
        // The embedded DNS server's sockets: listeners in the tasks' namespaces, the upstream forwarder, dig's client.
        .target(name: "NameServer", dependencies: ["Addressing", "DNS", "Netlink", "Metrics"] + nio("NIOConcurrencyHelpers", "NIOCore", "NIOPosix")),
        // The node's side of task networking (the gateway bridge, overlay networks).
        .target(name: "Network", dependencies: ["Addressing", "Netlink", "ShoalAPI"] + nio("NIOConcurrencyHelpers")),
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        .target(name: "CShoalSystem"),
        .target(name: "TestSupport", dependencies: ["Netlink"], path: "Tests/TestSupport"),
        .testTarget(name: "ShoalAPITests", dependencies: ["ShoalAPI"]),
        .testTarget(name: "GoTemplateTests", dependencies: ["GoTemplate"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "AddressingTests", dependencies: ["Addressing"]),
        .testTarget(name: "DNSTests", dependencies: ["DNS", "Addressing", "TestSupport"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Addressing", "Netlink", "TestSupport"]),
        .testTarget(name: "NameServerTests", dependencies: ["Addressing", "DNS", "NameServer", "Netlink", "Metrics", "TestSupport"]
                        + nio("NIOPosix")),
        .testTarget(name: "NetworkTests", dependencies: ["Addressing", "Netlink", "Network", "TestSupport"]),
        .testTarget(
            name: "TransportTests",
            dependencies: ["Transport", "ClusterCA", "Raft", "TestSupport", nioSSL, logging]
                + nio("NIOCore", "NIOPosix", "NIOEmbedded", "NIOConcurrencyHelpers")
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "RaftStorage", "TestSupport"]),
        .testTarget(
            name: "RaftHostTests",
            dependencies: ["RaftHost", "Raft", "RaftStorage", "ShoalAPI", logging] + nio("NIOConcurrencyHelpers")
        ),
        .testTarget(name: "ClusterStoreTests", dependencies: ["ClusterStore", "Addressing"] + nio("NIOConcurrencyHelpers")),
        .testTarget(name: "WhoamiTests", dependencies: ["Whoami", "ShoalAPI"] + nio("NIOPosix", "NIOHTTP1")),
        .testTarget(
            name: "ManagerTests",
            dependencies: ["Manager", "ClusterWire", "ClusterStore", "ClusterCA", "Transport", "ShoalAPI", "Raft", "RaftHost", "Metrics",
                           "TestSupport", logging]
                + nio("NIOConcurrencyHelpers", "NIOCore", "NIOPosix")
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "ClusterWire", "ClusterStore", "CShoalSystem", "Netlink", "ShoalAPI", logging]
                + nio("NIOConcurrencyHelpers")
        ),
        .testTarget(name: "ClusterCATests", dependencies: ["ClusterCA"]),
        .testTarget(name: "LabTests", dependencies: ["Addressing", "Lab", "Netlink", "ShoalAPI"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon", "Agent", "ShoalAPI", "Manager", "ClusterWire", "ClusterStore", "ClusterCA", "Transport", "Raft",
                           "TestSupport", logging] + nio("NIOCore", "NIOPosix", "NIOConcurrencyHelpers")
        ),
    ],
    swiftLanguageModes: [.v6]
)
