import Testbed
import Testing

/// What `Deploy/testbed` decides before it touches the machine (names, the address plan,
/// argument bounds), through `Deploy/testbed plan`, which needs no root and builds nothing.
@Suite struct PlanTests {
    func plan(_ arguments: [String]) async throws -> ProcessResult {
        try await Testbed.script(["plan"] + arguments)
    }

    @Test func theHostTableFollowsTheAddressPlan() async throws {
        let result = try await plan(["z2zplan", "--islands", "2", "--hosts", "3", "--net", "7"])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2",
            "i1h3 z2zplan-i1h3 10.7.1.13 fd00:7:1::13 z2zplan-i1h3",
            "i2h1 z2zplan-i2h1 10.7.2.11 fd00:7:2::11 z2zplan-i2h1",
            "i2h2 z2zplan-i2h2 10.7.2.12 fd00:7:2::12 z2zplan-i2h2",
            "i2h3 z2zplan-i2h3 10.7.2.13 fd00:7:2::13 z2zplan-i2h3",
        ])
    }

    @Test func theDefaultIsOneIslandOfTwoHosts() async throws {
        let result = try await plan(["z2zplan", "--net", "9"])
        #expect(result.lines.map { $0.split(separator: " ")[0] } == ["i1h1", "i1h2"])
    }

    @Test func withoutNetThePlanNumberComesFromTheNameTheSameEachTime() async throws {
        let first = try await plan(["z2zsame", "--islands", "2", "--hosts", "1"])
        let again = try await plan(["z2zsame", "--islands", "2", "--hosts", "1"])
        #expect(first.succeeded && first.lines == again.lines)
        let address = try #require(first.lines.first?.split(separator: " ")[2])
        let net = try #require(Int(address.split(separator: ".")[1]))
        #expect((1...254).contains(net))
        #expect(first.lines == (try await plan(["z2zsame", "--islands", "2", "--hosts", "1", "--net", "\(net)"])).lines)
        // Names differ in their plan as a rule (cksum): testbeds of parallel tests rarely share one.
        var nets = Set<Substring>()
        for name in ["z2z1", "z2z2", "z2z3", "z2z4", "z2z5"] {
            nets.insert(try #require(try await plan([name]).lines.first?.split(separator: " ")[2]))
        }
        #expect(nets.count >= 4)
    }

    @Test func theLongestNameAndTheLargestPlanAreAccepted() async throws {
        let name = "z2z" + String(repeating: "a", count: 20)
        #expect(try await plan([name, "--net", "254"]).succeeded)
        let islands = try await plan(["z2zbig", "--islands", "250", "--hosts", "1", "--net", "1"])
        #expect(islands.lines.count == 250)
        #expect(islands.lines.last == "i250h1 z2zbig-i250h1 10.1.250.11 fd00:1:250::11 z2zbig-i250h1")
        let hosts = try await plan(["z2zbig", "--islands", "1", "--hosts", "240", "--net", "1"])
        #expect(hosts.lines.count == 240)
        #expect(hosts.lines.last == "i1h240 z2zbig-i1h240 10.1.1.250 fd00:1:1::250 z2zbig-i1h240")
    }

    // MARK: topologies

    @Test func withTheSamePrefixEveryIslandTakesIslandOnesPrefixesAndHostNumbers() async throws {
        let result = try await plan(["z2zplan", "--islands", "3", "--hosts", "2", "--net", "7", "--same-prefix"])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2",
            "i2h1 z2zplan-i2h1 10.7.1.11 fd00:7:1::11 z2zplan-i2h1",
            "i2h2 z2zplan-i2h2 10.7.1.12 fd00:7:1::12 z2zplan-i2h2",
            "i3h1 z2zplan-i3h1 10.7.1.11 fd00:7:1::11 z2zplan-i3h1",
            "i3h2 z2zplan-i3h2 10.7.1.12 fd00:7:1::12 z2zplan-i3h2",
        ])
    }

    @Test func withAnUplinkTheGatewayHostsHaveALegThereAndTheOthersADash() async throws {
        let result = try await plan(["z2zplan", "--islands", "2", "--hosts", "3", "--net", "7", "--uplink"])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1 100.64.1.1 fd64::1:1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2 - -",
            "i1h3 z2zplan-i1h3 10.7.1.13 fd00:7:1::13 z2zplan-i1h3 - -",
            "i2h1 z2zplan-i2h1 10.7.2.11 fd00:7:2::11 z2zplan-i2h1 100.64.2.1 fd64::2:1",
            "i2h2 z2zplan-i2h2 10.7.2.12 fd00:7:2::12 z2zplan-i2h2 - -",
            "i2h3 z2zplan-i2h3 10.7.2.13 fd00:7:2::13 z2zplan-i2h3 - -",
        ])
        let two = try await plan(["z2zplan", "--islands", "1", "--hosts", "3", "--net", "7", "--uplink", "--gateways", "2"])
        #expect(two.lines.map { $0.split(separator: " ").dropFirst(5).joined(separator: " ") }
            == ["100.64.1.1 fd64::1:1", "100.64.1.2 fd64::1:2", "- -"])
    }

    @Test func aMasqueradedIslandHasANATRouterOnItsLinkAndTheUplink() async throws {
        // Repeated and out of order: each island once, NAT routers island by island.
        let result = try await plan([
            "z2zplan", "--islands", "3", "--hosts", "1", "--net", "7", "--masquerade", "3", "--masquerade", "1", "--masquerade", "3",
        ])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1 - -",
            "i2h1 z2zplan-i2h1 10.7.2.11 fd00:7:2::11 z2zplan-i2h1 - -",
            "i3h1 z2zplan-i3h1 10.7.3.11 fd00:7:3::11 z2zplan-i3h1 - -",
            "n1 z2zplan-n1 10.7.1.1 fd00:7:1::1 - 100.64.1.254 fd64::1:254",
            "n3 z2zplan-n3 10.7.3.1 fd00:7:3::1 - 100.64.3.254 fd64::3:254",
        ])
    }

    @Test func aLinkLocalIslandHasOnly169254AndFe80Addresses() async throws {
        let result = try await plan(["z2zplan", "--islands", "3", "--hosts", "2", "--net", "7", "--link-local", "2"])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2",
            "i2h1 z2zplan-i2h1 169.254.2.11 fe80::2:11 z2zplan-i2h1",
            "i2h2 z2zplan-i2h2 169.254.2.12 fe80::2:12 z2zplan-i2h2",
            "i3h1 z2zplan-i3h1 10.7.3.11 fd00:7:3::11 z2zplan-i3h1",
            "i3h2 z2zplan-i3h2 10.7.3.12 fd00:7:3::12 z2zplan-i3h2",
        ])
        let same = try await plan(["z2zplan", "--islands", "3", "--hosts", "1", "--net", "7", "--same-prefix", "--link-local", "2", "--link-local", "3"])
        #expect(same.lines.map { $0.split(separator: " ")[2...3].joined(separator: " ") }
            == ["10.7.1.11 fd00:7:1::11", "169.254.1.11 fe80::1:11", "169.254.1.11 fe80::1:11"])
    }

    @Test func anIPv6OnlyIslandHasNoIPv4AddressAnywhere() async throws {
        let result = try await plan(["z2zplan", "--islands", "3", "--hosts", "2", "--net", "7", "--ipv6-only", "2", "--ipv6-only", "3"])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2",
            "i2h1 z2zplan-i2h1 - fd00:7:2::11 z2zplan-i2h1",
            "i2h2 z2zplan-i2h2 - fd00:7:2::12 z2zplan-i2h2",
            "i3h1 z2zplan-i3h1 - fd00:7:3::11 z2zplan-i3h1",
            "i3h2 z2zplan-i3h2 - fd00:7:3::12 z2zplan-i3h2",
        ])
        let uplink = try await plan(["z2zplan", "--islands", "2", "--hosts", "2", "--net", "7", "--uplink", "--ipv6-only", "2"])
        #expect(uplink.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1 100.64.1.1 fd64::1:1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2 - -",
            // Its gateway host's leg on the uplink is IPv6-only too.
            "i2h1 z2zplan-i2h1 - fd00:7:2::11 z2zplan-i2h1 - fd64::2:1",
            "i2h2 z2zplan-i2h2 - fd00:7:2::12 z2zplan-i2h2 - -",
        ])
    }

    @Test func theTopologiesCombine() async throws {
        let result = try await plan([
            "z2zplan", "--islands", "3", "--hosts", "2", "--net", "7",
            "--same-prefix", "--uplink", "--masquerade", "3", "--link-local", "2",
        ])
        #expect(result.succeeded, "\(result)")
        #expect(result.lines == [
            "i1h1 z2zplan-i1h1 10.7.1.11 fd00:7:1::11 z2zplan-i1h1 100.64.1.1 fd64::1:1",
            "i1h2 z2zplan-i1h2 10.7.1.12 fd00:7:1::12 z2zplan-i1h2 - -",
            "i2h1 z2zplan-i2h1 169.254.1.11 fe80::1:11 z2zplan-i2h1 100.64.2.1 fd64::2:1",
            "i2h2 z2zplan-i2h2 169.254.1.12 fe80::1:12 z2zplan-i2h2 - -",
            // Behind its NAT router: no leg of its own on the uplink.
            "i3h1 z2zplan-i3h1 10.7.1.11 fd00:7:1::11 z2zplan-i3h1 - -",
            "i3h2 z2zplan-i3h2 10.7.1.12 fd00:7:1::12 z2zplan-i3h2 - -",
            "n3 z2zplan-n3 10.7.1.1 fd00:7:1::1 - 100.64.3.254 fd64::3:254",
        ])
    }

    @Test func theLargestTopologiesStayInsideTheirPrefixes() async throws {
        let islands = try await plan([
            "z2zbig", "--islands", "250", "--hosts", "1", "--net", "1", "--uplink", "--masquerade", "250", "--link-local", "249",
        ])
        #expect(islands.lines.count == 251)
        #expect(islands.lines.suffix(3) == [
            "i249h1 z2zbig-i249h1 169.254.249.11 fe80::249:11 z2zbig-i249h1 100.64.249.1 fd64::249:1",
            "i250h1 z2zbig-i250h1 10.1.250.11 fd00:1:250::11 z2zbig-i250h1 - -",
            "n250 z2zbig-n250 10.1.250.1 fd00:1:250::1 - 100.64.250.254 fd64::250:254",
        ])
        let hosts = try await plan(["z2zbig", "--islands", "1", "--hosts", "240", "--net", "1", "--uplink", "--gateways", "240", "--link-local", "1"])
        #expect(hosts.lines.count == 240)
        #expect(hosts.lines.last == "i1h240 z2zbig-i1h240 169.254.1.250 fe80::1:250 z2zbig-i1h240 100.64.1.240 fd64::1:240")
    }

    @Test(arguments: [
        ["--gateways", "1"], ["--uplink", "--gateways", "0"], ["--uplink", "--gateways", "3"], ["--uplink", "--gateways", "x"],
        ["--uplink", "--gateways"], ["--masquerade", "0"], ["--masquerade", "4"], ["--masquerade", "x"], ["--masquerade"],
        ["--link-local", "0"], ["--link-local", "4"], ["--link-local"], ["--link-local", "2", "--masquerade", "2"],
        ["--ipv6-only", "0"], ["--ipv6-only", "4"], ["--ipv6-only"], ["--ipv6-only", "2", "--masquerade", "2"],
        ["--ipv6-only", "2", "--link-local", "2"],
        ["--same-prefix=1"], ["--uplink", "yes"],
    ])
    func aBadTopologyIsAUsageError(arguments: [String]) async throws {
        let result = try await plan(["z2za", "--islands", "3", "--hosts", "2"] + arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("testbed: "))
    }

    @Test func theDriverPassesTheTopologyAsUpsOptions() {
        #expect(Topology.routed.arguments.isEmpty)
        #expect(Topology(samePrefix: true, uplink: true, gateways: 2, masqueraded: [3, 1], linkLocal: [2]).arguments == [
            "--same-prefix", "--uplink", "--gateways", "2", "--masquerade", "1", "--masquerade", "3", "--link-local", "2",
        ])
        #expect(Topology(linkLocal: [1], ipv6Only: [3, 2]).arguments == ["--link-local", "1", "--ipv6-only", "2", "--ipv6-only", "3"])
        #expect(Topology(gateways: 2).arguments.isEmpty, "gateway hosts only matter on an uplink")
        #expect(Topology(masqueraded: [2]).hasUplink && Topology(uplink: true).hasUplink && !Topology(linkLocal: [1]).hasUplink)
    }

    @Test(arguments: [
        [], ["Z2Z"], ["z2z-x"], ["lab"], ["z2z" + String(repeating: "a", count: 21)], ["z2za", "z2zb"],
        ["z2za", "--islands", "0"], ["z2za", "--islands", "251"], ["z2za", "--islands", "x"], ["z2za", "--islands"],
        ["z2za", "--hosts", "0"], ["z2za", "--hosts", "241"], ["z2za", "--net", "0"], ["z2za", "--net", "255"],
        ["z2za", "--net", "07x"], ["z2za", "--owner", "1"],
    ])
    func aBadArgumentIsAUsageError(arguments: [String]) async throws {
        let result = try await plan(arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("testbed: "))
    }
}
