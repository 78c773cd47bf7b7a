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
