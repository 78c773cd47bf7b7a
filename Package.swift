// swift-tools-version: 6.1
//
// z2z — a zeroconf-to-zeroconf gateway. The module layout follows DESIGN.md: pure cores
// (DNSSD, Kademlia, Island, ...) with thin adapters (Avahi, Transport) and two executables.
import PackageDescription

let package = Package(
    name: "z2z",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "z2zd", targets: ["z2zd"]),
        .executable(name: "z2z", targets: ["z2z"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // MARK: DNS-SD model and the local link
        .target(name: "DNSSD"),
        .systemLibrary(
            name: "CAvahi",
            pkgConfig: "avahi-client",
            providers: [.apt(["libavahi-client-dev"])]
        ),
        .target(name: "LocalDomain", dependencies: ["DNSSD"]),
        .target(
            name: "Avahi",
            dependencies: [
                "CAvahi", "DNSSD", "LocalDomain",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: DHT (Kademlia core, UDP transport, virtual-time simulation)
        .target(
            name: "Kademlia",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Transport",
            dependencies: [
                "Kademlia",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Simulation",
            dependencies: ["Kademlia", .product(name: "HeapModule", package: "swift-collections")]
        ),

        // MARK: islands (election and the four stages)
        .target(name: "Island", dependencies: ["Kademlia", "DNSSD"]),

        // MARK: SIP (parser, redirect service, DNS-SD announcements; NIO server)
        .target(name: "SIP", dependencies: ["DNSSD"]),
        .target(
            name: "SIPServer",
            dependencies: [
                "SIP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: the gateway: rendezvous interface, export and import
        .target(name: "Rendezvous", dependencies: ["Kademlia"]),
        .target(
            name: "Gateway",
            dependencies: [
                "DNSSD", "LocalDomain", "Island", "Kademlia", "Rendezvous",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // MARK: executables
        .executableTarget(
            name: "z2zd",
            dependencies: [
                "Avahi", "DNSSD", "LocalDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "z2z",
            dependencies: [
                "Avahi", "DNSSD", "LocalDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "z2z-bench",
            dependencies: [
                "Kademlia", "Simulation", "Transport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        .executableTarget(
            name: "z2z-sip-bench",
            dependencies: [
                "SIP", "SIPServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: tests
        // The netns testbed driver used by the integration tests (Deploy/testbed does the work).
        .target(name: "Testbed", dependencies: ["DNSSD"], path: "Tests/Testbed"),
        .testTarget(
            name: "DNSSDTests",
            dependencies: ["DNSSD", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "LocalDomainTests", dependencies: ["LocalDomain", "DNSSD"]),
        .testTarget(
            name: "KademliaTests",
            dependencies: ["Kademlia", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "TransportTests",
            dependencies: [
                "Kademlia", "Transport", "z2z-bench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "SimulationTests", dependencies: ["Kademlia", "Simulation"]),
        .testTarget(name: "IslandTests", dependencies: ["Island", "Kademlia", "DNSSD"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "DNSSD", "LocalDomain", "Island", "Rendezvous", "Kademlia"]),
        .testTarget(name: "AvahiTests", dependencies: ["Avahi", "DNSSD", "LocalDomain"]),
        // Needs root: real avahi-daemons in network namespaces (Deploy/testbed).
        .testTarget(name: "AvahiIntegrationTests", dependencies: ["Avahi", "DNSSD", "LocalDomain", "Testbed"]),
        .testTarget(name: "TestbedTests", dependencies: ["Testbed"]),
        .testTarget(
            name: "SIPTests",
            dependencies: ["SIP", "DNSSD", .product(name: "PropertyBased", package: "swift-property-based")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SIPServerTests",
            dependencies: [
                "SIP", "SIPServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
