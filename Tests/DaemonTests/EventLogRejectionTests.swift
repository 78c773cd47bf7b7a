import Foundation
import Gateway
import GatewayReports
import Testing
import Z2ZAPI

/// A flood of rejected input leaves the event log readable (issue 18, point 7: forged
/// heartbeats filled all 512 entries with `rejected`).
struct EventLogRejectionTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aFloodKeepsOneRejectionPerReasonAndWindowAndSaysHowManyMoreThereWere() {
        var log = EventLog()
        _ = log.append(.stage(.interconnection), at: start)
        // 1,000 forged heartbeats a second for 25 s, and a few of another reason among them.
        var kept: [GatewayEvent] = []
        for tick in 0..<25_000 {
            let time = start.addingTimeInterval(Double(tick) / 1000)
            kept += log.appendAll(.rejected(reason: "bad_tag", detail: "heartbeat from 10.0.0.66"), at: time)
            if tick % 5000 == 0 { kept += log.appendAll(.rejected(reason: "bad_magic", detail: "x"), at: time) }
        }
        kept += log.flushRejections(at: start.addingTimeInterval(40))
        let badTag = kept.filter { $0.reason == "bad_tag" }
        // Windows open at 0, 10 and 20 s; each later one, and the flush, first say the count
        // of the window before: three kept, three summaries.
        #expect(badTag.count == 6, "\(badTag.map(\.message))")
        let summaries = badTag.filter { $0.message.contains("more rejected") }
        #expect(summaries.count == 3)
        let counted = summaries.compactMap { Int($0.message.prefix { $0.isNumber }) }
        #expect(counted == [9_999, 9_999, 4_999], "every rejection is kept or counted: \(counted)")
        #expect(kept.filter { $0.reason == "bad_magic" }.count == 5, "another reason has windows of its own")
        #expect(log.events.count < 20, "the stage change is still in the log: \(log.events.count) entries")
        #expect(log.events.first?.kind == .stage)
    }

    @Test func aLoneRejectionIsKeptAndNeedsNoSummary() {
        var log = EventLog()
        #expect(log.appendAll(.rejected(reason: "bad_tag", detail: "d"), at: start).count == 1)
        #expect(log.flushRejections(at: start.addingTimeInterval(11)).isEmpty)
        #expect(log.appendAll(.rejected(reason: "bad_tag", detail: "d"), at: start.addingTimeInterval(12)).count == 1)
    }
}
