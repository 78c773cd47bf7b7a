import API
import Foundation
import Testbed
import Testing
import Z2ZAPI

/// Posted configurations are checked in a child z2zd that is replaced every few checks,
/// so TOMLKit's per-parse leak leaves with it (issue 18, point 3).
@Suite(.timeLimit(.minutes(1)))
struct ConfigCheckerProcessTests {
    static let texts = [
        "log_level = \"debug\"\n",
        "log_level = \"loud\"\n",
        "[dht]\nport = 99999\n",
        "[[policy.rule]]\naction = \"deny\"\ntype = \"_ipp._tcp\"\n",
        "not toml at all = = =\n",
    ]

    @Test func aChildAnswersAsTheParserDoesAndIsReplacedEveryFewChecks() async throws {
        let checker = ConfigCheckerProcess(executable: try BuildProducts.executable("z2zd"), checksPerProcess: 2)
        for round in 0..<2 {
            for text in Self.texts {
                let answer = await checker.check(text)
                #expect(answer == (await InProcessConfigChecker().check(text)), "round \(round): \(text)")
            }
        }
        #expect(await checker.started == 5) // 10 checks, 2 per child
        await checker.shutDown()
    }

    @Test func aChildThatDoesNotAnswerIsKilledAndTheNextCheckGetsANewOne() async throws {
        let checker = ConfigCheckerProcess(executable: "/bin/sleep", arguments: ["30"], timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let answer = await checker.check("log_level = \"debug\"\n")
        #expect(started.duration(to: .now) < .seconds(5))
        #expect(!answer.ok)
        #expect(answer.problems.map(\.message) == ["the check did not finish in time"])
        _ = await checker.check("log_level = \"debug\"\n")
        #expect(await checker.started == 2)
        await checker.shutDown()
    }

    @Test func withoutAChildTheCheckRunsInProcess() async {
        let checker = ConfigCheckerProcess(executable: "/nonexistent/z2zd")
        #expect(await checker.check("log_level = \"debug\"\n").ok)
        #expect(!(await checker.check("log_level = \"loud\"\n").ok))
        #expect(await checker.started == 0)
    }

    @Test func concurrentChecksShareOneChild() async throws {
        let checker = ConfigCheckerProcess(executable: try BuildProducts.executable("z2zd"))
        let answers = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 { group.addTask { await checker.check(Self.texts[index % 2]).ok } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(answers.filter { $0 }.count == 10)
        #expect(await checker.started == 1)
        await checker.shutDown()
    }
}
