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
        .testTarget(name: "AvahiTests", dependencies: ["Avahi", "DNSSD", "LocalDomain", "Testbed"]),
    ]
)
