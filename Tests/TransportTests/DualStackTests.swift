import Kademlia
import NIOCore
import Primitives
import Testbed
import Testing
import Transport

/// The DHT socket on the IPv6 wildcard serves IPv4 and IPv6 peers (an IPv6-only island has
/// nothing else), and the core sees an IPv4 peer as IPv4, never as `::ffff:a.b.c.d`.
struct DualStackTests {
    // MARK: addresses, pure

    @Test func anIPv4MappedAddressIsItsIPv4Address() throws {
        let mapped = try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 4000)
        #expect(Endpoint(mapped) == Endpoint(ipv4: 10, 1, 2, 3, port: 4000))
        let plain = try SocketAddress(ipAddress: "fd00:7:1::11", port: 4000)
        #expect(Endpoint(plain) == Endpoint(address: .v6(0xfd00_0007_0001_0000, 0x11), port: 4000))
        // Only ::ffff:0:0/96 is mapped; ::a.b.c.d (deprecated IPv4-compatible) and ::1 are IPv6.
        #expect(Endpoint(try SocketAddress(ipAddress: "::10.1.2.3", port: 1))?.address == .v6(0, 0x0a01_0203))
        #expect(Endpoint.Address.v6(0, 1).unmapped == .v6(0, 1))
    }

    @Test func fromTheIPv6WildcardAnIPv4EndpointIsSentToAsMapped() throws {
        let wildcard = try SocketAddress(ipAddress: "::", port: 7400)
        let v4 = Endpoint(ipv4: 10, 1, 2, 3, port: 4000)
        #expect(v4.socketAddress(from: wildcard) == (try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 4000)))
        let v6 = Endpoint(address: .v6(0xfd00_0007_0001_0000, 0x11), port: 4000)
        #expect(v6.socketAddress(from: wildcard) == (try v6.socketAddress()))
    }

    @Test func aSocketOfOneFamilySendsNothingItCannotReach() throws {
        let v4 = Endpoint(ipv4: 10, 1, 2, 3, port: 4000)
        let v6 = Endpoint(address: .v6(0xfd00_0007_0001_0000, 0x11), port: 4000)
        let any4 = try SocketAddress(ipAddress: "0.0.0.0", port: 7400)
        #expect(v6.socketAddress(from: any4) == nil)
        #expect(v4.socketAddress(from: any4) == (try v4.socketAddress()))
        // Bound to one IPv6 address, the socket is not dual-stack.
        #expect(v4.socketAddress(from: try SocketAddress(ipAddress: "fd00::1", port: 7400)) == nil)
        #expect(v4.socketAddress(from: nil) == (try v4.socketAddress()))
    }

    // MARK: real sockets (loopback)

    func peer(_ n: UInt8, host: String) -> DHTPeer {
        DHTPeer(identity: try! Identity(seed: [UInt8](repeating: n, count: 32)),
                configuration: Configuration(network: NetworkID(name: "dual-stack-test")), host: host, seed: UInt64(n))
    }

    /// The first datagram of `peer`'s side stream within 5 s.
    func nextSide(_ peer: DHTPeer) async throws -> (bytes: [UInt8], from: Endpoint) {
        try await within(5, "a side datagram") {
            var iterator = peer.sideDatagrams.makeAsyncIterator()
            guard let datagram = await iterator.next() else { throw CancellationError() }
            return datagram
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aWildcardPeerReachesIPv4AndIPv6PeersAndSeesIPv4OnesAsIPv4() async throws {
        let dual = peer(1, host: "::"), four = peer(2, host: "127.0.0.1"), six = peer(3, host: "::1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in [dual, four, six] { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let dualPort = try await dual.endpoint.port
            let (fourAt, sixAt) = (try await four.endpoint, try await six.endpoint)
            #expect(try await dual.endpoint.address == .v6(0, 0))

            // Heartbeats (side datagrams) both ways, each family.
            dual.sendSide(Array("z2zH to four".utf8), to: fourAt)
            let toFour = try await nextSide(four)
            #expect(toFour.bytes == Array("z2zH to four".utf8) && toFour.from == Endpoint(ipv4: 127, 0, 0, 1, port: dualPort))
            four.sendSide(Array("z2zH from four".utf8), to: Endpoint(ipv4: 127, 0, 0, 1, port: dualPort))
            let fromFour = try await nextSide(dual)
            #expect(fromFour.from == fourAt, "an IPv4 peer is IPv4 to the core, not ::ffff:127.0.0.1")
            dual.sendSide(Array("z2zH to six".utf8), to: sixAt)
            #expect(try await nextSide(six).from == Endpoint(address: .v6(0, 1), port: dualPort))

            // The DHT too: both join through the wildcard peer.
            let joined4 = try await within(10, "IPv4 bootstrap") { try await four.bootstrap([Endpoint(ipv4: 127, 0, 0, 1, port: dualPort)]) }
            let joined6 = try await within(10, "IPv6 bootstrap") { try await six.bootstrap([Endpoint(address: .v6(0, 1), port: dualPort)]) }
            #expect(joined4 >= 1 && joined6 >= 1)
            let known = try await within(10, "the wildcard peer knows both") {
                while true {
                    let endpoints = Set(try await dual.contacts().map(\.endpoint))
                    if endpoints.count >= 2 { return endpoints }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(known == [fourAt, sixAt])
        }
    }
}

/// What a dual-stack socket does not try: a family this host has no address of (the write
/// would fail with ENETUNREACH and close the socket).
struct ReachableFamiliesTests {
    let v4 = Endpoint(ipv4: 100, 64, 1, 1, port: 7400)
    let v6 = Endpoint(address: .v6(0xfd64_0000_0000_0000, 0x1_0001), port: 7400)

    @Test func anIPv6OnlyHostSendsNoIPv4ButLoopback() {
        let families = ReachableFamilies(hostAddresses: [.v4(0x7f00_0001), .v6(0, 1), .v6(0xfd00_0007_0001_0000, 0x11), .v6(0xfe80 << 48, 0x11)])
        #expect(families == ReachableFamilies(ipv4: false, ipv6: true))
        #expect(!families.reach(v4) && families.reach(v6))
        #expect(families.reach(Endpoint(ipv4: 127, 0, 0, 1, port: 7400)))
    }

    @Test func anIPv4HostWithOnlyALinkLocalIPv6AddressSendsNoIPv6() {
        let families = ReachableFamilies(hostAddresses: [.v4(0x7f00_0001), .v6(0, 1), .v4(0x0a00_0105), .v6(0xfe80 << 48, 0x5)])
        #expect(families == ReachableFamilies(ipv4: true, ipv6: false))
        #expect(families.reach(v4) && !families.reach(v6))
        #expect(families.reach(Endpoint(address: .v6(0, 1), port: 7400)), "::1")
    }

    @Test func aDualStackHostSendsBoth() {
        let families = ReachableFamilies(hostAddresses: [.v4(0x0a00_0105), .v6(0x2001_0db8_0000_0000, 5)])
        #expect(families == .both)
    }
}
