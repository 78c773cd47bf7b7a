import Faults
import Testing

/// `Deploy/faults`' command line: the same options as ever, usage errors exit with 2.
@Suite struct FaultOptionsTests {
    func parse(_ arguments: [String]) -> Result<FaultOptions, FaultOptions.ParseFailure> {
        FaultOptions.parse(commandLine: arguments)
    }

    @Test func defaultsAreThoseRELIABILITYmdWasMeasuredWith() throws {
        let options = try parse(["wan-cut"]).get()
        #expect(options.scenario == .wanCut)
        #expect(options.trials == 5)
        #expect(options.cutSeconds == 60)
        #expect(options.limit == 60)
        #expect(options.percent == Percentages([1, 5, 20]))
        #expect(options.bin == nil)
        #expect(options.runMinutes == 30)
        #expect(try parse(["loops"]).get().runMinutes == 60)
        #expect(try parse(["loops", "--minutes", "2"]).get().runMinutes == 2)
    }

    @Test func everyOptionKeepsItsSpelling() throws {
        let options = try parse([
            "soak", "--bin", "/b", "--json", "/j", "--trials", "3", "--services", "20", "--cut-seconds", "30",
            "--down-seconds", "10", "--limit", "400", "--percent", "5,20", "--minutes", "3", "--every", "5",
            "--failover-every", "0", "--warmup", "1", "--churn-every", "15", "--flap-every", "0.5", "--flappers", "6",
            "--sample-every", "10", "--loss", "0", "--seed", "7",
        ]).get()
        #expect(options.bin == "/b" && options.json == "/j" && options.trials == 3 && options.services == 20)
        #expect(options.cutSeconds == 30 && options.downSeconds == 10 && options.limit == 400)
        #expect(options.percent.values == [5, 20] && options.minutes == 3 && options.every == 5)
        #expect(options.failoverEvery == 0 && options.warmup == 1 && options.churnEvery == 15 && options.flapEvery == 0.5)
        #expect(options.flappers == 6 && options.sampleEvery == 10 && options.loss == 0 && options.seed == 7)
    }

    @Test(arguments: [
        ["no-such-scenario"], [], ["loss", "--percent", "5,x"], ["loss", "--percent", "101"], ["leader-kill", "--trials", "0"],
        ["leader-kill", "--trials", "many"], ["leader-kill", "--no-such-option"], ["soak", "--sample-every", "0"],
    ])
    func aUsageErrorExitsWithTwo(arguments: [String]) {
        guard case .failure(let failure) = parse(arguments) else {
            Issue.record("\(arguments) parsed")
            return
        }
        #expect(failure.status == 2)
        #expect(!failure.message.isEmpty)
    }

    @Test func helpIsNotAnError() {
        guard case .failure(let failure) = parse(["--help"]) else {
            Issue.record("--help parsed as a run")
            return
        }
        #expect(failure.status == 0)
        for scenario in Scenario.allCases { #expect(failure.message.contains(scenario.rawValue)) }
        #expect(failure.message.contains("77"))
    }

    @Test func theBuildUnderTestIsTheExplicitOneElseTheFirstCandidateWithAz2zd() {
        let built: Set = ["/r/.build/debug/z2zd"]
        let candidates = ["/r/.build/release", "/r/.build/debug"]
        #expect(Binaries.find(explicit: nil, candidates: candidates, isExecutable: built.contains)?.z2zd == "/r/.build/debug/z2zd")
        #expect(Binaries.find(explicit: "/x/", candidates: candidates, isExecutable: built.contains)
            == Binaries(directory: "/x"))
        #expect(Binaries(directory: "/x").z2z == "/x/z2z")
        #expect(Binaries.find(explicit: nil, candidates: candidates, isExecutable: { _ in false }) == nil)
    }
}
