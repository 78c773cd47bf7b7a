import DNSSD
import Foundation
import Gateway
import Testbed
import Testing

/// Gateways on islands without IPv4 (`Topology.ipv6Only`): the leaders meet in the DHT over
/// IPv6, the gateways of one island elect over IPv6 heartbeats, and services cross both ways
/// with addresses a host there can connect to over IPv6 (issue 15, item 2).
@Suite(.serialized) struct IPv6OnlyIntegrationTests {
    /// A TCP listener on `host`, port `port`, IPv6 only: prints each line it is sent.
    func listener(_ bed: Testbed, _ host: HostRef, port: Int) async throws -> BackgroundProcess {
        let listener = try bed.spawn(host, ["python3", "-u", "-c", """
            import socket
            s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", \(port))); s.listen(); print("listening")
            while True:
                c, a = s.accept(); print(c.recv(100).decode().strip(), "from", a[0]); c.close()
            """])
        try await listener.waitForLine(containing: "listening")
        return listener
    }

    /// The import of `name` on `watcher`'s host: resolved over IPv6, on a synthesized host.
    func imported(_ name: String, on watcher: BrowseWatcher) async throws -> BrowseLine {
        try await pollValue(timeout: .seconds(45), "\(name) imported on \(watcher.host)") {
            watcher.present.first {
                $0.id.name.value == name && $0.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true
            }
        }
    }

    /// On both rendezvous engines (OpenDHT runs its own IPv4 and IPv6 sockets).
    @Test(.timeLimit(.minutes(2)), arguments: Engine.allCases)
    func onAnIPv6OnlyIslandPairServicesCrossBothWaysAndTheImportAnswersOverIPv6(engine: Engine) async throws {
        try await Testbed.with(islands: 2, hosts: 3, topology: .init(ipv6Only: [1, 2])) { bed in
            // Two gateways on island 1, so its election runs on heartbeats over IPv6.
            let gateways = [
                try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1), priority: 200, engine: engine),
                try Gateway.start(bed, .i(1, h: 3), island: "one", seed: .i(2, h: 1), priority: 100, engine: engine),
                try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1), engine: engine),
            ]
            let (plain1, plain2) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
            let onTwo = try BrowseWatcher(bed, plain2, type: "_ipp._tcp")
            let onOne = try BrowseWatcher(bed, plain1, type: "_http._tcp")
            let printerPort = try await listener(bed, plain1, port: 6310)
            let webPort = try await listener(bed, plain2, port: 8080)
            let printer = try bed.spawn(plain1, ["avahi-publish", "-s", "Six Printer", "_ipp._tcp", "6310"])
            let web = try bed.spawn(plain2, ["avahi-publish", "-s", "Six Web", "_http._tcp", "8080"])
            try await printer.waitForErrorLine(containing: "Established")
            try await web.waitForErrorLine(containing: "Established")

            do {
                let crossings = [("Six Printer", onTwo, plain1, printerPort), ("Six Web", onOne, plain2, webPort)]
                for (name, watcher, origin, listener) in crossings {
                    let line = try await imported(name, on: watcher)
                    let resolution = try #require(line.resolution)
                    #expect(resolution.address.description.contains(":"), "\(name): \(line)")
                    #expect(!watcher.present.contains { $0.isIPv4 }, "no IPv4 on an IPv6-only island: \(watcher.present)")
                    // The path: the original's own address (routed, direct) or the importing
                    // leader's (relayed).
                    let path = resolution.address.description == bed.address(of: origin).v6 ? "direct" : "relayed"
                    print("\(engine): \(name) on \(watcher.host): \(resolution.address) port \(resolution.port) (\(path))")
                    let from = watcher.host
                    try await bed.runChecked(from, ["timeout", "5", "bash", "-c",
                        "echo hello-from-\(from) >/dev/tcp/\(resolution.address)/\(resolution.port)"])
                    try await listener.waitForLine(containing: "hello-from-\(from)")
                }

                // Island 1 elected one leader over IPv6 heartbeats (both would lead without them).
                try await poll(timeout: .seconds(20), "one leader and one follower on island 1") {
                    let roles = [(try? await gateways[0].status(bed))?["role"] as? String,
                                 (try? await gateways[1].status(bed))?["role"] as? String]
                    return roles == ["leader", "follower"]
                }
            } catch {
                for gateway in gateways { Issue.record("\(await gateway.diagnosis(bed))") }
                throw error
            }
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// The same pair with nothing routing their LANs (`--uplink`, IPv6 legs only): the
    /// leaders meet over the uplink's IPv6, and each island's service is fetched on the other
    /// through the leaders' relay — its SSH tunnel over IPv6, the import published on the
    /// importing leader's IPv6 LAN address.
    @Test(.timeLimit(.minutes(2)))
    func onAnUnroutedIPv6OnlyIslandPairServicesAreFetchedThroughTheRelayOverIPv6() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(uplink: true, ipv6Only: [1, 2])) { bed in
            let world = RelayWorld(bed)
            try await world.explaining {
                try world.startOneGatewayPerIsland()
                let (plain1, plain2) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
                let onOne = try world.watch(plain1)
                let onTwo = try world.watch(plain2)
                let (_, file1) = try await RelayTraffic.fileServer(bed, plain1, port: 8080, bytes: 256 << 10)
                let (_, file2) = try await RelayTraffic.fileServer(bed, plain2, port: 8081, bytes: 128 << 10)
                _ = try await world.publish(plain1, "Six File One", "_z2zfile._tcp", port: 8080)
                _ = try await world.publish(plain2, "Six File Two", "_z2zfile._tcp", port: 8081)

                for (name, watcher, leader, file) in [("Six File One", onTwo, HostRef.i(2, h: 1), file1),
                                                      ("Six File Two", onOne, HostRef.i(1, h: 1), file2)] {
                    let imported = try await world.relayedImport(name, "_z2zfile._tcp", on: watcher, through: leader, timeout: .seconds(45))
                    try await world.expectRelayed(imported, on: watcher, through: leader, because: "unreachable")
                    let at = try #require(imported.resolution)
                    await world.check(!at.address.isIPv4, "\(name) on \(watcher.host) at \(at.address)")
                    print("\(name) on \(watcher.host): \(at.address) port \(at.port) (relayed through \(leader))")
                    let received = try await RelayTraffic.fetch(bed, from: watcher.host, at.address, port: at.port)
                    await world.check(received == file, "\(watcher.host) fetched \(received) of \(name), which is \(file)")
                }
            }
        }
    }
}
