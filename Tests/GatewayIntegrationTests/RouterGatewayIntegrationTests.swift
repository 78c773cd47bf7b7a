import DNSSD
import Foundation
import Gateway
import Testbed
import Testing

/// Router mode towards the rest of the network (issue 16: "the router box and an ordinary
/// z2zd on a fourth, separate island exchange services"). The testbed's router namespace is
/// one box on four LANs running one avahi-daemon and one z2zd with links on three of them
/// (br1..br3: staff, students, guests); island 4 is an ordinary island behind the same IP
/// router — the router's z2zd has no link there — with an ordinary z2zd on i4h1. The two
/// meet through the DHT (each names the other as its seed). Every wait is a poll with a
/// deadline.
@Suite(.serialized) struct RouterGatewayIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func aRoutersLinksAndAnOrdinaryIslandExchangeServicesOnceEachAndWithdrawalsFollow() async throws {
        try await Testbed.with(islands: 4, hosts: 2, topology: .init(routerAvahi: true)) { bed in
            let staff = try BrowseWatcher(bed, .i(1, h: 2), type: "_ipp._tcp")
            let students = try BrowseWatcher(bed, .i(2, h: 2), type: "_ipp._tcp")
            let four = try BrowseWatcher(bed, .i(4, h: 2), type: "_ipp._tcp")

            let staffPrinter = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "Staff Printer", "_ipp._tcp", "631", "rp=staff"])
            try await staffPrinter.waitForErrorLine(containing: "Established")
            let labPrinter = try bed.spawn(.i(4, h: 2), ["avahi-publish", "-s", "Lab Printer", "_ipp._tcp", "632", "rp=lab"])
            try await labPrinter.waitForErrorLine(containing: "Established")

            // The native engine's default port is the first link gateway's (dht.port + 4 × link).
            let router = try bed.spawn(.router, try Gateway.daemonArguments(bed, .router) + [
                "--link", "br1=staff", "--link", "br2=students", "--link", "br3=guests",
                "--bootstrap", "\(bed.address(of: .i(4, h: 1)).v4):7400",
            ])
            let ordinary = try bed.spawn(.i(4, h: 1), try Gateway.daemonArguments(bed, .i(4, h: 1)) + [
                "--island", "four", "--bootstrap", "\(bed.gateway(ofIsland: 4).v4):7400",
            ])
            func logs() -> String {
                "== router\n\(router.errorOutput.suffix(30).joined(separator: "\n"))\n"
                    + "== i4h1\n\(ordinary.errorOutput.suffix(30).joined(separator: "\n"))"
            }
            func printers(_ watcher: BrowseWatcher, _ prefix: String) -> [BrowseLine] {
                watcher.present.filter { $0.isIPv4 && $0.id.name.value.hasPrefix(prefix) && $0.resolution != nil }
            }

            do {
                // A router link's service on the fourth island, with its fields and its host's address.
                let staffOnFour = try await pollValue(timeout: .seconds(45), "staff's printer on island 4") {
                    printers(four, "Staff Printer").first
                }
                #expect(staffOnFour.id.name.value == "Staff Printer")
                #expect(staffOnFour.resolution?.port == 631)
                #expect(staffOnFour.resolution?.txt.entries.count == 1)
                #expect(staffOnFour.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true)
                let staffHost = bed.address(of: .i(1, h: 1))
                #expect([staffHost.v4, staffHost.v6].contains(staffOnFour.resolution?.address.description ?? ""))

                // The fourth island's service on the router's links.
                for watcher in [staff, students] {
                    let lab = try await pollValue(timeout: .seconds(45), "island 4's printer on \(watcher.host)") {
                        printers(watcher, "Lab Printer").first
                    }
                    #expect(lab.id.name.value == "Lab Printer")
                    #expect(lab.resolution?.port == 632)
                    let labHost = bed.address(of: .i(4, h: 2))
                    #expect([labHost.v4, labHost.v6].contains(lab.resolution?.address.description ?? ""))
                }
                // And staff's printer still crosses to students in process, once.
                try await poll(timeout: .seconds(20), "staff's printer on students") { !printers(students, "Staff Printer").isEmpty }
            } catch {
                Issue.record("\(error)\n\(logs())")
                throw error
            }

            // The router's services list names the link each import of island 4 is on: all three.
            let z2z = try BuildProducts.executable("z2z")
            try await poll(timeout: .seconds(20), every: .milliseconds(500), "island 4's printer listed on every link by z2z services") {
                guard let output = try? await bed.runChecked(.router, [z2z, "services", "--json"], timeout: .seconds(10)),
                      let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else { return false }
                let listed = json["services"] as? [[String: Any]] ?? []
                let links = listed.filter { $0["name"] as? String == "Lab Printer" && $0["origin"] as? String == "imported" }
                    .compactMap { $0["link"] as? String }
                return links.sorted() == ["guests", "staff", "students"]
            }

            // z2z explain follows island 4's printer onto staff through staff's gateway.
            try await poll(timeout: .seconds(20), every: .milliseconds(500), "island 4's printer explained by staff's gateway") {
                guard let output = try? await bed.runChecked(.router, [z2z, "explain", "Lab Printer._ipp._tcp", "--json"],
                                                             timeout: .seconds(20)),
                      let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else { return false }
                let traces = json["traces"] as? [[String: Any]] ?? []
                return traces.contains {
                    ($0["verdict"] as? String)?.hasPrefix("link staff's gateway (leader): ") == true && $0["crossed"] as? Bool == true
                }
            }

            // z2z status follows each link's gateway towards the DHT: all three lead their links
            // (the exchange's), and staff's exported its printer.
            try await poll(timeout: .seconds(20), every: .milliseconds(500), "each link's gateway leading in z2z status") {
                guard let output = try? await bed.runChecked(.router, [z2z, "status", "--json"], timeout: .seconds(10)),
                      let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                      let links = json["links"] as? [[String: Any]], links.count == 3 else { return false }
                let gateways = links.compactMap { $0["gateway"] as? [String: Any] }
                let staffExports = links.first { $0["name"] as? String == "staff" }.flatMap { $0["gateway"] as? [String: Any] }?["exported"]
                return gateways.count == 3 && gateways.allSatisfy { $0["role"] as? String == "leader" }
                    && links.allSatisfy { $0["in_exchange"] as? Bool == true } && staffExports as? Int == 1
            }

            // Exactly once each: the links' gateways leave their sibling links to the exchange.
            #expect(printers(four, "Staff Printer").count == 1, "\(printers(four, "Staff Printer"))")
            #expect(printers(students, "Staff Printer").count == 1, "\(printers(students, "Staff Printer"))")
            #expect(printers(staff, "Lab Printer").count == 1, "\(printers(staff, "Lab Printer"))")
            #expect(printers(students, "Lab Printer").count == 1, "\(printers(students, "Lab Printer"))")

            // Withdrawals follow both ways.
            let withdrawn = ContinuousClock.now
            labPrinter.terminate()
            staffPrinter.terminate()
            do {
                for watcher in [staff, students] {
                    try await poll(timeout: .seconds(15), "island 4's printer gone from \(watcher.host)") {
                        printers(watcher, "Lab Printer").isEmpty
                    }
                }
                try await poll(timeout: .seconds(15), "staff's printer gone from island 4") { printers(four, "Staff Printer").isEmpty }
            } catch {
                let lines = (staff.all + four.all).filter { $0.at >= withdrawn }.map { "\($0.at - withdrawn) \($0.line)" }
                Issue.record("\(error)\n\(lines.joined(separator: "\n"))\n\(logs())")
                throw error
            }

            // Never a second copy (an import yielding to another under a suffixed name), never
            // a service imported back onto its own link, in the whole run.
            for watcher in [staff, students, four] {
                let copies = watcher.all.map(\.line).filter { $0.isIPv4 && $0.id.name.value.contains(" Printer (") }
                #expect(copies.isEmpty, "\(watcher.host): \(copies)")
            }
            #expect(!staff.all.contains { $0.line.isIPv4 && $0.line.id.name.value == "Staff Printer"
                && $0.line.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true }, "never back on staff")

            // No host renamed itself or a service.
            for host in [HostRef.i(1, h: 1), .i(1, h: 2), .i(2, h: 2), .i(4, h: 1), .i(4, h: 2), .router] {
                #expect(!bed.avahiLog(host).localizedCaseInsensitiveContains("conflict"), "\(host): \(bed.avahiLog(host))")
            }
            let stopped = await router.stop(grace: .seconds(10))
            #expect(stopped.exitCode == 0, "router z2zd exit: \(stopped)")
            _ = await ordinary.stop(grace: .seconds(10))
        }
    }

    /// Two routers meet (issue 16): router A on links 1 and 2, router B on links 3 and 4,
    /// both naming their links `staff` and `students`. Same names, different links: four
    /// islands, so each router's services reach the other's links through the DHT, once, while
    /// each router's own links cross in process. The testbed has one router namespace, so the
    /// two are two z2zd processes there (own state, DHT ports 7400/7404 and 7500/7504, API
    /// ports) sharing its avahi-daemon — each browses and publishes only on its own interfaces.
    @Test(.timeLimit(.minutes(2)))
    func twoRoutersWithSameNamedLinksExchangeServicesBetweenTheirLinksOnce() async throws {
        try await Testbed.with(islands: 4, hosts: 2, topology: .init(routerAvahi: true)) { bed in
            let watchers = try (1...4).map { try BrowseWatcher(bed, .i($0, h: 2), type: "_ipp._tcp") }
            let aPrinter = try bed.spawn(.i(1, h: 1), ["avahi-publish", "-s", "A Staff Printer", "_ipp._tcp", "631", "rp=a"])
            try await aPrinter.waitForErrorLine(containing: "Established")
            let bPrinter = try bed.spawn(.i(4, h: 1), ["avahi-publish", "-s", "B Student Printer", "_ipp._tcp", "632", "rp=b"])
            try await bPrinter.waitForErrorLine(containing: "Established")

            let z2zd = try BuildProducts.executable("z2zd"), key = try bed.networkKeyFile()
            let routerA = try bed.spawn(.router, [z2zd, "--state-dir", "\(bed.directory)/router/z2z-a", "--network-key-file", key,
                                                  "--link", "br1=staff", "--link", "br2=students",
                                                  "--bootstrap", "\(bed.gateway(ofIsland: 3).v4):7500"])
            let routerB = try bed.spawn(.router, [z2zd, "--state-dir", "\(bed.directory)/router/z2z-b", "--network-key-file", key,
                                                  "--dht-port", "7500", "--api", "127.0.0.1:7501",
                                                  "--link", "br3=staff", "--link", "br4=students",
                                                  "--bootstrap", "\(bed.gateway(ofIsland: 1).v4):7400"])
            func logs() -> String {
                "== router A\n\(routerA.errorOutput.suffix(30).joined(separator: "\n"))\n"
                    + "== router B\n\(routerB.errorOutput.suffix(30).joined(separator: "\n"))"
            }
            func printers(_ watcher: BrowseWatcher, _ name: String) -> [BrowseLine] {
                watcher.present.filter { $0.isIPv4 && $0.id.name.value == name && $0.resolution != nil }
            }

            do {
                // Each printer on the three other links: in process on its router's other link,
                // through the DHT on the other router's two.
                for (name, home, port) in [("A Staff Printer", 1, 631), ("B Student Printer", 4, 632)] {
                    for watcher in watchers.indices.filter({ $0 + 1 != home }).map({ watchers[$0] }) {
                        let seen = try await pollValue(timeout: .seconds(45), "\(name) on \(watcher.host)") {
                            printers(watcher, name).first
                        }
                        #expect(seen.resolution?.port == UInt16(port))
                        #expect(seen.resolution.map { SynthesizedHost.isSynthesized($0.host) } == true)
                    }
                }
            } catch {
                Issue.record("\(error)\n\(logs())")
                throw error
            }

            // Same names, four islands: the two routers' staff links are not one island.
            let z2z = try BuildProducts.executable("z2z")
            func islands(api: String) async throws -> [String: String] {
                let output = try await bed.runChecked(.router, [z2z, "status", "--json", "--api", api], timeout: .seconds(10))
                let json = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
                let links = json["links"] as? [[String: Any]] ?? []
                return Dictionary(links.compactMap { link in
                    (link["name"] as? String).flatMap { name in (link["island"] as? String).map { (name, $0) } }
                }, uniquingKeysWith: { first, _ in first })
            }
            let a = try await islands(api: "127.0.0.1:7401"), b = try await islands(api: "127.0.0.1:7501")
            #expect(a.count == 2 && b.count == 2)
            #expect(Set(a.values).isDisjoint(with: b.values), "A \(a), B \(b)")

            // Exactly once per link, and never a suffixed second copy, in the whole run.
            try await Task.sleep(for: .seconds(2))
            for (index, watcher) in watchers.enumerated() {
                for name in ["A Staff Printer", "B Student Printer"] {
                    #expect(printers(watcher, name).count == 1, "link \(index + 1): \(printers(watcher, name))")
                }
                let copies = watcher.all.map(\.line).filter { $0.isIPv4 && $0.id.name.value.contains(" Printer (") }
                #expect(copies.isEmpty, "link \(index + 1): \(copies)")
            }

            // A withdrawal reaches the other router's links.
            aPrinter.terminate()
            for watcher in watchers[1...] {
                try await poll(timeout: .seconds(15), "A's printer gone from \(watcher.host)") { printers(watcher, "A Staff Printer").isEmpty }
            }
            for host in [HostRef.i(1, h: 1), .i(4, h: 1), .router] {
                #expect(!bed.avahiLog(host).localizedCaseInsensitiveContains("conflict"), "\(host): \(bed.avahiLog(host))")
            }
            #expect(await routerA.stop(grace: .seconds(10)).exitCode == 0)
            #expect(await routerB.stop(grace: .seconds(10)).exitCode == 0)
            bPrinter.terminate()
        }
    }

    /// An ordinary z2zd of higher priority leads one of a router's links (issue 16): the
    /// router's exchange leaves that link, and the ordinary gateway imports the router's other
    /// link through the DHT while the router's gateway of that other link imports it — each
    /// service once per link, not once in process and once from the DHT.
    @Test(.timeLimit(.minutes(2)))
    func anOrdinaryGatewayLeadingARoutersLinkGetsEachServiceOnce() async throws {
        try await Testbed.with(islands: 2, hosts: 2, topology: .init(routerAvahi: true)) { bed in
            let staff = try BrowseWatcher(bed, .i(1, h: 2), type: "_ipp._tcp")
            let students = try BrowseWatcher(bed, .i(2, h: 2), type: "_ipp._tcp")
            let staffPrinter = try bed.spawn(.i(1, h: 2), ["avahi-publish", "-s", "Staff Printer", "_ipp._tcp", "631"])
            try await staffPrinter.waitForErrorLine(containing: "Established")
            let studentPrinter = try bed.spawn(.i(2, h: 1), ["avahi-publish", "-s", "Student Printer", "_ipp._tcp", "632"])
            try await studentPrinter.waitForErrorLine(containing: "Established")

            let ordinary = try bed.spawn(.i(1, h: 1), try Gateway.daemonArguments(bed, .i(1, h: 1)) + [
                "--island", "staff-x", "--priority", "200", "--bootstrap", "\(bed.gateway(ofIsland: 1).v4):7400",
            ])
            // It leads staff before the router starts (the router's gateway then follows it).
            _ = try await ordinary.waitForErrorLine(timeout: .seconds(15)) { $0.contains("island transition") && $0.contains("leader") }
            let router = try bed.spawn(.router, try Gateway.daemonArguments(bed, .router) + [
                "--link", "br1=staff", "--link", "br2=students", "--bootstrap", "\(bed.address(of: .i(1, h: 1)).v4):7400",
            ])
            func logs() -> String {
                "== router\n\(router.errorOutput.suffix(30).joined(separator: "\n"))\n"
                    + "== i1h1\n\(ordinary.errorOutput.suffix(30).joined(separator: "\n"))"
            }
            func printers(_ watcher: BrowseWatcher, _ name: String) -> [BrowseLine] {
                watcher.present.filter { $0.isIPv4 && $0.id.name.value == name && $0.resolution != nil }
            }
            do {
                try await poll(timeout: .seconds(45), "students' printer on staff") { !printers(staff, "Student Printer").isEmpty }
                try await poll(timeout: .seconds(45), "staff's printer on students") { !printers(students, "Staff Printer").isEmpty }
            } catch {
                Issue.record("\(error)\n\(logs())")
                throw error
            }
            try await Task.sleep(for: .seconds(3))
            // Who publishes students' printer on staff: the ordinary leader (from the DHT), and
            // not the router too. Two publishers of one name are one line in avahi-browse, so
            // they are counted where they are decided, in each gateway's services.
            func imports(_ host: HostRef, _ name: String, onLink link: String?) async throws -> Int {
                let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z"), "services", "--json"], timeout: .seconds(10))
                let json = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
                return (json["services"] as? [[String: Any]] ?? []).filter {
                    $0["name"] as? String == name && $0["origin"] as? String == "imported" && (link == nil || $0["link"] as? String == link)
                }.count
            }
            #expect(try await imports(.i(1, h: 1), "Student Printer", onLink: nil) == 1, "the ordinary leader imports it")
            #expect(try await imports(.router, "Student Printer", onLink: "staff") == 0, "the router leaves staff to its leader")
            #expect(try await imports(.router, "Staff Printer", onLink: "students") == 1, "from the DHT, once")
            #expect(printers(staff, "Student Printer").count == 1, "\(printers(staff, "Student Printer"))")
            #expect(printers(students, "Staff Printer").count == 1, "\(printers(students, "Staff Printer"))")
            // The exchange's start-up copies are withdrawn before the DHT's arrive: no suffixed copy.
            for watcher in [staff, students] {
                let copies = watcher.all.map(\.line).filter { $0.isIPv4 && $0.id.name.value.contains(" Printer (") }
                #expect(copies.isEmpty, "\(watcher.host): \(copies)")
            }
            // The router's status says who leads staff, and that the link is out of the exchange.
            let z2z = try BuildProducts.executable("z2z")
            try await poll(timeout: .seconds(10), every: .milliseconds(500), "staff led elsewhere in z2z status") {
                guard let output = try? await bed.runChecked(.router, [z2z, "status", "--json"], timeout: .seconds(10)),
                      let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                      let links = json["links"] as? [[String: Any]],
                      let link = links.first(where: { $0["name"] as? String == "staff" }),
                      let gateway = link["gateway"] as? [String: Any] else { return false }
                return link["in_exchange"] as? Bool == false && gateway["role"] as? String == "follower"
            }
            for host in [HostRef.i(1, h: 2), .i(2, h: 1), .router] {
                #expect(!bed.avahiLog(host).localizedCaseInsensitiveContains("conflict"), "\(host): \(bed.avahiLog(host))")
            }
            #expect(await router.stop(grace: .seconds(10)).exitCode == 0)
            _ = await ordinary.stop(grace: .seconds(10))
        }
    }
}
