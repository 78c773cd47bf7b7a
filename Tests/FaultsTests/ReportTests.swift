import Faults
import Testing

/// The `FIGURE` lines, the `--json` file and the exit status: what RELIABILITY.md quotes and
/// scripts read, kept as they were when Deploy/faults was a Python script.
@Suite struct ReportTests {
    @Test func aFigureLineNamesItsTargetAndWhetherItWasMet() {
        #expect(Figure("a.b", .number(2.5), "took 2.50 s", target: "<= 3 s", met: true).line
            == "FIGURE a.b: took 2.50 s  (target <= 3 s)  [met]")
        #expect(Figure("a.b", .number(4), "took 4.00 s", target: "<= 3 s", met: false).line
            == "FIGURE a.b: took 4.00 s  (target <= 3 s)  [MISSED]")
        #expect(Figure("a.b", .none, "only reported").line == "FIGURE a.b: only reported")
        #expect(Figure("a.b", .none, "no target but a verdict", met: true).line == "FIGURE a.b: no target but a verdict  [met]")
    }

    @Test func aKeyRecordedTwiceKeepsItsPlaceTakesTheNewValueAndEachMissCounts() {
        var report = Report(scenario: "avahi-restart")
        report.record(Figure("first", .number(1), "", met: false))
        report.record(Figure("second", .integer(2), ""))
        report.record(Figure("first", .number(3), "", met: false))
        #expect(report.figures.map(\.key) == ["first", "second"])
        #expect(report.figures[0].value == .number(3))
        #expect(report.missed == ["first", "first"])
    }

    @Test func theJSONFileIsWrittenAsPythonsJSONModuleWroteIt() {
        var report = Report(scenario: "soak")
        report.record(Figure("soak.final_views_s", .number(0.5), ""))
        report.record(Figure("soak.never", .number(.infinity), "", met: false))
        report.record(Figure("soak.none", .none, ""))
        report.record(Figure("soak.i2h1.fds", .list([.integer(26), .integer(27)]), ""))
        report.record(Figure("soak.stayed_up", .boolean(true), ""))
        report.record(Figure("soak.whole", .number(2), ""))
        #expect(report.json == """
            {
              "scenario": "soak",
              "figures": {
                "soak.final_views_s": 0.5,
                "soak.never": Infinity,
                "soak.none": null,
                "soak.i2h1.fds": [
                  26,
                  27
                ],
                "soak.stayed_up": true,
                "soak.whole": 2.0
              },
              "missed": [
                "soak.never"
              ]
            }
            """)
        #expect(Report(scenario: "delay").json == "{\n  \"scenario\": \"delay\",\n  \"figures\": {},\n  \"missed\": []\n}")
    }

    @Test func jsonStringsAreEscapedAsciiOnly() {
        var report = Report(scenario: "x\"y")
        report.record(Figure("caf\u{e9}\n", .integer(1), ""))
        #expect(report.json.contains(#""scenario": "x\"y""#))
        #expect(report.json.contains(#""caf\u00e9\n": 1"#))
    }

    @Test func exitStatusesSayHowTheRunEnded() {
        #expect(Ending.completed.exitStatus(missed: []) == 0)
        #expect(Ending.completed.exitStatus(missed: ["a"]) == 1)
        #expect(Ending.failed("timed out").exitStatus(missed: []) == 1)
        #expect(Ending.aborted("no testbed").exitStatus(missed: []) == 1)
        #expect(Ending.unsupported("no nft").exitStatus(missed: ["a"]) == 77)
        #expect(Ending.interrupted.exitStatus(missed: []) == 130)
        #expect(Ending.terminated.exitStatus(missed: []) == 143)
    }

    @Test func figuresAreWrittenOnlyByRunsThatMeasured() {
        #expect(Ending.completed.writesFigures)
        #expect(Ending.failed("x").writesFigures)
        #expect(Ending.interrupted.writesFigures)
        #expect(!Ending.unsupported("x").writesFigures)
        #expect(!Ending.aborted("x").writesFigures)
        #expect(!Ending.terminated.writesFigures)
    }
}

@Suite struct TrialTimesTests {
    @Test func aTrialThatNeverRecoveredCountsAsInfinitelyLong() {
        var times = TrialTimes()
        times.append(1.5)
        times.append(nil)
        times.append(0.5)
        #expect(times.max == .infinity)
        #expect(times.median == 1.5)
        #expect(!times.maxIsWithin(30))
    }

    @Test func theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        #expect(TrialTimes([4, 1, 3, 2]).median == 2.5)
        #expect(TrialTimes([2.52, 2.42, 2.4]).median == 2.42)
        #expect(TrialTimes().median == nil)
        #expect(TrialTimes().max == nil)
        #expect(!TrialTimes().maxIsWithin(1))
    }

    @Test func formatsAreThoseOfTheFigureLines() {
        #expect(Format.seconds(nil) == "n/a")
        #expect(Format.seconds(2.346) == "2.35 s")
        #expect(Format.seconds(.infinity) == "inf s")
        #expect(Format.fixed(59.6, 0) == "60")
        #expect(Format.signed(0.5, 1) == "+0.5")
        #expect(Format.signed(-1.26, 1) == "-1.3")
        #expect(Format.list(["b", "a"]) == "['a', 'b']")
        #expect(Format.list([String]()) == "[]")
        #expect(Format.bool(true) == "True")
        #expect(Duration.milliseconds(1500).seconds == 1.5)
    }
}
