import Config
import Foundation
import Testing
import Z2ZAPI

/// The built `z2z` against a real API server in this process (127.0.0.1, in-memory gateway).
@Suite(.timeLimit(.minutes(2)))
struct CLITests {
    @Test func statusPrintsTheGatewayAtAGlanceAndExitsZeroWhenHealthy() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["status", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == """
                island    office (1a2b3c4d5e6f7081)   network z2z
                role      leader   (node 3f2a9c1e; leader: this gateway)
                stage     interconnection
                peers     2
                services  1 local, 1 imported, 1 exported
                avahi     connected
                uptime    2h 13m
                health    ok

                """)
        }
    }

    @Test func statusExitsTwoWhenDegradedAndSaysWhy() async throws {
        try await withDaemon { api, source in
            source.update {
                $0.status.health = Health(state: .degraded, reasons: ["no other island reachable; check dht.bootstrap"])
                $0.status.role = .follower
                $0.status.leaderID = CLIFixture.labLeader
            }
            let result = try await z2z(["status", "--api", api])
            #expect(result.status == 2, "\(result)")
            #expect(result.stdout.contains("role      follower   (node 3f2a9c1e; leader: 77aa88bb)"))
            #expect(result.stdout.contains("health    degraded\n          - no other island reachable; check dht.bootstrap\n"))
        }
    }

    /// Router mode: each link with its exchange's counts and its gateway towards the DHT; a
    /// link another gateway leads says so.
    @Test func statusOfARouterShowsEachLinksGateway() async throws {
        try await withDaemon { api, source in
            source.update {
                let leading = LinkGatewayInfo(nodeID: CLIFixture.nodeID, role: .leader, leaderID: CLIFixture.nodeID, island: CLIFixture.officeID,
                                              stage: .structure, peerCount: 3, imported: 4, exported: 2, port: 7400)
                let following = LinkGatewayInfo(nodeID: CLIFixture.nodeID, role: .follower, leaderID: CLIFixture.labLeader, island: CLIFixture.labID,
                                                stage: .bootstrapping, peerCount: 1, imported: 0, exported: 0, port: 7404)
                $0.status.links = [
                    LinkInfo(name: "staff", interface: "lan0", island: CLIFixture.officeID, local: 2, imported: 1, held: 0,
                             avahi: AvahiStatus(state: .connected), inExchange: true, gateway: leading),
                    LinkInfo(name: "students", interface: "lan1", island: CLIFixture.labID, local: 1, imported: 0, held: 0,
                             avahi: AvahiStatus(state: .connected), inExchange: false, gateway: following),
                ]
            }
            let result = try await z2z(["status", "--api", api])
            #expect(result.status == 0, "\(result)")
            let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines.contains("LINK INTERFACE ISLAND LOCAL IMPORTED HELD AVAHI GATEWAY STAGE PEERS FROM DHT TO DHT"))
            #expect(lines.contains("staff lan0 1a2b3c4d 2 1 0 connected leader structure 3 4 2"))
            #expect(lines.contains("students lan1 00000000 1 - 0 connected follower of 77aa88bb bootstrapping 1 0 0"))
            #expect(lines.contains("link students is led by another gateway: it and the other links reach each other through the DHT"))
        }
    }

    @Test func statusExitsOneOnAnError() async throws {
        try await withDaemon { api, source in
            source.update {
                $0.status.health = Health(state: .error, reasons: ["avahi-daemon is not running"])
                $0.status.avahi = AvahiStatus(state: .unavailable, detail: "Daemon not running")
            }
            let result = try await z2z(["status", "--api", api])
            #expect(result.status == 1, "\(result)")
            #expect(result.stdout.contains("avahi     unavailable (Daemon not running)"))
        }
    }

    @Test func jsonIsTheAPIsJSONByteForByte() async throws {
        try await withDaemon { api, source in
            let expected = String(decoding: try APIJSON.encoder().encode(await source.status()), as: UTF8.self)
            let result = try await z2z(["status", "--json", "--api", api])
            #expect(result.status == 0)
            #expect(result.stdout == expected + "\n")
            for command in [["islands"], ["peers"], ["services"], ["policy", "test", "_ipp._tcp", "lab"]] {
                let output = try await z2z(command + ["--json", "--api", api])
                #expect(output.status == 0, "\(command): \(output)")
                #expect(output.stdout.hasPrefix("{") && output.stdout.hasSuffix("}\n"), "\(command)")
            }
        }
    }

    @Test func anUnreachableDaemonIsExitOneNamingTheAddressAndHowToStartIt() async throws {
        let address = "127.0.0.1:\(try unusedPort())"
        let result = try await z2z(["status", "--api", address])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("cannot reach the z2z daemon at http://\(address) (connection refused)"), "\(result)")
        #expect(result.stderr.contains("systemctl start z2zd"))
        for command in [["islands"], ["peers"], ["services"], ["policy", "test", "_ipp._tcp", "lab"], ["config", "check"]] {
            #expect(try await z2z(command + ["--api", address]).status == 1, "\(command)")
        }
    }

    @Test func theAPIAddressComesFromTheEnvironmentWhenNotGiven() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["status"], environment: ["Z2Z_API": api])
            #expect(result.status == 0, "\(result)")
        }
        let unreachable = try await z2z(["status"], environment: ["Z2Z_API": "127.0.0.1:\(try unusedPort())"])
        #expect(unreachable.status == 1)
    }

    @Test func theAPIAddressMayComeBeforeTheCommandAsWithSystemctl() async throws {
        try await withDaemon { api, _ in
            for arguments in [["--api", api, "status"], ["--api=\(api)", "status", "--json"], ["--api", api, "policy", "test", "_ipp._tcp", "lab"]] {
                let result = try await z2z(arguments)
                #expect(result.status == 0, "\(arguments): \(result)")
            }
        }
        // A command that does not talk to the daemon still refuses it, wherever it stands.
        #expect(try await z2z(["--api", "127.0.0.1:7401", "local"]).status == 64)
    }

    @Test func aBadAPIAddressIsAUsageError() async throws {
        let result = try await z2z(["status", "--api", "nowhere"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--api nowhere"))
    }

    @Test func islandsAndPeersPrintTables() async throws {
        try await withDaemon { api, _ in
            let islands = try await z2z(["islands", "--api", api])
            #expect(islands.status == 0)
            let lines = islands.stdout.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("ISLAND             NAME    LEADER    LEADER ENDPOINT"))
            #expect(lines[1].hasPrefix("*1a2b3c4d5e6f7081  office  3f2a9c1e  192.0.2.10:7400    here"))
            #expect(lines[2].hasPrefix(" 0000000000000042  lab     77aa88bb  198.51.100.7:7400  3h 0m ago"))

            let peers = try await z2z(["peers", "--api", api])
            #expect(peers.status == 0)
            #expect(peers.stdout.contains("77aa88bb  198.51.100.7:7400  other island  leader  lab (0000000000000042)  12.5 ms  alive"))
        }
    }

    @Test func servicesFilterAndPrintATable() async throws {
        try await withDaemon { api, _ in
            let all = try await z2z(["services", "--api", api])
            #expect(all.status == 0)
            #expect(all.stdout.contains("Lab Printer; 2.OG  _ipp._tcp   local     office (1a2b3c4d5e6f7081)  192.0.2.20:631"))
            #expect(all.stdout.contains("Camera             _rtsp._tcp  imported  lab (0000000000000042)     198.51.100.30:554  permit (rule 2)"))

            let imported = try await z2z(["services", "--origin", "imported", "--api", api])
            #expect(imported.stdout.contains("Camera") && !imported.stdout.contains("Printer"))
            let printers = try await z2z(["services", "-t", "_ipp._tcp", "--api", api])
            #expect(printers.stdout.contains("Printer") && !printers.stdout.contains("Camera"))
            let none = try await z2z(["services", "--origin", "local", "--type", "_rtsp._tcp", "--api", api])
            #expect(none.stdout == "No services.\n")
        }
    }

    /// How each import is reached: direct, relayed via which leader and why, or held back as
    /// unreachable; the status counts the relayed ones.
    @Test func servicesShowHowEachImportIsReached() async throws {
        try await withDaemon { api, source in
            source.update {
                $0.services[1].route = ImportRoute(path: .relayed, reason: "lan_not_routed", relayLeader: "77aa88bb",
                                                   summary: "relayed via leader 77aa88bb: LAN not routed")
                $0.services.append(ServiceJSON(name: "Sensor", type: "_coap._udp", host: "", port: 5683, origin: .imported,
                                               island: IslandRef(id: CLIFixture.labID, name: "lab"),
                                               route: ImportRoute(path: .unreachable, summary: "unreachable: no routable address, and the relay is off")))
                $0.status.services.relayed = ["lan_not_routed": 1]
            }
            let all = try await z2z(["services", "--api", api])
            #expect(all.status == 0, "\(all)")
            let lines = all.stdout.split(separator: "\n")
            #expect(lines.first?.hasSuffix("PATH") == true, "\(all.stdout)")
            #expect(lines.first { $0.hasPrefix("Lab Printer") }?.hasSuffix("  -") == true, "a local service has no path")
            #expect(lines.first { $0.hasPrefix("Camera") }?.hasSuffix("  relayed via leader 77aa88bb: LAN not routed") == true)
            #expect(lines.first { $0.hasPrefix("Sensor") }?.hasSuffix("  unreachable: no routable address, and the relay is off") == true)
            let status = try await z2z(["status", "--api", api])
            #expect(status.stdout.contains("services  1 local, 1 imported (1 relayed), 1 exported"))
        }
    }

    @Test func servicesParsableIsAvahiBrowseOrderPlusOrigin() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["services", "-p", "--api", api])
            #expect(result.status == 0)
            #expect(result.stdout == #"""
                =;eth0;IPv4;Lab\032Printer\059\0322\.OG;_ipp._tcp;local;printer.local;192.0.2.20;631;"bin=\001\255" "rp=printers/lab";local
                =;eth0;IPv6;Lab\032Printer\059\0322\.OG;_ipp._tcp;local;printer.local;2001:db8::20;631;"bin=\001\255" "rp=printers/lab";local
                =;eth0;IPv4;Camera;_rtsp._tcp;local;camera-lab.local;198.51.100.30;554;;imported

                """#)
        }
    }

    @Test func servicesOptionsAreValidatedBeforeAskingTheDaemon() async throws {
        #expect(try await z2z(["services", "--origin", "remote"]).status == 64)
        #expect(try await z2z(["services", "--type", "ipp"]).status == 64)
        #expect(try await z2z(["services", "--json", "--parsable"]).status == 64)
    }

    @Test func policyTestNamesTheDecidingRule() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["policy", "test", "_ssh._tcp", "lab", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == """
                _ssh._tcp and island lab (0000000000000042):
                  export  deny    by rule 1 (line 3): deny both type=_ssh._tcp island=*
                  import  deny    by rule 1 (line 3): deny both type=_ssh._tcp island=*

                """)
            let byDefault = try await z2z(["policy", "test", "_ipp._tcp", "1a2b3c4d5e6f7081", "--api", api])
            #expect(byDefault.stdout.contains("export  deny    by default"))
            #expect(byDefault.stdout.contains("island office (1a2b3c4d5e6f7081)"))
            let json = try await z2z(["policy", "test", "_ipp._tcp", "lab", "--json", "--api", api])
            let decoded = try APIJSON.decoder().decode(PolicyTestResult.self, from: Data(json.stdout.utf8))
            #expect(decoded.importVerdict.ruleNumber == 2 && decoded.importVerdict.ruleLine == 6)
        }
    }

    /// `z2z policy test TYPE FROM TO`: the crossing's verdict first, then each side's.
    @Test func policyTestWithADestinationAnswersForTheCrossing() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["policy", "test", "_ssh._tcp", "lab", "office", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.hasPrefix("_ssh._tcp from lab (0000000000000042) to office (1a2b3c4d5e6f7081):\n"), "\(result.stdout)")
            #expect(result.stdout.contains("  crossing  deny    by rule 1 (line 3): deny both type=_ssh._tcp island=*"), "\(result.stdout)")
            #expect(try await z2z(["policy", "test", "_ssh._tcp", "lab", "", "--api", api]).status == 64)
        }
    }

    @Test func policyTestTakesAnInstancesNameHostAndAddresses() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["policy", "test", "_ipp._tcp", "office", "--name", "Lab Printer", "--host", "printer.local",
                                        "--address", "192.0.2.20", "--address", "2001:db8::20", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == """
                _ipp._tcp named "Lab Printer" on printer.local at 192.0.2.20, 2001:db8::20 and island office (1a2b3c4d5e6f7081):
                  export  permit  by rule 3 (line 10): permit export type=* island=* name="Lab*"
                  import  permit  by rule 4 (line 14): permit both type=* island=* address=192.0.2.0/24

                """)
            let json = try await z2z(["policy", "test", "_ipp._tcp", "office", "--name", "lab printer", "--json", "--api", api])
            let decoded = try APIJSON.decoder().decode(PolicyTestResult.self, from: Data(json.stdout.utf8))
            #expect(decoded.name == "lab printer" && decoded.exportVerdict.ruleNumber == 3 && decoded.importVerdict.ruleNumber == nil)
            #expect(decoded.importVerdict.passedOver == [4] && decoded.exportVerdict.passedOver == nil)
        }
    }

    @Test func policyTestWithoutAnInstanceNamesTheRulesItPassedOver() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["policy", "test", "_ipp._tcp", "office", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == """
                _ipp._tcp and island office (1a2b3c4d5e6f7081):
                  export  deny    by default
                          passed over rules 3, 4: they match by a name, host or address not given (--name, --host, --address)
                  import  deny    by default
                          passed over rule 4: it matches by a name, host or address not given (--name, --host, --address)

                """)
        }
    }

    @Test func policyTestRefusesABadNameHostOrAddressBeforeAskingTheDaemon() async throws {
        #expect(try await z2z(["policy", "test", "_ipp._tcp", "lab", "--address", "10.0.0.0/8"]).status == 64)
        #expect(try await z2z(["policy", "test", "_ipp._tcp", "lab", "--address", "printer"]).status == 64)
        #expect(try await z2z(["policy", "test", "_ipp._tcp", "lab", "--name", ""]).status == 64)
        #expect(try await z2z(["policy", "test", "_ipp._tcp", "lab", "--host", "a..b"]).status == 64)
    }

    @Test func configCheckOfAFileWorksWithoutADaemon() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/good.toml", bad = directory + "/bad.toml"
        try "[dht]\nport = 7400\n".write(toFile: good, atomically: true, encoding: .utf8)
        try "[dht]\nport = 7400\nbootstap = []\n[sip]\nport = \"5060\"\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let unreachable = "127.0.0.1:\(try unusedPort())"

        let ok = try await z2z(["config", "check", good, "--api", unreachable])
        #expect(ok.status == 0 && ok.stdout == "\(good): OK\n", "\(ok)")

        let failed = try await z2z(["config", "check", bad])
        #expect(failed.status == 1)
        #expect(failed.stdout == """
            \(bad):3: dht.bootstap: unknown key in [dht] (did you mean "bootstrap"?); known: engine, port, bootstrap, structure_threshold, subnet_limit
            \(bad):5: sip.port: expected an integer, found a string ("5060")
            \(bad): 2 problems

            """)

        let json = try await z2z(["config", "check", bad, "--json"])
        let result = try APIJSON.decoder().decode(ConfigCheckResult.self, from: Data(json.stdout.utf8))
        #expect(json.status == 1 && !result.ok && result.problems.map(\.line) == [3, 5])
    }

    @Test func configCheckWithoutAFileAsksTheDaemon() async throws {
        try await withDaemon { api, _ in
            let result = try await z2z(["config", "check", "--api", api])
            #expect(result.status == 0)
            #expect(result.stdout == "the configuration (defaults, environment and flags): OK\n")
        }
    }

    @Test func shippedConfigurationChecksClean() async throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/z2z.toml").path
        let result = try await z2z(["config", "check", shipped])
        #expect(result.status == 0, "\(result)")
    }

    @Test func helpIsWrittenForAPerson() async throws {
        let help = try await z2z(["--help"])
        #expect(help.status == 0)
        for command in ["status", "islands", "peers", "services", "policy", "config", "local"] {
            #expect(help.stdout.contains("  \(command)"), "\(command)")
        }
        // Words, not line breaks: ArgumentParser wraps to the terminal's width.
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("Exit status: 0 ok, 1 error (including: the daemon cannot be reached), 2 degraded"))
        let services = try await z2z(["help", "services"])
        #expect(services.stdout.contains("=;interface;protocol;name;type;domain;host;address;port;txt;origin"))
        #expect(services.stdout.contains("--api <host:port>"))
        let policy = try await z2z(["policy", "test", "--help"])
        #expect(policy.stdout.contains("z2z policy test _ipp._tcp headquarters"))
        let policyWords = policy.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for option in ["--name <name>", "--host <host>", "--address <address>", "a rule that matches by a fact not given is passed over",
                       #"z2z policy test _airplay._tcp north --name "Room 12 TV" --address 10.1.2.7"#] {
            #expect(policyWords.contains(option), "\(option)")
        }
    }
}
