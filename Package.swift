// swift-tools-version: 6.1
//
// z2z — a zeroconf-to-zeroconf gateway. The module layout follows DESIGN.md: pure cores
// (DNSSD, Kademlia, Island, ...) over shared value types (Primitives), with thin adapters
// (Avahi, Transport) and two executables.
import PackageDescription

let package = Package(
    name: "z2z",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "z2zd", targets: ["z2zd"]),
        .executable(name: "z2z", targets: ["z2z"]),
        .executable(name: "z2z-load", targets: ["z2z-load"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // Without the default "ConfigurationSupport" trait: apple/swift-configuration is not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-nio-ssh.git", from: "0.15.1"),
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
                "CAvahi", "DNSSD", "LocalDomain", "Primitives",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: shared value types: node ids, endpoints, time, record keys, network keys, byte I/O
        .target(name: "Primitives", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // MARK: DHT (Kademlia core, UDP transport, virtual-time simulation)
        .target(
            name: "Kademlia",
            dependencies: [
                "Primitives",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Transport",
            dependencies: [
                "Kademlia", "Primitives",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Simulation",
            dependencies: [
                "Kademlia", "Primitives", "Island", "DNSSD", "LocalDomain", "Rendezvous", "Gateway",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),

        // MARK: islands (election and the four stages)
        .target(name: "Island", dependencies: ["Primitives", "DNSSD"]),

        // MARK: SIP (parser, redirect service, DNS-SD announcements; NIO server)
        .target(name: "SIP", dependencies: ["DNSSD", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SIPServer",
            dependencies: [
                "SIP", "Primitives",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: the gateway: rendezvous interface, export and import
        .target(name: "Rendezvous", dependencies: ["Kademlia", "Primitives", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Gateway",
            dependencies: [
                "DNSSD", "LocalDomain", "Island", "Policy", "Primitives", "Rendezvous", "SIP",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The read side: events, metrics, status, services, explain and the SIP directory as
        // pure functions of the gateway machine's facts and view.
        .target(
            name: "GatewayReports",
            dependencies: [
                "DNSSD", "Gateway", "Island", "LocalDomain", "Policy", "Primitives", "Rendezvous", "SIP", "Z2ZAPI",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: daemon plumbing: configuration, policy, state directory, local HTTP API
        .target(name: "Policy", dependencies: ["DNSSD"]),
        .target(
            name: "Config",
            dependencies: [
                "Policy",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "StateStore",
            dependencies: ["Kademlia", "Primitives", "Island", "DNSSD", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(name: "Z2ZAPI", dependencies: ["Config", "Policy", "DNSSD", "LocalDomain"]),
        .target(
            name: "API",
            dependencies: [
                "Z2ZAPI", "Config", "Policy",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The native rendezvous engine: our Kademlia DHT behind the Rendezvous interface.
        .target(
            name: "DHTRendezvous",
            dependencies: ["Kademlia", "Primitives", "Rendezvous", "Transport", .product(name: "Logging", package: "swift-log")]
        ),

        // The OpenDHT rendezvous engine: libopendht-c (system library), a small C++ shim for
        // what its C API lacks (routing-table size, value ids), and the engine over both.
        .systemLibrary(
            name: "COpenDHT",
            pkgConfig: "opendht-c",
            providers: [.apt(["libopendht-c-dev"])]
        ),
        .target(name: "COpenDHTShim", linkerSettings: [.linkedLibrary("opendht")]),
        .target(
            name: "OpenDHTRendezvous",
            dependencies: ["COpenDHT", "COpenDHTShim", "Kademlia", "Primitives", "Rendezvous", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: the relay: an SSH tunnel between leaders that carries relayed TCP connections and UDP flows
        .target(
            name: "Relay",
            dependencies: [
                "DNSSD", "Island", "Kademlia", "Primitives", "Transport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSH", package: "swift-nio-ssh"),
            ]
        ),

        // MARK: the daemon's core: runs the gateway machine against Avahi, UDP and the rendezvous
        .target(
            name: "Daemon",
            dependencies: [
                "DNSSD", "LocalDomain", "Island", "Kademlia", "Primitives", "Rendezvous", "Gateway", "GatewayReports", "Transport", "DHTRendezvous", "Relay",
                "OpenDHTRendezvous", "Avahi", "StateStore", "Config", "Policy", "API", "Z2ZAPI", "SIP", "SIPServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: executables
        .executableTarget(
            name: "z2zd",
            dependencies: [
                "Daemon", "Config", "API",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "z2z-load",
            dependencies: [
                "DHTRendezvous", "DNSSD", "Gateway", "Island", "Kademlia", "Primitives", "Transport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "z2z",
            dependencies: [
                "Avahi", "DNSSD", "LocalDomain", "Z2ZAPI", "Config",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "z2z-bench",
            dependencies: [
                "Kademlia", "Primitives", "Simulation", "Transport", "Rendezvous", "DHTRendezvous", "OpenDHTRendezvous",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // The fault scenarios of RELIABILITY.md on real processes in the netns testbed; Deploy/faults runs it.
        .executableTarget(name: "z2z-faults", dependencies: ["Faults"]),

        .executableTarget(
            name: "z2z-sip-bench",
            dependencies: [
                "SIP", "SIPServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // Relay throughput and connect latency against a direct connection, on loopback.
        .executableTarget(
            name: "z2z-relay-bench",
            dependencies: [
                "Relay", "DNSSD", "Island", "Kademlia", "Primitives",
                .product(name: "Logging", package: "swift-log"),
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
        .testTarget(name: "PrimitivesTests", dependencies: ["Primitives"]),
        .testTarget(
            name: "KademliaTests",
            dependencies: ["Kademlia", "Primitives", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "TransportTests",
            dependencies: [
                "Testbed",
                "Kademlia", "Primitives", "Transport", "z2z-bench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RelayTests",
            dependencies: [
                "Testbed",
                "Relay", "DNSSD", "Island", "Kademlia", "Primitives",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSH", package: "swift-nio-ssh"),
            ]
        ),
        .testTarget(name: "SimulationTests", dependencies: ["Kademlia", "Primitives", "Simulation", "DNSSD"]),
        .testTarget(name: "IslandTests", dependencies: ["Island", "Primitives", "DNSSD"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "GatewayReports", "DNSSD", "LocalDomain", "Island", "Policy", "Rendezvous", "Primitives", "SIP", "Z2ZAPI",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "RendezvousTests", dependencies: ["Rendezvous", "Kademlia", "Primitives", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DHTRendezvousTests", dependencies: ["DHTRendezvous", "Rendezvous", "Kademlia", "Primitives", "Transport"]),
        .testTarget(name: "OpenDHTRendezvousTests", dependencies: ["OpenDHTRendezvous", "Rendezvous", "Kademlia", "Primitives"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "Gateway", "GatewayReports", "DNSSD", "LocalDomain", "Island", "Rendezvous", "Primitives", "Policy", "Z2ZAPI", "Relay",
                "Testbed",
            ]
        ),
        .testTarget(name: "AvahiTests", dependencies: ["Avahi", "DNSSD", "LocalDomain"]),
        // Needs root: real avahi-daemons in network namespaces (Deploy/testbed).
        .testTarget(name: "AvahiIntegrationTests", dependencies: ["Avahi", "DNSSD", "LocalDomain", "Testbed"]),
        .testTarget(name: "TestbedTests", dependencies: ["Testbed", "DNSSD"]),
        // Deploy/faults' scenarios over the testbed, and what they decide and measure (tested in FaultsTests).
        .target(
            name: "Faults",
            dependencies: ["Testbed", "DNSSD", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/Faults"
        ),
        .testTarget(name: "FaultsTests", dependencies: ["Faults", "Testbed", "DNSSD"]),
        .testTarget(name: "GatewayIntegrationTests", dependencies: ["Testbed", "Faults", "DNSSD", "Gateway", "z2zd", "z2z"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "DNSSD"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Policy", "DNSSD"]),
        .testTarget(name: "StateStoreTests", dependencies: ["StateStore", "Kademlia", "Primitives", "Island"]),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Z2ZAPI", "Config", "Policy", "DNSSD", "LocalDomain", "Testbed",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Runs the built z2z against a real API server on 127.0.0.1.
        .testTarget(name: "CLITests", dependencies: ["API", "Z2ZAPI", "Config", "Testbed", "z2z"]),
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
    ],
    // The OpenDHT shim (COpenDHTShim) includes OpenDHT's C++17 headers.
    cxxLanguageStandard: .cxx17
)
