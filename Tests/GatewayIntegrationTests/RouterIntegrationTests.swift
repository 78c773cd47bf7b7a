import DNSSD
import Foundation
import Gateway
import Testbed
import Testing

/// Router mode (issue 16) on real avahi-daemons in network namespaces: the testbed's router
/// namespace is one box on three LANs (br1, br2, br3: `Topology.routerAvahi`), running one
/// avahi-daemon and one z2zd with a link per LAN — staff, students, guests — and two plain
/// hosts on each LAN, each with its own avahi-daemon. Every wait is a poll with a deadline.
@Suite(.serialized) struct RouterIntegrationTests {
    static let links = ["staff", "students", "guests"]
    /// Secure printing crosses from staff to students and never back (one rule).
    static let policy = """
        [[policy.rule]]
        action = "permit"
        type = "_ipps._tcp"
        from = "staff"
        to = "students"
        one_way = true
        """

    @Test(.timeLimit(.minutes(2)))
    func servicesCrossBetweenLinksOnceWithTheirFieldsNamesStayAndAOneWayRuleHolds() async throws {
        try await Testbed.with(islands: 3, hosts: 2, topology: .init(routerAvahi: true)) { bed in
            let watchers = try (1...3).map { try BrowseWatcher(bed, .i($0, h: 2), type: nil) }

            // Two printers of one name on two links, one on the third; a secure printer each on staff and students.
            var publishers: [BackgroundProcess] = []
            for (island, name, port, txt) in [(1, "Office Printer", 631, ["rp=staff", "note=first floor"]),
                                              (2, "Office Printer", 632, ["rp=students"]),
                                              (3, "Guest Screen", 633, ["rp=guests"])] {
                let publisher = try bed.spawn(.i(island, h: 1), ["avahi-publish", "-s", name, "_ipp._tcp", "\(port)"] + txt)
                try await publisher.waitForErrorLine(containing: "Established")
                publishers.append(publisher)
            }
            for (island, name) in [(1, "Staff Secure"), (2, "Student Secure")] {
                let publisher = try bed.spawn(.i(island, h: 1), ["avahi-publish", "-s", name, "_ipps._tcp", "443"])
                try await publisher.waitForErrorLine(containing: "Established")
                publishers.append(publisher)
            }
            // The router starts on links whose hosts already hold their names (a host that
            // comes later with a name an import holds would lose its probe and rename).
            let file = "\(bed.directory)/router/z2z.toml"
            try Self.policy.write(toFile: file, atomically: true, encoding: .utf8)
            let router = try bed.spawn(.router, try Gateway.daemonArguments(bed, .router) + [
                "--config", file, "--link", "br1=staff", "--link", "br2=students", "--link", "br3=guests",
            ])

            func ipp(_ watcher: BrowseWatcher) -> [BrowseLine] {
                watcher.present.filter { $0.isIPv4 && $0.id.type.description == "_ipp._tcp" && $0.resolution != nil }
            }
            // The originals, as each link's own hosts see them.
            let originals = try await (1...3).asyncMap { island in
                try await pollValue(timeout: .seconds(15), "link \(island)'s own printer") {
                    ipp(watchers[island - 1]).first { $0.resolution.map { !SynthesizedHost.isSynthesized($0.host) } ?? false }
                }
            }
            do {
                // Every link sees all three printers, each exactly once; its own keeps its name.
                for (index, watcher) in watchers.enumerated() {
                    try await poll(timeout: .seconds(20), "three printers on link \(index + 1)") { ipp(watcher).count == 3 }
                }
            } catch {
                Issue.record("\(error)\n\(router.errorOutput.suffix(30).joined(separator: "\n"))")
                throw error
            }
            for (index, watcher) in watchers.enumerated() {
                let lines = ipp(watcher)
                #expect(Set(lines.map(\.id.name.value)).count == 3, "link \(index + 1): \(lines)")
                #expect(lines.contains { $0.id == originals[index].id && $0.resolution == originals[index].resolution },
                        "link \(index + 1) keeps its own printer as it was")
                for original in originals.enumerated() where original.offset != index {
                    let source = original.element
                    let copy = try #require(lines.first { $0.resolution?.port == source.resolution?.port }, "\(lines)")
                    #expect(copy.resolution?.txt == source.resolution?.txt, "TXT byte for byte")
                    #expect(copy.id.type == source.id.type)
                    #expect(copy.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true)
                    // avahi-browse shows one of the host's addresses (v4 or v6) on either protocol line.
                    let host = bed.address(of: .i(original.offset + 1, h: 1))
                    #expect([host.v4, host.v6].contains(copy.resolution?.address.description ?? ""), "the host's own address")
                    #expect(copy.id.name.value.hasPrefix(source.id.name.value))
                }
            }
            // Two "Office Printer"s: each keeps its name on its own link, the other arrives with a suffix.
            #expect(Set(ipp(watchers[0]).map(\.id.name.value)) == ["Office Printer", "Office Printer (students)", "Guest Screen"])
            #expect(Set(ipp(watchers[1]).map(\.id.name.value)) == ["Office Printer", "Office Printer (staff)", "Guest Screen"])

            // One-way: staff's secure printer reaches students; students' never reaches staff.
            let secure = { (watcher: BrowseWatcher, name: String) in
                watcher.present.contains { $0.isIPv4 && $0.id.name.value == name && $0.id.type.description == "_ipps._tcp" }
            }
            try await poll(timeout: .seconds(20), "staff's secure printer on students") { secure(watchers[1], "Staff Secure") }
            try await poll(timeout: .seconds(20), "students' secure printer on guests") { secure(watchers[2], "Student Secure") }
            let status = try await pollValue(timeout: .seconds(10), "the router holding students' secure printer off staff") {
                let status = try? await Self.status(bed)
                let links = status?["links"] as? [[String: Any]] ?? []
                return links.first { $0["name"] as? String == "staff" }?["held"] as? Int == 1 ? links : nil
            }
            #expect(status.compactMap { $0["name"] as? String } == Self.links)
            #expect(!watchers[0].all.contains { $0.line.id.name.value == "Student Secure" }, "never on staff")
            #expect(secure(watchers[2], "Staff Secure"), "the rule names staff → students only")

            // explain follows students' secure printer to both other links: kept off staff by the rule's reverse.
            let explain = try await bed.run(.router, [try BuildProducts.executable("z2z"), "explain", "Student Secure"])
            #expect(explain.exitCode == 3, "something stops: \(explain.stdout)")
            #expect(explain.stdout.contains("stops at import_policy: onto link staff: denied by rule 1"), "\(explain.stdout)")
            #expect(explain.stdout.contains("crosses: published on link guests"), "\(explain.stdout)")

            // The services list names each service's link, and /metrics counts per link.
            let services = try await bed.runChecked(.router, [try BuildProducts.executable("z2z"), "services", "--json"])
            #expect(services.contains("\"link\"") && services.contains("students"))
            let metrics = try await bed.runChecked(.router, ["/usr/bin/python3", "-c",
                "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:7401/metrics').read().decode())"])
            #expect(metrics.contains("z2z_link_services{link=\"staff\",origin=\"imported\"}"), "\(metrics.prefix(2000))")

            // The dashboard, in headless Chromium: the links in the header, each service's link in its row.
            let chromium = ["timeout", "60", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--no-first-run", "--user-data-dir=\(bed.directory)/router/chromium", "--window-size=1280,900",
                            "--virtual-time-budget=3000", "--dump-dom", "http://127.0.0.1:7401/?stream_seconds=1"]
            let dom = try await pollValue(timeout: .seconds(60), "the links on the dashboard") {
                let page = try await bed.runChecked(.router, chromium, timeout: .seconds(70))
                return page.contains(#"data-link="students""#) ? page : nil
            }
            #expect(dom.contains("links: staff (br1:"), "the header names the links")
            #expect(dom.contains("on students from staff"), "an import's row says where it is and where it comes from")

            // Withdrawal: staff's printer says goodbye; the other links drop it within 2 s of staff's own hosts.
            let withdrawn = ContinuousClock.now
            publishers[0].terminate()
            let goneHome = try await pollValue(timeout: .seconds(10), "the printer's removal on staff") {
                watchers[0].first(after: withdrawn) { $0.kind == .removed && $0.id.name.value == "Office Printer" && $0.isIPv4 }
            }
            for (index, watcher) in watchers.enumerated().dropFirst() {
                let gone: ContinuousClock.Instant
                do {
                    gone = try await pollValue(timeout: .seconds(10), "the printer's removal on link \(index + 1)") {
                        watcher.first(after: withdrawn) { line in
                            line.kind == .removed && line.isIPv4 && line.id.name.value.hasPrefix("Office Printer")
                                && line.id.name.value != (index == 1 ? "Office Printer" : "")
                        }
                    }
                } catch {
                    let lines = watcher.all.filter { $0.at >= withdrawn || $0.line.id.name.value.hasPrefix("Office") }
                        .map { "\($0.at - withdrawn) \($0.line)" }.joined(separator: "\n")
                    let log = router.errorOutput.suffix(30).joined(separator: "\n")
                    let z2z = try BuildProducts.executable("z2z")
                    let services = (try? await bed.runChecked(.router, [z2z, "services"])) ?? "?"
                    let events = (try? await bed.runChecked(.router, [z2z, "events"])) ?? "?"
                    Issue.record(Comment(rawValue: "\(error)\n\(lines)\n\(services)\n\(events)\n\(log)"))
                    throw error
                }
                #expect(gone - goneHome < .seconds(2), "link \(index + 1) dropped it \(gone - goneHome) after staff")
            }
            #expect(ipp(watchers[1]).map(\.id.name.value).sorted() == ["Guest Screen", "Office Printer"])

            // No host renamed itself or a service: no conflicts in any avahi-daemon's log, no collisions.
            for host in (1...3).flatMap({ bed.hosts(onIsland: $0) }) + [.router] {
                #expect(!bed.avahiLog(host).localizedCaseInsensitiveContains("conflict"), "\(host): \(bed.avahiLog(host))")
            }
            for publisher in publishers {
                #expect(!publisher.errorOutput.contains { $0.localizedCaseInsensitiveContains("collision") })
            }
            // SIGTERM: the router withdraws what it published, with goodbyes on every link.
            let stopped = ContinuousClock.now
            let result = await router.stop(grace: .seconds(10))
            #expect(result.exitCode == 0, "z2zd exit: \(result)")
            let goneFromStaff = try await pollValue(timeout: .seconds(5), "students' printer gone from staff after SIGTERM") {
                watchers[0].first(after: stopped) { $0.kind == .removed && $0.isIPv4 && $0.id.name.value == "Office Printer (students)" }
            }
            #expect(goneFromStaff - stopped < .seconds(3), "gone \(goneFromStaff - stopped) after SIGTERM")
        }
    }

    /// Publishes "Lab Printer" (_ipp._tcp, TXT rp=one) through avahi-daemon's D-Bus API,
    /// prints "published"; on SIGUSR1 updates its TXT in place to rp=two (avahi-daemon
    /// announces the new record, no goodbye) and prints "updated".
    static let txtPublisher = """
        import dbus, signal, sys, threading
        bus = dbus.SystemBus()
        server = dbus.Interface(bus.get_object("org.freedesktop.Avahi", "/"), "org.freedesktop.Avahi.Server")
        group = dbus.Interface(bus.get_object("org.freedesktop.Avahi", server.EntryGroupNew()), "org.freedesktop.Avahi.EntryGroup")
        group.AddService(dbus.Int32(-1), dbus.Int32(-1), dbus.UInt32(0), "Lab Printer", "_ipp._tcp", "", "",
                         dbus.UInt16(631), [dbus.ByteArray(b"rp=one")])
        group.Commit()
        print("published", flush=True)
        asked = threading.Event()
        signal.signal(signal.SIGUSR1, lambda *_: asked.set())
        asked.wait()
        group.UpdateServiceTxt(dbus.Int32(-1), dbus.Int32(-1), dbus.UInt32(0), "Lab Printer", "_ipp._tcp", "",
                               [dbus.ByteArray(b"rp=two")])
        print("updated", flush=True)
        threading.Event().wait()
        """

    /// Router mode resolves each service once and then asks the link nothing about it
    /// (`ResolutionUpkeep.onChange`): what changes reaches the other links because the
    /// router hears it announced. A TXT updated in place, and an address the service's host
    /// gains, both cross.
    @Test(.timeLimit(.minutes(2)))
    func aTXTUpdatedInPlaceAndANewHostAddressCrossThoughTheRouterResolvedOnce() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(routerAvahi: true)) { bed in
            let publisher = try bed.spawn(.i(1, h: 1), ["/usr/bin/python3", "-c", Self.txtPublisher])
            _ = try await publisher.waitForLine(containing: "published")
            let router = try bed.spawn(.router, try Gateway.daemonArguments(bed, .router) + [
                "--link", "br1=staff", "--link", "br2=students",
            ])
            // A browse of its own each time: avahi-browse resolves an instance once and
            // would not show a later TXT (it frees its resolver after the first answer).
            var seen = ""
            let printerOnStudents = { (txt: String) async -> Bool in
                seen = (try? await bed.runChecked(.i(2, h: 2), ["avahi-browse", "-rpt", "_ipp._tcp"], timeout: .seconds(10))) ?? ""
                return seen.split(separator: "\n").contains { $0.hasPrefix("=;") && $0.contains("Lab\\032Printer") && $0.hasSuffix("\"\(txt)\"") }
            }
            do {
                try await poll(timeout: .seconds(20), "the printer on students") { await printerOnStudents("rp=one") }
                publisher.send(SIGUSR1)
                _ = try await publisher.waitForLine(containing: "updated")
                try await poll(timeout: .seconds(10), "the updated TXT on students") { await printerOnStudents("rp=two") }
            } catch {
                Issue.record("\(error)\n\(seen)\n\(router.errorOutput.suffix(30).joined(separator: "\n"))")
                throw error
            }

            // The host gains an address: its avahi-daemon announces it, and the router's
            // import on students carries it.
            let added = bed.address(of: .i(1, h: 1)).v4.split(separator: ".").dropLast().joined(separator: ".") + ".200"
            _ = try await bed.runChecked(.i(1, h: 1), ["ip", "addr", "add", "\(added)/24", "dev", "eth0"])
            let z2z = try BuildProducts.executable("z2z")
            do {
                try await poll(timeout: .seconds(15), "the new address on the import") {
                    let output = (try? await bed.runChecked(.router, [z2z, "services", "--json"], timeout: .seconds(10))) ?? ""
                    let object = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any]
                    let services = object?["services"] as? [[String: Any]] ?? []
                    return services.contains { service in
                        service["link"] as? String == "students" && "\(service)".contains("Lab Printer")
                            && (service["addresses"] as? [[String: Any]] ?? []).contains { $0["address"] as? String == added }
                    }
                }
            } catch {
                let services = (try? await bed.runChecked(.router, [z2z, "services", "--json"])) ?? "?"
                Issue.record("\(error)\n\(services)\n\(router.errorOutput.suffix(30).joined(separator: "\n"))")
                throw error
            }
            // The import's host now has two IPv4 addresses: avahi-daemon took both (they are
            // no "local name collision" with each other).
            #expect(!router.errorOutput.contains { $0.contains("failed") }, "\(router.errorOutput.suffix(20))")
            #expect(!bed.avahiLog(.i(1, h: 1)).localizedCaseInsensitiveContains("conflict"))
        }
    }

    static func status(_ bed: Testbed) async throws -> [String: Any] {
        let output = try await bed.runChecked(.router, [try BuildProducts.executable("z2z"), "status", "--json"], timeout: .seconds(10))
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
