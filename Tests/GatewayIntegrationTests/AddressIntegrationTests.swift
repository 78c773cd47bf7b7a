import DNSSD
import Foundation
import Gateway
import Testbed
import Testing

/// Issue 15, "every address", on real avahi-daemons and z2zd in network namespaces: a
/// dual-stack service is seen on the other island with both its addresses, as a plain host
/// there resolves it (`avahi-browse -r` over IPv4 and over IPv6, `avahi-resolve -4` and
/// `-6`), and a host with a routable address and a 169.254 alias beside it — which Avahi's
/// resolver may report alone — is exported with its routable address.
///
/// The islands are routed (the testbed's default) and the gateways run the default relay
/// mode ("auto"): a TCP listener behind each service answers the importing leader's probe,
/// so the imports take the direct path and carry the service's own addresses.
@Suite(.serialized) struct AddressIntegrationTests {
    /// A dual-stack host of island 1 (10.x and fd00:: on its one link, as every testbed host
    /// has) publishes a service with avahi-publish. On island 2 a plain host resolves it like
    /// a local one: the IPv4 address over IPv4, the IPv6 address over IPv6, both addresses of
    /// its host, and a TCP connect to the IPv6 one reaches the service.
    @Test(.timeLimit(.minutes(2)))
    func aDualStackServiceShowsBothAddressesOnTheOtherIsland() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let gateways = try Self.startGateways(bed)
            let (home, remote) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
            let listener = try await Self.listen(bed, home, port: 6320)
            let publisher = try bed.spawn(home, ["avahi-publish", "-s", "Dual Printer", "_ipp._tcp", "6320"])
            try await publisher.waitForErrorLine(containing: "Established")
            let address = bed.address(of: home)

            try await Self.explaining(bed, gateways) {
                let host = try await pollValue(timeout: .seconds(60), every: .milliseconds(500),
                                               "the printer on \(remote), over IPv4 at \(address.v4) and over IPv6 at \(address.v6)") {
                    let lines = try await Self.browse(bed, remote, "_ipp._tcp", name: "Dual Printer")
                    let v4 = lines.first { $0.isIPv4 }?.resolution
                    let v6 = lines.first { !$0.isIPv4 }?.resolution
                    guard let v4, let v6, v4.address.description == address.v4, v6.address.description == address.v6 else {
                        return String?.none
                    }
                    return v4.host.value
                }
                #expect(SynthesizedHost.isSynthesized(try HostName(host)), "\(host)")
                #expect(try await Self.resolve(bed, remote, host, family: "-4") == address.v4)
                #expect(try await Self.resolve(bed, remote, host, family: "-6") == address.v6)

                try await bed.runChecked(remote, ["bash", "-c", "echo hello-over-ipv6 >/dev/tcp/\(address.v6)/6320"])
                _ = try await listener.waitForLine(containing: "hello-over-ipv6")
            }
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    /// Issue 15's report: a host with a routable IPv4 address and a 169.254 alias beside it
    /// (DHCP plus a link-local fallback), and no routable IPv6 address, whose service Avahi's
    /// resolver reported at the alias alone and which was refused ("no routable address").
    /// Now the exporting gateway sees every address of the host, and the service crosses with
    /// the routable one only.
    @Test(.timeLimit(.minutes(2)))
    func aHostWithARoutableAddressAndA169254AliasIsExportedWithItsRoutableAddress() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            let (home, remote) = (HostRef.i(1, h: 2), HostRef.i(2, h: 2))
            let address = bed.address(of: home)
            let alias = "169.254.77.12"
            // Global scope, as a responder that announces the alias beside the routable
            // address sees it (avahi-daemon publishes a link-scope address only when the
            // interface has no other).
            try await bed.runChecked(home, ["ip", "addr", "add", "\(alias)/16", "dev", "eth0"])
            try await bed.runChecked(home, ["ip", "addr", "del", "\(address.v6)/64", "dev", "eth0"])
            let gateways = try Self.startGateways(bed)
            _ = try await Self.listen(bed, home, port: 6321)
            let publisher = try bed.spawn(home, ["avahi-publish", "-s", "Aliased Printer", "_ipp._tcp", "6321"])
            try await publisher.waitForErrorLine(containing: "Established")

            try await Self.explaining(bed, gateways) {
                // The exporting gateway sees both IPv4 addresses of the host.
                try await poll(timeout: .seconds(30), every: .milliseconds(500), "i1h1 seeing \(address.v4) and \(alias)") {
                    let seen = try await Self.localAddresses(bed, gateways[0].host, of: "Aliased Printer")
                    return seen.contains(address.v4) && seen.contains(alias)
                }
                let host = try await pollValue(timeout: .seconds(60), every: .milliseconds(500), "the printer on \(remote) at \(address.v4)") {
                    let lines = try await Self.browse(bed, remote, "_ipp._tcp", name: "Aliased Printer")
                    guard let line = lines.first(where: \.isIPv4), let at = line.resolution, at.address.description == address.v4
                    else { return String?.none }
                    return at.host.value
                }
                #expect(SynthesizedHost.isSynthesized(try HostName(host)), "\(host)")
                #expect(try await Self.resolve(bed, remote, host, family: "-4") == address.v4)
                // The alias never crosses: the imported host has no 169.254 address.
                let all = try await Self.allAddresses(bed, remote, name: "Aliased Printer", type: "_ipp._tcp")
                #expect(all.contains(address.v4) && !all.contains(alias), "\(all)")
            }
            for gateway in gateways { await gateway.process.stop() }
        }
    }

    // MARK: helpers

    static func startGateways(_ bed: Testbed) throws -> [Gateway] {
        [try Gateway.start(bed, .i(1, h: 1), island: "one", seed: .i(2, h: 1)),
         try Gateway.start(bed, .i(2, h: 1), island: "two", seed: .i(1, h: 1))]
    }

    /// A TCP listener on IPv4 and IPv6 (the importing leader's probe connects to it); prints
    /// the first line of every connection.
    static func listen(_ bed: Testbed, _ host: HostRef, port: Int) async throws -> BackgroundProcess {
        let listener = try bed.spawn(host, ["python3", "-u", "-c", """
            import socket, sys
            s = socket.socket(socket.AF_INET6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", int(sys.argv[1]))); s.listen(16); print("listening")
            while True:
                c, a = s.accept(); c.settimeout(2)
                try: print(c.recv(100).decode().strip())
                except OSError: pass
                c.close()
            """, String(port)])
        _ = try await listener.waitForLine(containing: "listening")
        return listener
    }

    /// One fresh `avahi-browse -rptk` of `type` on `host`: the resolved lines of instance `name`.
    static func browse(_ bed: Testbed, _ host: HostRef, _ type: String, name: String) async throws -> [BrowseLine] {
        let output = try await bed.runChecked(host, ["avahi-browse", "-rptk", type], timeout: .seconds(15))
        return output.split(separator: "\n").compactMap { try? BrowseLine(parsing: String($0)) }
            .filter { $0.kind == .resolved && $0.id.name.value == name }
    }

    /// `avahi-resolve -n` of `name` on `host` for one family (`-4` or `-6`): the address.
    static func resolve(_ bed: Testbed, _ host: HostRef, _ name: String, family: String) async throws -> String? {
        let output = try await bed.runChecked(host, ["avahi-resolve", family, "-n", name], timeout: .seconds(15))
        return output.split(whereSeparator: \.isWhitespace).last.map(String.init)
    }

    /// Every address record of the host that instance `name` of `type` runs on, as an
    /// independent mDNS stack (python-zeroconf) on `host` collects them within a second.
    static func allAddresses(_ bed: Testbed, _ host: HostRef, name: String, type: String) async throws -> Set<String> {
        let output = try await bed.runChecked(host, ["/usr/bin/python3", "-c", """
            import sys, time
            from zeroconf import Zeroconf, ServiceInfo, IPVersion
            z = Zeroconf(ip_version=IPVersion.All)
            info = ServiceInfo(sys.argv[2], sys.argv[1] + "." + sys.argv[2])
            info.request(z, 3000); time.sleep(1); info.load_from_cache(z)
            print("\\n".join(info.parsed_addresses(IPVersion.All))); z.close()
            """, name, "\(type).local."], timeout: .seconds(20))
        return Set(output.split(separator: "\n").map(String.init))
    }

    /// The addresses `z2z services --json` on a gateway's host lists for local instance `name`.
    static func localAddresses(_ bed: Testbed, _ host: HostRef, of name: String) async throws -> Set<String> {
        let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z"), "services", "--json"], timeout: .seconds(10))
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let services = json?["services"] as? [[String: Any]] ?? []
        let service = services.first { $0["name"] as? String == name && $0["origin"] as? String != "imported" }
        return Set((service?["addresses"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String })
    }

    /// Runs `body`; on a failure records what the gateways say with it.
    static func explaining(_ bed: Testbed, _ gateways: [Gateway], isolation: isolated (any Actor)? = #isolation,
                           _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            var parts = ["\(error)"]
            for gateway in gateways { parts.append(await gateway.diagnosis(bed)) }
            Issue.record(Comment(rawValue: parts.joined(separator: "\n")))
            throw error
        }
    }
}
