import DNSSD
import Testbed
import Testing

/// The faults Deploy/faults injects through the testbed, held to what each must leave
/// working: a WAN cut or lossy WAN link takes the island off the router but never off its
/// own link; a second link with a reflector joins two links' mDNS. Needs root.
@Suite(.serialized) struct FaultCommandTests {
    /// Whether `from` opens a TCP connection to `address` port 7000 within a second.
    func reaches(_ bed: Testbed, _ from: HostRef, _ address: String) async throws -> Bool {
        try await bed.run(from, ["timeout", "1", "bash", "-c", "echo hi >/dev/tcp/\(address)/7000"]).succeeded
    }

    /// A TCP listener on port 7000 of `host` (IPv4 and IPv6).
    func listen(_ bed: Testbed, _ host: HostRef) async throws -> BackgroundProcess {
        let listener = try bed.spawn(host, ["python3", "-u", "-c", """
            import socket
            s = socket.socket(socket.AF_INET6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 7000)); s.listen()
            print("listening")
            while True:
                c, a = s.accept(); c.close()
            """])
        try await listener.waitForLine(containing: "listening")
        return listener
    }

    @Test func upBuildsWhatPlanPrints() async throws {
        try await Testbed.with(islands: 2, hosts: 1) { bed in
            let built = try await Testbed.script(["hosts", bed.name])
            let planned = try await Testbed.script(["plan", bed.name, "--islands", "2", "--hosts", "1"])
            #expect(built.succeeded && planned.succeeded)
            #expect(built.lines == planned.lines)
            let routes = try await bed.runChecked(.i(2, h: 1), ["ip", "-4", "addr", "show", "eth0"])
            #expect(routes.contains("inet \(bed.address(of: .i(2, h: 1)).v4)/24"))
        }
    }

    @Test func aCutWANLinkIsolatesTheIslandButNotItsOwnLink() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            _ = try await listen(bed, .i(1, h: 2))
            _ = try await listen(bed, .i(2, h: 1))
            let neighbour = bed.address(of: .i(1, h: 2)), remote = bed.address(of: .i(2, h: 1))
            #expect(try await reaches(bed, .i(1, h: 1), remote.v4))

            try await bed.wan(island: 1, cut: true)
            #expect(try await !reaches(bed, .i(1, h: 1), remote.v4))
            #expect(try await !reaches(bed, .i(1, h: 1), remote.v6))
            #expect(try await !reaches(bed, .i(2, h: 1), neighbour.v4), "nothing into the island either")
            #expect(try await reaches(bed, .i(1, h: 1), neighbour.v4))
            #expect(try await reaches(bed, .i(1, h: 1), neighbour.v6))

            try await bed.wan(island: 1, cut: false)
            #expect(try await reaches(bed, .i(1, h: 1), remote.v4))
            #expect(try await reaches(bed, .i(1, h: 1), remote.v6))
        }
    }

    @Test func lossDropsWhatCrossesTheRouterAndNothingOnTheIslandsOwnLink() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            _ = try await listen(bed, .i(1, h: 2))
            _ = try await listen(bed, .i(2, h: 1))
            try await bed.loss(island: 1, percent: 100)
            #expect(try await !reaches(bed, .i(1, h: 1), bed.address(of: .i(2, h: 1)).v4))
            #expect(try await !reaches(bed, .i(1, h: 1), bed.address(of: .i(2, h: 1)).v6))
            #expect(try await !reaches(bed, .i(2, h: 1), bed.address(of: .i(1, h: 2)).v4))
            // The island's own link: unicast and mDNS.
            #expect(try await reaches(bed, .i(1, h: 1), bed.address(of: .i(1, h: 2)).v4))
            #expect(try await reaches(bed, .i(1, h: 1), bed.address(of: .i(1, h: 2)).v6))
            let printer = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "Lossless", "_ipp._tcp", "631"])
            try await printer.waitForErrorLine(containing: "Established")
            try await poll(timeout: .seconds(10), "the island's own mDNS") {
                try await bed.runChecked(.i(1, h: 2), ["avahi-browse", "-rpt", "-k", "_ipp._tcp"]).contains("=;eth0;IPv4;Lossless;")
            }

            try await bed.loss(island: 1, percent: 0)
            #expect(try await reaches(bed, .i(1, h: 1), bed.address(of: .i(2, h: 1)).v4))
        }
    }

    @Test func aSecondLinkWithAReflectorJoinsTheTwoLinksMDNS() async throws {
        try await Testbed.with(islands: 2, hosts: 2) { bed in
            try await bed.attach(.i(1, h: 2), island: 2)
            let addresses = try await bed.runChecked(.i(1, h: 2), ["ip", "-4", "addr", "show", "eth1"])
            let island2 = bed.address(of: .i(2, h: 1)).v4.split(separator: ".").dropLast().joined(separator: ".")
            #expect(addresses.contains("inet \(island2).248/24"), "250 - h on the second link: \(addresses)")

            let speaker = try bed.spawn(.i(2, h: 1), ["avahi-publish", "-s", "Far Speaker", "_raop._tcp", "7000"])
            try await speaker.waitForErrorLine(containing: "Established")
            let seen = { try await bed.runChecked(.i(1, h: 1), ["avahi-browse", "-rpt", "-k", "_raop._tcp"]).contains("Far\\032Speaker") }
            #expect(try await !seen(), "islands share no link before the reflector")
            try await bed.reflector(.i(1, h: 2), on: true)
            try await poll(timeout: .seconds(15), "the speaker reflected onto island 1") { try await seen() }
        }
    }

    @Test func aGoodbyeListenerHearsAWithdrawnService() async throws {
        try await Testbed.with(islands: 1, hosts: 2) { bed in
            let listener = try await GoodbyeListener.start(bed, on: .i(1, h: 2))
            let printer = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "Going Printer", "_ipp._tcp", "631"])
            try await printer.waitForErrorLine(containing: "Established")
            let before = Monotonic.seconds()
            await printer.stop()
            let goodbye = try await pollValue(timeout: .seconds(5), "the printer's goodbye") {
                listener.heard.first { $0.service.name.value == "Going Printer" && $0.service.type.description == "_ipp._tcp" }
            }
            #expect(goodbye.at >= before)
            #expect(goodbye.at - before < 2)
            await listener.stop()
        }
    }
}
