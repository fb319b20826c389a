// swift-tools-version:6.0
import PackageDescription

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
            dependencies: [
                "ShoalAPI", "Daemon", "Lab", "Whoami", "Agent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(name: "ShoalAPI"),
        .target(
            name: "Daemon",
            dependencies: [
                "ShoalAPI", "Manager", "Agent", "Netlink",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(name: "Lab", dependencies: ["ShoalAPI", "Netlink"]),
        .target(
            name: "Agent",
            dependencies: [
                "ClusterStore", "Netlink", "CShoalSystem", "ShoalAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ClusterStore",
            dependencies: [.product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
        .target(
            name: "Whoami",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Manager",
            dependencies: [
                "ClusterStore", "ClusterCA", "Raft", "RaftStorage", "RaftHost", "Transport", "ShoalAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(name: "Raft"),
        .target(name: "RaftStorage", dependencies: ["Raft"]),
        .target(
            name: "RaftHost",
            dependencies: [
                "Raft", "RaftStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "RaftBench",
            dependencies: [
                "Raft", "RaftStorage", "RaftHost", "Transport", "ClusterCA", "Daemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
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
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(name: "Netlink", dependencies: ["CNetlink", "CShoalSystem"]),
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        .target(name: "CShoalSystem"),
        .testTarget(name: "ShoalAPITests", dependencies: ["ShoalAPI"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink"]),
        .testTarget(
            name: "TransportTests",
            dependencies: [
                "Transport", "ClusterCA",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "RaftStorage"]),
        .testTarget(
            name: "RaftHostTests",
            dependencies: [
                "RaftHost", "Raft", "RaftStorage", "ShoalAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ClusterStoreTests",
            dependencies: ["ClusterStore", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
        .testTarget(
            name: "WhoamiTests",
            dependencies: ["Whoami", "ShoalAPI", .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        .testTarget(name: "ManagerTests", dependencies: ["Manager", "ClusterStore"]),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "ClusterStore", "Netlink", "ShoalAPI", .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
        .testTarget(name: "ClusterCATests", dependencies: ["ClusterCA"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Netlink"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon", "ShoalAPI", .product(name: "NIOPosix", package: "swift-nio")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
