import DNSSD
import Foundation
import Testbed
import Testing

/// Issue 14's "Must show", on real avahi-daemons and z2zd in network namespaces: a service
/// that crosses to an island that cannot reach its address is reachable there through the
/// two leaders' relay — resolved by a plain host of that island on its own leader's address
/// and a port the relay opened, fetched end to end with a matching checksum — while one the
/// island can reach keeps its own address; a withdrawal closes the relayed path within 2 s,
/// and a new leader of the importing island takes the relayed imports over.
///
/// Every testbed here but one is not routed: gateway hosts meet over an uplink segment and
/// plain hosts have no route off their link, so a byte that arrives went through the
/// leaders. The gateways run `[relay] mode = "auto"`.
@Suite(.serialized) struct RelayIntegrationTests {
    static let file = ("Relay File", "_z2zfile._tcp")
    static let echo = ("Relay Echo", "_z2zecho._udp")

    /// Three islands on one prefix, each leader with a leg on the uplink: island 1's TCP file
    /// server and UDP echo server are used from islands 2 and 3, island 2's file server from
    /// island 1. The servers see only their own leader connect, and island 1's leader counts
    /// the bytes it relayed.
    @Test(.timeLimit(.minutes(2)))
    func onTheSamePrefixEverywhereServicesAreFetchedThroughTheLeadersOverTCPAndUDPBothWays() async throws {
        try await Testbed.with(islands: 3, hosts: 2, topology: .init(samePrefix: true, uplink: true)) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.startOneGatewayPerIsland()
                let (one, two, three) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2), HostRef.i(3, h: 2))
                let watchers = (one: try world.watch(one), two: try world.watch(two), three: try world.watch(three))
                let (fileServer, file) = try await RelayTraffic.fileServer(bed, one, port: 8080, bytes: 1 << 20)
                _ = try await RelayTraffic.echoServer(bed, one, port: 7777)
                let (backServer, back) = try await RelayTraffic.fileServer(bed, two, port: 8081, bytes: 256 << 10)
                _ = try await world.publish(one, Self.file.0, Self.file.1, port: 8080)
                _ = try await world.publish(one, Self.echo.0, Self.echo.1, port: 7777)
                _ = try await world.publish(two, "Island Two File", Self.file.1, port: 8081)

                for (watcher, leader) in [(watchers.two, HostRef.i(2, h: 1)), (watchers.three, .i(3, h: 1))] {
                    let imported = try await world.relayedImport(Self.file.0, Self.file.1, on: watcher, through: leader)
                    try await world.expectRelayed(imported, on: watcher, through: leader, because: "overlapping_prefixes")
                    let at = try #require(imported.resolution)
                    let received = try await RelayTraffic.fetch(bed, from: watcher.host, at.address, port: at.port)
                    await world.check(received == file, "\(watcher.host) fetched \(received) through \(leader), the file is \(file)")

                    let echo = try await world.relayedImport(Self.echo.0, Self.echo.1, on: watcher, through: leader)
                    try await world.expectRelayed(echo, on: watcher, through: leader, because: "overlapping_prefixes")
                    let to = try #require(echo.resolution)
                    let echoed = try await RelayTraffic.echo(bed, from: watcher.host, to.address, port: to.port, count: 20)
                    await world.check(echoed == 20, "\(watcher.host): \(echoed) of 20 datagrams echoed through \(leader)")
                }

                let imported = try await world.relayedImport("Island Two File", Self.file.1, on: watchers.one, through: .i(1, h: 1))
                try await world.expectRelayed(imported, on: watchers.one, through: .i(1, h: 1), because: "overlapping_prefixes")
                let at = try #require(imported.resolution)
                let received = try await RelayTraffic.fetch(bed, from: one, at.address, port: at.port)
                await world.check(received == back, "i1h2 fetched \(received) through i1h1, the file is \(back)")

                // Island 1's relay counts what it carried to islands 2 and 3.
                let exported = try await world.metrics(on: .i(1, h: 1)).value(
                    "z2z_relay_bytes_total", ["side": "export", "service": "\(Self.file.0) \(Self.file.1)", "direction": "from_service"])
                await world.check((exported ?? 0) >= Double(2 * file.bytes), "i1h1 counts \(exported.map { "\($0)" } ?? "no") bytes of \(Self.file.0) relayed, not 2 × \(file.bytes)")

                // Only the exporting island's leader connected (on one prefix everywhere, its
                // LAN address is every leader's; from another island it names a host there).
                let leaderAddress = bed.address(of: .i(1, h: 1)).v4
                for server in [fileServer, backServer] {
                    let sources = RelayWorld.connectionSources(server)
                    await world.check(!sources.isEmpty && sources == [leaderAddress],
                                      "\(server.host)'s server saw connections from \(sources), not only from \(leaderAddress)")
                }
            }
        }
    }

    /// An island behind a masquerading router (no port forward) and one whose leader sits on
    /// the uplink: nothing can dial island 2's leader. Its service is fetched on island 1
    /// anyway — island 1's leader, finding no endpoint of island 2's relay that answers, asks
    /// it through the DHT to dial in, and the streams run over that reverse tunnel — and
    /// island 1's service is fetched on island 2 over the tunnel island 2's leader dials as
    /// usual.
    @Test(.timeLimit(.minutes(2)))
    func anIslandBehindNATExportsAndImportsOverTunnelsItsLeaderDials() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(uplink: true, masqueraded: [2])) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.start(.i(1, h: 1), island: "island-1", seed: nil)
                try world.start(.i(2, h: 1), island: "island-2", seed: .i(1, h: 1))
                let (routed, natted) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
                let watchers = (routed: try world.watch(routed), natted: try world.watch(natted))
                let (_, file) = try await RelayTraffic.fileServer(bed, natted, port: 8080, bytes: 1 << 20)
                let (_, other) = try await RelayTraffic.fileServer(bed, routed, port: 8081, bytes: 256 << 10)
                _ = try await world.publish(natted, "Behind NAT", Self.file.1, port: 8080)
                _ = try await world.publish(routed, "On The Uplink", Self.file.1, port: 8081)

                let out = try await world.relayedImport("Behind NAT", Self.file.1, on: watchers.routed, through: .i(1, h: 1))
                try await world.expectRelayed(out, on: watchers.routed, through: .i(1, h: 1), because: "unreachable")
                let outAt = try #require(out.resolution)
                let received = try await RelayTraffic.fetch(bed, from: routed, outAt.address, port: outAt.port)
                await world.check(received == file, "i1h2 fetched \(received) of the NATed island's file, which is \(file)")

                let back = try await world.relayedImport("On The Uplink", Self.file.1, on: watchers.natted, through: .i(2, h: 1))
                try await world.expectRelayed(back, on: watchers.natted, through: .i(2, h: 1), because: "unreachable")
                let backAt = try #require(back.resolution)
                let backReceived = try await RelayTraffic.fetch(bed, from: natted, backAt.address, port: backAt.port)
                await world.check(backReceived == other, "i2h2 fetched \(backReceived) of island 1's file, which is \(other)")
            }
        }
    }

    /// Two islands behind masquerading routers and a third on the uplink that exports
    /// nothing: neither NATed leader can be dialled, and no import ever took either to island
    /// 1's relay. Each finds that relay in island 1's directory entry, dials it, and asks the
    /// other to dial it too; the streams run through island 1's leader (a circuit relay),
    /// both ways, and the files arrive whole.
    @Test(.timeLimit(.minutes(3)))
    func twoIslandsBehindNATReachEachOtherThroughAThirdIslandsLeader() async throws {
        try await Testbed.with(islands: 3, hosts: 2, topology: .init(uplink: true, masqueraded: [2, 3])) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.start(.i(1, h: 1), island: "island-1", seed: nil)
                try world.start(.i(2, h: 1), island: "island-2", seed: .i(1, h: 1))
                try world.start(.i(3, h: 1), island: "island-3", seed: .i(1, h: 1))
                let (two, three) = (HostRef.i(2, h: 2), HostRef.i(3, h: 2))
                let watchers = (two: try world.watch(two), three: try world.watch(three))
                let (twoServer, twoFile) = try await RelayTraffic.fileServer(bed, two, port: 8080, bytes: 1 << 20)
                let (threeServer, threeFile) = try await RelayTraffic.fileServer(bed, three, port: 8081, bytes: 256 << 10)
                _ = try await world.publish(two, "Behind NAT Two", Self.file.1, port: 8080)
                _ = try await world.publish(three, "Behind NAT Three", Self.file.1, port: 8081)

                for (name, file, server, watcher, leader) in [
                    ("Behind NAT Two", twoFile, twoServer, watchers.three, HostRef.i(3, h: 1)),
                    ("Behind NAT Three", threeFile, threeServer, watchers.two, HostRef.i(2, h: 1)),
                ] {
                    let imported = try await world.relayedImport(name, Self.file.1, on: watcher, through: leader, timeout: .seconds(60))
                    try await world.expectRelayed(imported, on: watcher, through: leader, because: "unreachable")
                    let at = try #require(imported.resolution)
                    // The listener opens through the circuit relay once it is reached; the
                    // exporting leader's tunnel to it may come up a moment later, and until then
                    // the relay closes each connection at once (an empty fetch).
                    var last: RelayTraffic.Received?
                    let received = try? await pollValue(timeout: .seconds(30), every: .milliseconds(500), "\(name) fetched on \(watcher.host)") {
                        last = try await RelayTraffic.fetch(bed, from: watcher.host, at.address, port: at.port)
                        return last == file ? last : nil
                    }
                    await world.check(received == file, "\(watcher.host) fetched \(last.map { "\($0)" } ?? "nothing") of \(name), which is \(file)")
                    // Only the exporting island's own leader connects to the server.
                    let exporter = bed.address(of: HostRef.i(name.hasSuffix("Two") ? 2 : 3, h: 1)).v4
                    let sources = RelayWorld.connectionSources(server)
                    await world.check(sources == [exporter], "\(server.host)'s server saw connections from \(sources), not only from \(exporter)")
                }

                // Island 1's relay carried both, as the middle of a circuit.
                let carried = try await world.metrics(on: .i(1, h: 1)).value(
                    "z2z_relay_bytes_total", ["side": "export", "service": "Behind NAT Two \(Self.file.1)", "direction": "from_service"])
                await world.check((carried ?? 0) >= Double(twoFile.bytes),
                                  "i1h1 counts \(carried.map { "\($0)" } ?? "no") bytes of Behind NAT Two carried, not \(twoFile.bytes)")
            }
        }
    }

    /// A link-local-only island (169.254/16 and fe80 only; such services were not exported
    /// at all before the relay) and a routed-prefix island meet over the uplink: the
    /// link-local service is fetched on the other island, and that island's services on the
    /// link-local island — a TCP one whose address the link-local island's leader cannot
    /// reach (its probe fails), a UDP one whose island says its LAN is not routed.
    @Test(.timeLimit(.minutes(2)))
    func aLinkLocalOnlyServiceCrossesAndIsFetchedThroughTheRelayAndBack() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(uplink: true, linkLocal: [2])) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.startOneGatewayPerIsland()
                let (routed, linkLocal) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
                let onRouted = try world.watch(routed)
                let onLinkLocal = try world.watch(linkLocal)
                let (linkLocalServer, file) = try await RelayTraffic.fileServer(bed, linkLocal, port: 8080, bytes: 1 << 20)
                let (_, other) = try await RelayTraffic.fileServer(bed, routed, port: 8081, bytes: 256 << 10)
                _ = try await RelayTraffic.echoServer(bed, routed, port: 7777)
                _ = try await world.publish(linkLocal, "Link Local File", Self.file.1, port: 8080)
                _ = try await world.publish(routed, "Routed File", Self.file.1, port: 8081)
                _ = try await world.publish(routed, Self.echo.0, Self.echo.1, port: 7777)

                let imported = try await world.relayedImport("Link Local File", Self.file.1, on: onRouted, through: .i(1, h: 1))
                try await world.expectRelayed(imported, on: onRouted, through: .i(1, h: 1), because: "link_local_only")
                let at = try #require(imported.resolution)
                let received = try await RelayTraffic.fetch(bed, from: routed, at.address, port: at.port)
                await world.check(received == file, "i1h2 fetched \(received) of the link-local file, which is \(file)")
                let sources = RelayWorld.connectionSources(linkLocalServer)
                let leader = world.lanAddresses(.i(2, h: 1)).map(\.description)
                await world.check(!sources.isEmpty && sources.allSatisfy(leader.contains),
                                  "the link-local server saw connections from \(sources), not only from its leader \(leader)")

                let back = try await world.relayedImport("Routed File", Self.file.1, on: onLinkLocal, through: .i(2, h: 1))
                try await world.expectRelayed(back, on: onLinkLocal, through: .i(2, h: 1), because: "unreachable")
                let backAt = try #require(back.resolution)
                let backReceived = try await RelayTraffic.fetch(bed, from: linkLocal, backAt.address, port: backAt.port)
                await world.check(backReceived == other, "i2h2 fetched \(backReceived) of island 1's file, which is \(other)")

                let echo = try await world.relayedImport(Self.echo.0, Self.echo.1, on: onLinkLocal, through: .i(2, h: 1))
                try await world.expectRelayed(echo, on: onLinkLocal, through: .i(2, h: 1), because: "lan_not_routed")
                let to = try #require(echo.resolution)
                let echoed = try await RelayTraffic.echo(bed, from: linkLocal, to.address, port: to.port, count: 20)
                await world.check(echoed == 20, "i2h2: \(echoed) of 20 datagrams echoed by island 1 through i2h1")
            }
        }
    }

    /// On the ordinary testbed, whose router routes every island, auto mode decides per
    /// service: one another island reaches is left alone (the import carries its own address
    /// and port, and a plain host of the other island fetches it directly), while one on the
    /// same host that a host firewall keeps to its own LAN is relayed — under a host name of
    /// its own, so each import's host resolves to its own address.
    @Test(.timeLimit(.minutes(2)))
    func inAutoModeAServiceTheOtherIslandCanRouteToIsNotRelayedAndOneItCannotIs() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.startOneGatewayPerIsland()
                let (home, remote) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
                let watcher = try world.watch(remote)
                let (server, file) = try await RelayTraffic.fileServer(bed, home, port: 8080, bytes: 256 << 10)
                let (guardedServer, guarded) = try await RelayTraffic.fileServer(bed, home, port: 8090, bytes: 256 << 10)
                // Port 8090 answers its own LAN only: what comes from elsewhere is dropped.
                let lan = bed.gateway(ofIsland: 1)
                let (lan4, lan6) = (lan.v4.dropLast(2) + ".0/24", lan.v6.dropLast(1) + "/64")
                try await bed.runChecked(home, ["nft", "-f", "-"], input: """
                    table inet hostfirewall {
                        chain input {
                            type filter hook input priority 0; policy accept;
                            tcp dport 8090 ip saddr != \(lan4) drop
                            tcp dport 8090 ip6 saddr != \(lan6) drop
                        }
                    }
                    """)
                _ = try await world.publish(home, Self.file.0, Self.file.1, port: 8080)
                _ = try await world.publish(home, "Guarded File", Self.file.1, port: 8090)

                let relayed = try await world.relayedImport("Guarded File", Self.file.1, on: watcher, through: .i(2, h: 1))
                try await world.expectRelayed(relayed, on: watcher, through: .i(2, h: 1), because: "unreachable")
                let relayedAt = try #require(relayed.resolution)
                let direct = try? await RelayTraffic.fetch(bed, from: remote, try IPAddress(bed.address(of: home).v4), port: 8090, timeout: 2)
                await world.check(direct == nil, "the firewall let \(remote) fetch port 8090 directly: \(direct.map { "\($0)" } ?? "")")
                let relayedReceived = try await RelayTraffic.fetch(bed, from: remote, relayedAt.address, port: relayedAt.port)
                await world.check(relayedReceived == guarded, "\(remote) fetched \(relayedReceived) through i2h1, the file is \(guarded)")
                let guardedSources = RelayWorld.connectionSources(guardedServer)
                await world.check(guardedSources == [bed.address(of: .i(1, h: 1)).v4],
                                  "the guarded server saw connections from \(guardedSources), not only from its leader")

                // The one left alone, looked at once the relayed one is published (a host name
                // both shared would now resolve to the relay).
                let imported = try await pollValue(timeout: .seconds(30), "\(Self.file.0) on \(remote)") {
                    watcher.present.first { $0.id.name.value == Self.file.0 && $0.resolution != nil }
                }
                let own = world.lanAddresses(home)
                let resolutions = watcher.present.filter { $0.id == imported.id }.compactMap(\.resolution)
                await world.check(!resolutions.isEmpty && resolutions.allSatisfy { own.contains($0.address) && $0.port == 8080 },
                                  "the import carries \(home)'s own address and port 8080: \(RelayWorld.describe(resolutions))")
                let route = try await world.route(of: Self.file.0, on: .i(2, h: 1))
                await world.check(route == "direct", "i2h1's z2z services says \(Self.file.0) is \(route ?? "not listed"), not direct")
                let at = try #require(imported.resolution)
                let resolved = try await world.resolve(at.host, on: remote)
                await world.check(resolved.map(own.contains) == true, "\(at.host) resolves to \(resolved.map { "\($0)" } ?? "nothing") on \(remote), not to \(home)")
                let received = try await RelayTraffic.fetch(bed, from: remote, resolved ?? at.address, port: at.port)
                await world.check(received == file, "\(remote) fetched \(received) directly, the file is \(file)")
                let sources = RelayWorld.connectionSources(server)
                await world.check(sources.contains(bed.address(of: remote).v4) || sources.contains(bed.address(of: remote).v6),
                                  "the server saw \(remote) connect itself: \(sources)")
            }
        }
    }

    /// Refusals and withdrawal. A host without the network key that dials the exporting
    /// leader's relay gets nothing, and the refusal is counted. Withdrawing a relayed service
    /// (its publisher goes, with a goodbye, while its server keeps listening): within 2 s a
    /// new connection through the importing leader's relay port gets nothing, and an open,
    /// endless transfer through it is closed — by the exporting leader, which revoked it.
    @Test(.timeLimit(.minutes(2)))
    func aStrangerIsRefusedAndAfterAWithdrawalNewRelayedConnectionsFailAndOpenOnesCloseWithinTwoSeconds() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(samePrefix: true, uplink: true)) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.startOneGatewayPerIsland()
                let (one, two, leader) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2), HostRef.i(2, h: 1))
                let watcher = try world.watch(two)
                let (_, file) = try await RelayTraffic.fileServer(bed, one, port: 8080, bytes: 1 << 20)
                _ = try await RelayTraffic.fileServer(bed, one, port: 8082, bytes: 0)
                let filePublisher = try await world.publish(one, Self.file.0, Self.file.1, port: 8080)
                let streamPublisher = try await world.publish(one, "Relay Stream", "_z2zstream._tcp", port: 8082)

                let imported = try await world.relayedImport(Self.file.0, Self.file.1, on: watcher, through: leader)
                let at = try #require(imported.resolution)
                let stream = try await world.relayedImport("Relay Stream", "_z2zstream._tcp", on: watcher, through: leader)
                let streamAt = try #require(stream.resolution)
                // Before: the relayed path carries an endless stream, and beside it one
                // connection after another.
                let follower = try RelayTraffic.follow(bed, from: two, streamAt.address, port: streamAt.port)
                func streamed(atLeast bytes: Int) async throws {
                    try await follower.waitForLine(timeout: .seconds(10)) { $0.hasPrefix("streaming ") && Int($0.dropFirst(10)) ?? 0 >= bytes }
                }
                try await streamed(atLeast: 256 << 10)
                for _ in 1...2 {
                    let before = try await RelayTraffic.fetch(bed, from: two, at.address, port: at.port)
                    await world.check(before == file, "before the withdrawal, \(two) fetched \(before) through the relay, the file is \(file)")
                }
                let streaming = follower.output.last ?? ""
                try await streamed(atLeast: (Int(streaming.split(separator: " ").last ?? "") ?? 0) + (256 << 10))

                // A host with an SSH key of its own but not the network key (OpenSSH, from island
                // 2's gateway host, which reaches island 1's relay port) gets no stream to the
                // exported service: its authentication is refused and counted.
                let strangerKey = "\(bed.directory)/\(leader)/stranger-key"
                try await bed.runChecked(leader, ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", strangerKey])
                let relayPort = 7403 // [relay] port: the DHT port + 3
                let stranger = try await bed.run(leader, [
                    "ssh", "-i", strangerKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-p", String(relayPort),
                    "-W", "\(bed.address(of: one).v4):8080", "stranger@\(try #require(bed.uplinkAddress(of: .i(1, h: 1))).v4)",
                ], timeout: .seconds(20))
                await world.check(!stranger.succeeded && stranger.stdout.isEmpty && stranger.stderr.contains("Permission denied"),
                                  "an SSH client without the network key at i1h1's relay: \(stranger)")
                let refusals = try await world.metrics(on: .i(1, h: 1)).samples.filter {
                    $0.name == "z2z_relay_refusals_total" && $0.labels["side"] == "export"
                        && ["not_a_gateway", "bad_network_key"].contains($0.labels["reason"] ?? "")
                }
                await world.check(refusals.reduce(0) { $0 + $1.value } >= 1, "i1h1 counts no refusal of the stranger: \(refusals)")

                // When it ends, read as the line arrives (the fetches below take their time).
                let closing = Task { () throws -> (String, ContinuousClock.Instant) in
                    let line = try await follower.waitForLine(containing: "closed", timeout: .seconds(10))
                    return (line, ContinuousClock.now)
                }
                defer { closing.cancel() }

                let withdrawn = ContinuousClock.now
                filePublisher.terminate()
                streamPublisher.terminate()
                // A fetch that gets less than the file (refused, closed, stalled) failed.
                let (refused, how): (ContinuousClock.Instant, String) = try await pollValue(
                    timeout: .seconds(10), every: .milliseconds(50), "a refused fetch"
                ) {
                    do {
                        let received = try await RelayTraffic.fetch(bed, from: two, at.address, port: at.port, timeout: 1)
                        return received == file ? nil : (ContinuousClock.now, "\(received)")
                    } catch {
                        return (ContinuousClock.now, "\(error)")
                    }
                }
                let (closedLine, closedAt) = try await closing.value
                let again = try? await RelayTraffic.fetch(bed, from: two, at.address, port: at.port, timeout: 1)
                print("relay withdrawal: new connections fail \(refused - withdrawn) (\(how)), the open transfer closed "
                      + "\(closedAt - withdrawn) (\(closedLine)) after the goodbye; the stranger refused as "
                      + refusals.map { "\($0.labels["reason"] ?? "?") \(Int($0.value))" }.joined(separator: ", "))
                await world.check(again != file, "a fetch after the refusal got the file again: \(again.map { "\($0)" } ?? "-")")
                await world.check(refused - withdrawn <= .seconds(2), "new connections still went through \(refused - withdrawn) after the withdrawal")
                await world.check(closedAt > withdrawn && closedAt - withdrawn <= .seconds(2),
                                  "the open transfer closed \(closedAt - withdrawn) after the withdrawal")
                // Island 1's relay closed the open transfer itself: the service was revoked there.
                let revoked = try await world.metrics(on: .i(1, h: 1)).value(
                    "z2z_relay_stream_endings_total", ["side": "export", "reason": "revoked"])
                await world.check((revoked ?? 0) >= 1, "i1h1 counts \(revoked.map { "\($0)" } ?? "no") streams ended as revoked")
            }
        }
    }

    /// Two gateways on the importing island: `kill -9` of its leader. The other takes over
    /// and publishes the relayed import on its own address; a plain host that resolves it
    /// again fetches through the new leader within 5 s of the kill.
    @Test(.timeLimit(.minutes(2)))
    func afterTheImportingLeaderIsKilledANewRelayedConnectionWorksWithinFiveSeconds() async throws {
        let topology = Topology(samePrefix: true, uplink: true, gateways: 2)
        try await Testbed.with(islands: 2, hosts: 3, topology: topology) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                let (leader, follower, client) = (HostRef.i(2, h: 1), HostRef.i(2, h: 2), HostRef.i(2, h: 3))
                try world.start(.i(1, h: 1), island: "island-1", seed: leader)
                let killed = try world.start(leader, island: "island-2", seed: .i(1, h: 1), priority: 200)
                let successor = try world.start(follower, island: "island-2", seed: .i(1, h: 1), priority: 100)
                let watcher = try world.watch(client)
                let (_, file) = try await RelayTraffic.fileServer(bed, .i(1, h: 3), port: 8080, bytes: 256 << 10)
                _ = try await world.publish(.i(1, h: 3), Self.file.0, Self.file.1, port: 8080)

                let imported = try await world.relayedImport(Self.file.0, Self.file.1, on: watcher, through: leader)
                let at = try #require(imported.resolution)
                let before = try await RelayTraffic.fetch(bed, from: client, at.address, port: at.port)
                await world.check(before == file, "before the kill, \(client) fetched \(before), the file is \(file)")
                try await poll(timeout: .seconds(10), "\(follower) a follower") {
                    try await successor.status(bed)["role"] as? String == "follower"
                }

                let kill = ContinuousClock.now
                killed.process.kill()
                let successorAddresses = world.lanAddresses(follower)
                let onSuccessor: (BrowseLine) -> Bool = { line in
                    line.id == imported.id && line.resolution.map { successorAddresses.contains($0.address) } == true
                }
                let (line, fetched): (BrowseLine, ContinuousClock.Instant) = try await pollValue(
                    timeout: .seconds(30), every: .milliseconds(100), "a relayed fetch through \(follower)"
                ) {
                    guard let line = watcher.present.first(where: onSuccessor), let to = line.resolution,
                          (try? await RelayTraffic.fetch(bed, from: client, to.address, port: to.port, timeout: 1)) == file
                    else { return nil }
                    return (line, ContinuousClock.now)
                }
                let resolved = watcher.first(after: kill, where: onSuccessor) ?? fetched
                let gone = watcher.first(after: kill) { $0.id == imported.id && $0.kind == .removed }
                print("relay leader kill: old import gone \(gone.map { "\($0 - kill)" } ?? "never"), "
                      + "import on the new leader \(resolved - kill), first relayed fetch \(fetched - kill) after the kill")
                try await world.expectRelayed(line, on: watcher, through: follower, because: "overlapping_prefixes")
                await world.check(fetched - kill <= .seconds(5), "the first relayed fetch through \(follower) worked \(fetched - kill) after the kill")
            }
        }
    }
}
