import Foundation
import Testbed
import Testing

/// The LANs the router does not route (issue 14's): islands on the same prefix, gateway
/// hosts with a leg on an uplink, an island behind a masquerading NAT router, a link-local
/// island — each held to what it must let through and what it must not. Needs root.
@Suite(.serialized) struct TopologyTests {
    /// A TCP listener on port 7000 of `host` (IPv4 and IPv6) that prints, for each
    /// connection, its source address and the first line it sent: NAT would show.
    func listen(_ bed: Testbed, _ host: HostRef) async throws -> BackgroundProcess {
        let listener = try bed.spawn(host, ["python3", "-u", "-c", """
            import socket
            s = socket.socket(socket.AF_INET6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 7000)); s.listen()
            print("listening")
            while True:
                c, a = s.accept(); print(a[0].removeprefix("::ffff:"), c.recv(100).decode().strip()); c.close()
            """])
        try await listener.waitForLine(containing: "listening")
        return listener
    }

    /// Whether `from` opens a TCP connection to `address` port 7000 within 2 s; it sends its name.
    func connects(_ bed: Testbed, _ from: HostRef, _ address: String) async throws -> Bool {
        try await bed.run(from, ["timeout", "2", "bash", "-c", "echo \(from) >/dev/tcp/\(address)/7000"]).succeeded
    }

    /// Whether `host` has a route to `address` at all (`ip route get`).
    func routes(_ bed: Testbed, _ host: HostRef, _ address: String) async throws -> Bool {
        try await bed.run(host, ["ip", "route", "get", address]).succeeded
    }

    /// `avahi-browse -rpt -k _ipp._tcp` on `host`, after its daemon's "all for now".
    func browse(_ bed: Testbed, _ host: HostRef) async throws -> [String] {
        try await bed.runChecked(host, ["avahi-browse", "-rpt", "-k", "_ipp._tcp"]).split(separator: "\n").map(String.init)
    }

    // MARK: same prefix, uplink

    @Test func onTheSamePrefixOnlyTheGatewayHostsReachAnotherIslandOverTheUplink() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(samePrefix: true, uplink: true)) { bed in
            let (gateway1, plain1, gateway2, plain2) = (HostRef.i(1, h: 1), HostRef.i(1, h: 2), HostRef.i(2, h: 1), HostRef.i(2, h: 2))
            #expect(bed.address(of: plain1).v4 == bed.address(of: plain2).v4)
            #expect(bed.address(of: plain1).v6 == bed.address(of: plain2).v6)
            let uplink1 = try #require(bed.uplinkAddress(of: gateway1))
            let uplink2 = try #require(bed.uplinkAddress(of: gateway2))
            #expect(bed.uplinkAddress(of: plain1) == nil)
            let heard1 = try await listen(bed, gateway1)
            let heard2 = try await listen(bed, gateway2)
            let heardPlain2 = try await listen(bed, plain2)

            // Island 2's gateway by its LAN address is, from island 1, island 1's own gateway.
            #expect(try await connects(bed, plain1, bed.address(of: gateway2).v4))
            try await heard1.waitForLine { $0 == "\(bed.address(of: plain1).v4) i1h2" }
            #expect(try await connects(bed, plain1, bed.address(of: gateway2).v6))
            try await heard1.waitForLine { $0 == "\(bed.address(of: plain1).v6) i1h2" }
            // Off its link, a plain host has no route at all.
            for address in [uplink2.v4, uplink2.v6, uplink1.v4] {
                #expect(try await !routes(bed, plain1, address), "\(address)")
                #expect(try await !connects(bed, plain1, address), "\(address)")
            }
            for host in [gateway1, plain1, gateway2, plain2] {
                #expect(try await bed.runChecked(host, ["ip", "route", "show", "default"]).isEmpty, "\(host)")
                #expect(try await bed.runChecked(host, ["ip", "-6", "route", "show", "default"]).isEmpty, "\(host)")
            }

            // The gateway hosts reach each other over the uplink, from their uplink addresses.
            #expect(try await connects(bed, gateway1, uplink2.v4))
            try await heard2.waitForLine { $0 == "\(uplink1.v4) i1h1" }
            #expect(try await connects(bed, gateway1, uplink2.v6))
            try await heard2.waitForLine { $0 == "\(uplink1.v6) i1h1" }
            #expect(try await connects(bed, gateway2, uplink1.v4))
            try await heard1.waitForLine { $0 == "\(uplink2.v4) i2h1" }

            #expect(!(heard2.output + heardPlain2.output).contains { $0.hasSuffix(" i1h2") }, "nothing of island 1's plain host reached island 2")
        }
    }

    @Test func mdnsStaysOnItsLinkAlsoOnGatewayHostsWithAnUplink() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(samePrefix: true, uplink: true)) { bed in
            let one = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "Island One Printer", "_ipp._tcp", "631"])
            let two = try bed.spawn(.i(2, h: 2), ["avahi-publish", "-s", "Island Two Printer", "_ipp._tcp", "632"])
            try await one.waitForErrorLine(containing: "Established")
            try await two.waitForErrorLine(containing: "Established")

            // Published on eth0 only, with the LAN address: avahi-daemon does not run on the uplink.
            let expected = "=;eth0;IPv4;Island\\032One\\032Printer;_ipp._tcp;local;"
                + "\(bed.hostName(of: .i(1, h: 1))).local;\(bed.address(of: .i(1, h: 1)).v4);631;"
            try await poll(timeout: .seconds(15), "i1h2 resolves the printer of i1h1") {
                try await browse(bed, .i(1, h: 2)).contains(expected)
            }
            try await poll(timeout: .seconds(15), "i2h1 sees the printer of i2h2") {
                try await browse(bed, .i(2, h: 1)).contains { $0.contains("Island\\032Two\\032Printer") }
            }
            for host in [HostRef.i(2, h: 1), .i(2, h: 2)] {
                #expect(try await !browse(bed, host).contains { $0.contains("Island\\032One") }, "\(host)")
            }
            let own = try await browse(bed, .i(1, h: 1))
            #expect(!own.isEmpty && own.allSatisfy { $0.hasPrefix("+;eth0;") || $0.hasPrefix("=;eth0;") }, "\(own)")
        }
    }

    @Test func withAnUplinkNoLANIsRoutedNotEvenForTheGatewayHosts() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(uplink: true)) { bed in
            _ = try await listen(bed, .i(2, h: 2))
            let target = bed.address(of: .i(2, h: 2))
            for from in [HostRef.i(1, h: 1), .i(1, h: 2)] {
                #expect(try await !routes(bed, from, target.v4), "\(from)")
                #expect(try await !connects(bed, from, target.v4), "\(from)")
                #expect(try await !connects(bed, from, target.v6), "\(from)")
            }
            #expect(try await connects(bed, .i(2, h: 1), target.v4), "its own link works")
        }
    }

    // MARK: NAT

    @Test(arguments: [Topology(masqueraded: [3]), Topology(samePrefix: true, uplink: true, masqueraded: [3])])
    func anIslandBehindNATDialsOutAndNobodyDialsIn(topology: Topology) async throws {
        try await Testbed.with(islands: 3, hosts: 1, topology: topology) { bed in
            let (inside, outside) = (HostRef.i(3, h: 1), HostRef.i(1, h: 1))
            let nat = try #require(bed.natAddress(ofIsland: 3))
            #expect(bed.natAddress(ofIsland: 1) == nil)
            #expect(bed.uplinkAddress(of: inside) == nil, "behind its NAT router, not on the uplink")
            let heardOutside = try await listen(bed, outside)
            let heardInside = try await listen(bed, inside)
            // Island 1's gateway host where others reach it: on the uplink, or routed by its LAN address.
            let reachable = bed.uplinkAddress(of: outside) ?? bed.address(of: outside)

            // Out: connections leave with the NAT router's address.
            #expect(try await connects(bed, inside, reachable.v4))
            try await heardOutside.waitForLine { $0 == "\(nat.v4) i3h1" }
            #expect(try await connects(bed, inside, reachable.v6))
            try await heardOutside.waitForLine { $0 == "\(nat.v6) i3h1" }

            // In: no port forward on the NAT router's address, no route to the LAN behind it
            // (with the same prefix, that address is the dialler's own island).
            #expect(try await !connects(bed, outside, nat.v4))
            #expect(try await !connects(bed, outside, nat.v6))
            let lan = try await connects(bed, outside, bed.address(of: inside).v4)
            let lan6 = try await connects(bed, outside, bed.address(of: inside).v6)
            if !topology.samePrefix {
                #expect(!lan && !lan6)
            }
            #expect(try await !connects(bed, .i(2, h: 1), nat.v4))
            #expect(!heardInside.output.contains { $0.hasSuffix(" i1h1") || $0.hasSuffix(" i2h1") }, "\(heardInside.output)")

            let rules = try await bed.runChecked(.nat(island: 3), ["nft", "list", "table", "inet", "z2znat"])
            #expect(rules.contains("masquerade"))
            #expect(try await bed.runChecked(inside, ["ip", "route", "show", "default"]).contains("via \(bed.address(of: .nat(island: 3)).v4)"))
        }
    }

    // MARK: link-local

    @Test func aLinkLocalIslandHasOnlyLinkLocalAddressesAndMDNSWorksOnIt() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(linkLocal: [2])) { bed in
            let (publisher, browser) = (HostRef.i(2, h: 1), HostRef.i(2, h: 2))
            for host in [publisher, browser] {
                let addresses = try await bed.runChecked(host, ["ip", "-o", "addr", "show", "dev", "eth0"])
                let v4 = addresses.split(separator: "\n").filter { $0.contains(" inet ") }
                let v6 = addresses.split(separator: "\n").filter { $0.contains(" inet6 ") }
                #expect(v4.count == 1 && v4[0].contains("inet \(bed.address(of: host).v4)/16 ") && v4[0].contains("scope link"), "\(addresses)")
                #expect(v6.count == 1 && v6[0].contains("inet6 \(bed.address(of: host).v6)/64 "), "\(addresses)")
                #expect(bed.address(of: host).v4.hasPrefix("169.254.") && bed.address(of: host).v6.hasPrefix("fe80::"))
                #expect(try await bed.runChecked(host, ["ip", "route", "show", "default"]).isEmpty)
            }

            let printer = try bed.spawn(publisher, ["avahi-publish", "-s", "Link Local Printer", "_ipp._tcp", "631"])
            try await printer.waitForErrorLine(containing: "Established")
            let resolved = "Link\\032Local\\032Printer;_ipp._tcp;local;\(bed.hostName(of: publisher)).local;"
            try await poll(timeout: .seconds(15), "i2h2 resolves the link-local printer, both families") {
                let lines = try await browse(bed, browser)
                return lines.contains("=;eth0;IPv4;\(resolved)\(bed.address(of: publisher).v4);631;")
                    && lines.contains("=;eth0;IPv6;\(resolved)\(bed.address(of: publisher).v6);631;")
            }
            #expect(try await !browse(bed, .i(1, h: 1)).contains { $0.contains("Link\\032Local") })

            let heard = try await listen(bed, publisher)
            #expect(try await connects(bed, browser, bed.address(of: publisher).v4))
            #expect(try await connects(bed, browser, bed.address(of: publisher).v6 + "%eth0"))
            try await heard.waitForLine { $0.hasPrefix(bed.address(of: browser).v6) && $0.hasSuffix(" i2h2") }

            // A link flap gives back the plan's addresses, and no fe80 address of the kernel's.
            try await bed.link(browser, up: false)
            try await bed.link(browser, up: true)
            let again = try await bed.runChecked(browser, ["ip", "-o", "addr", "show", "dev", "eth0"])
            #expect(again.split(separator: "\n").filter { $0.contains(" inet6 ") }.count == 1, "\(again)")
            #expect(again.contains("inet \(bed.address(of: browser).v4)/16 "))
        }
    }

    // MARK: IPv6-only

    @Test func anIPv6OnlyIslandHasNoIPv4AndIsRoutedOverIPv6() async throws {
        try await Testbed.with(islands: 3, hosts: 2, topology: .init(ipv6Only: [1, 2])) { bed in
            let (publisher, browser, other) = (HostRef.i(1, h: 1), HostRef.i(1, h: 2), HostRef.i(2, h: 2))
            for host in [publisher, browser, other] {
                let addresses = try await bed.runChecked(host, ["ip", "-o", "addr", "show"])
                #expect(!addresses.split(separator: "\n").contains { $0.contains(" inet ") && !$0.contains(" lo ") }, "\(addresses)")
                #expect(bed.address(of: host).v4 == "-" && bed.address(of: host).v6.hasPrefix("fd00:"))
                #expect(try await bed.runChecked(host, ["ip", "route", "show", "default"]).isEmpty)
                #expect(try await !bed.runChecked(host, ["ip", "-6", "route", "show", "default"]).isEmpty)
            }
            #expect(try await !bed.runChecked(.router, ["ip", "-o", "-4", "addr", "show", "dev", "br1"]).contains("inet "))

            // mDNS works on its link, over IPv6 only.
            let printer = try bed.spawn(publisher, ["avahi-publish", "-s", "Six Printer", "_ipp._tcp", "631"])
            try await printer.waitForErrorLine(containing: "Established")
            try await poll(timeout: .seconds(15), "i1h2 resolves the printer over IPv6") {
                try await browse(bed, browser).contains(
                    "=;eth0;IPv6;Six\\032Printer;_ipp._tcp;local;\(bed.hostName(of: publisher)).local;\(bed.address(of: publisher).v6);631;")
            }
            #expect(try await !browse(bed, browser).contains { $0.contains(";IPv4;") })

            // The router routes it over IPv6 to the other IPv6-only island and to a dual-stack one.
            let heard = try await listen(bed, publisher)
            #expect(try await connects(bed, other, bed.address(of: publisher).v6))
            #expect(try await connects(bed, .i(3, h: 1), bed.address(of: publisher).v6))
            try await heard.waitForLine { $0.hasPrefix(bed.address(of: other).v6) && $0.hasSuffix(" i2h2") }
        }
    }

    // MARK: building, faults, teardown

    @Test func upBuildsWhatPlanPrintsAndDownTakesTheNATRouterToo() async throws {
        let topology = Topology(samePrefix: true, uplink: true, masqueraded: [3], linkLocal: [2])
        let namespaces = try await Testbed.with(islands: 3, hosts: 2, topology: topology) { bed in
            let built = try await Testbed.script(["hosts", bed.name])
            let planned = try await Testbed.script(["plan", bed.name, "--islands", "3", "--hosts", "2"] + topology.arguments)
            #expect(built.succeeded && planned.succeeded)
            #expect(built.lines == planned.lines)
            #expect(built.lines.count == 3 * 2 + 1)
            for host in bed.hosts + bed.natRouters {
                let addresses = try await bed.runChecked(host, ["ip", "-o", "addr", "show"])
                #expect(addresses.contains(" \(bed.address(of: host).v4)/"), "\(host): \(addresses)")
                #expect(addresses.contains(" \(bed.address(of: host).v6)/"), "\(host): \(addresses)")
                if let uplink = bed.uplinkAddress(of: host) {
                    #expect(addresses.contains(" \(uplink.v4)/16 "), "\(host): \(addresses)")
                    #expect(addresses.contains(" \(uplink.v6)/64 "), "\(host): \(addresses)")
                }
            }
            #expect(bed.namespaces.contains("\(bed.name)-n3"))
            #expect(bed.description.contains("--masquerade 3"))
            return bed.namespaces
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: "/run/netns")
        #expect(Set(left).isDisjoint(with: namespaces))
    }

    @Test func aCutIslandLosesItsLegsOnTheUplinkButNotItsLink() async throws {
        try await Testbed.with(islands: 3, hosts: 2, topology: .init(uplink: true, masqueraded: [3])) { bed in
            _ = try await listen(bed, .i(2, h: 1))
            _ = try await listen(bed, .i(1, h: 2))
            let target = try #require(bed.uplinkAddress(of: .i(2, h: 1)))
            #expect(try await connects(bed, .i(1, h: 1), target.v4))
            #expect(try await connects(bed, .i(3, h: 1), target.v4))

            try await bed.wan(island: 1, cut: true)
            try await bed.wan(island: 3, cut: true)
            #expect(try await !connects(bed, .i(1, h: 1), target.v4))
            #expect(try await !connects(bed, .i(1, h: 1), target.v6))
            #expect(try await !connects(bed, .i(3, h: 1), target.v4), "nor through the NAT router")
            #expect(try await connects(bed, .i(1, h: 1), bed.address(of: .i(1, h: 2)).v4), "its own link works")

            try await bed.wan(island: 1, cut: false)
            try await bed.wan(island: 3, cut: false)
            #expect(try await connects(bed, .i(1, h: 1), target.v4))
            #expect(try await connects(bed, .i(3, h: 1), target.v6))

            try await bed.loss(island: 2, percent: 100)
            #expect(try await !connects(bed, .i(1, h: 1), target.v4))
            try await bed.loss(island: 2, percent: 0)
            #expect(try await connects(bed, .i(1, h: 1), target.v4))
        }
    }
}
