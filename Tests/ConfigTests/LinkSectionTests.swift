import Config
import Foundation
import Policy
import Testing

/// Router mode's `[[link]]` tables and `--link IFACE[=ISLAND]` flags, and the policy's
/// zones and one-way rules: read, or refused with the key, line and a reason.
struct LinkSectionTests {
    let directory = TemporaryDirectory()

    func loader(flags: ConfigurationOverrides = .init(), environment: [String: String] = [:]) -> ConfigurationLoader {
        ConfigurationLoader(configFile: nil, flags: flags, environment: environment,
                            defaultFilePath: directory.path + "/absent-default.toml")
    }

    @Test func linkTablesAreReadInOrderWithTheInterfaceAsDefaultIslandName() throws {
        let configuration = try parsed("""
            [[link]]
            interface = "eth1"
            island = "staff"

            [[link]]
            interface = "eth1.20"
            """)
        #expect(configuration.links == [LinkSettings(interface: "eth1", island: "staff"), LinkSettings(interface: "eth1.20")])
        #expect(configuration.links.map(\.islandName) == ["staff", "eth1.20"])
        #expect(configuration.isRouter)
        #expect(!GatewayConfiguration.defaults.isRouter)
    }

    @Test func badLinksAreRefusedWithKeyLineAndReason() {
        let found = problems("""
            [[link]]
            island = "staff"

            [[link]]
            interface = "a/b"

            [[link]]
            interface = "eth2"
            vlan = 20

            [[link]]
            interface = "averyveryverylongname"
            """)
        #expect(found.map(\.key) == ["link[1]", "link[2].interface", "link[3].vlan", "link[4].interface"])
        #expect(found.map(\.line) == [1, 5, 9, 12])
        #expect(found[0].reason == .missingKey && found[2].reason == .unknownKey)
        #expect(found[1].message.contains("'/'") && found[3].message.contains("at most 15 bytes"))
    }

    @Test func oneLinkDuplicateInterfacesAndDuplicateNamesAreRefused() {
        let alone = problems("[[link]]\ninterface = \"eth1\"\n")
        #expect(alone.count == 1 && alone.first?.reason == .conflict && alone.first?.message.contains("at least two links") == true)
        let twice = problems("""
            [[link]]
            interface = "eth1"
            island = "lab"
            [[link]]
            interface = "eth1"
            [[link]]
            interface = "eth2"
            island = "Lab"
            """)
        #expect(twice.map(\.message).sorted() == [
            "interface eth1 is named by two links",
            "island name \"Lab\" is given to two links; each link is an island of its own",
        ])
    }

    @Test func linksWrittenAsAPlainTableAreRefused() throws {
        let problem = try #require(problems("[link]\ninterface = \"eth1\"\n").first)
        #expect(problem.key == "link" && problem.reason == .wrongType)
    }

    @Test func linkFlagsReplaceTheTablesAndNameTheFlagWhenWrong() throws {
        let configuration = try loader(flags: .init(links: ["lan0=staff", "lan1=students", "lan2"])).load().get()
        #expect(configuration.links.map(\.description) == ["lan0=staff", "lan1=students", "lan2"])
        let problem = try #require(loader(flags: .init(links: ["lan0=", "lan1"])).load().failure?.problems.first)
        #expect(problem.source == .flag("--link") && problem.key == "link" && problem.reason == .invalidValue)
        let single = try #require(loader(flags: .init(links: ["lan0"])).load().failure?.problems.first)
        #expect(single.reason == .conflict)
        let fromEnvironment = try loader(environment: ["Z2Z_LINKS": "lan0=a, lan1=b"]).load().get()
        #expect(fromEnvironment.links == [LinkSettings(interface: "lan0", island: "a"), LinkSettings(interface: "lan1", island: "b")])
    }

    @Test func zonesAndOneWayRulesAreRead() throws {
        let policy = try parsed("""
            [policy]
            default = "deny"
            [policy.zones]
            staff = ["staff-wired", "staff-wifi"]
            [[policy.rule]]
            action = "permit"
            type = "_ipp._tcp"
            from = "staff"
            to = "students"
            one_way = true
            """).policy
        let rule = try #require(policy.rules.first)
        #expect(rule.from?.members == [.name("staff-wired"), .name("staff-wifi")] && rule.to?.members == [.name("students")])
        #expect(rule.oneWay)
        #expect(rule.description == "permit both type=_ipp._tcp island=* from=staff to=students one-way")
        let printer = PolicyService(type: try .init("_ipp._tcp"))
        #expect(policy.crossing(printer, from: PolicyIsland(name: "staff-wifi"), to: PolicyIsland(name: "students")).permits)
        let back = policy.crossing(printer, from: PolicyIsland(name: "students"), to: PolicyIsland(name: "staff-wired"))
        #expect(!back.permits && back.reverse && back.description.hasSuffix("(the reverse crossing: deny)"))
    }

    @Test func oneWayNeedsBothEndsAndZonesNeedMembers() {
        let found = problems("""
            [policy.zones]
            empty = []
            [[policy.rule]]
            action = "permit"
            from = "staff"
            one_way = true
            """)
        #expect(found.map(\.key) == ["policy.zones.empty", "policy.rule[1].one_way"])
        #expect(found.map(\.reason) == [.invalidValue, .conflict])
    }
}
