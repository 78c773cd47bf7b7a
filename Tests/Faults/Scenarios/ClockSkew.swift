import Foundation
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// Leaders whose wall clocks are 5 minutes ahead and behind.
enum ClockSkew {
    /// z2zd's only use of wall time is the floor of its record sequence numbers; the
    /// test-only Z2Z_TEST_CLOCK_OFFSET_SECONDS shifts it. (faketime is no substitute: with
    /// the clock set back, Swift's timers stall and a lone gateway takes a minute to elect
    /// itself.)
    static func run(_ lab: Lab, _ options: FaultOptions) async throws {
        func skew(_ offset: Int) -> [String] { ["env", "Z2Z_TEST_CLOCK_OFFSET_SECONDS=\(offset)"] }
        let one = [try lab.gateway(.i(1, h: 1), island: "one", seed: .i(3, h: 1), priority: 200, wrapper: skew(300)),
                   try lab.gateway(.i(1, h: 2), island: "one", seed: .i(3, h: 1))]
        _ = try lab.gateway(.i(2, h: 1), island: "two", seed: .i(3, h: 1), wrapper: skew(-300))
        _ = try lab.gateway(.i(3, h: 1), island: "three", seed: .i(1, h: 1))
        let watchers = try (1...3).map { try lab.watch(.i($0, h: 3)) }
        var publishers: [String: Publisher] = [:]
        for island in 1...3 { publishers["S\(island)"] = try lab.publish(.i(island, h: 3), "S\(island)") }
        var truth = Set(publishers.keys)

        var took = try await waitUntil(60) { lab.viewsEqual(watchers, truth) }
        lab.figure(Figure("clock_skew.cross_s", .seconds(took),
                          "leaders at +5 min and -5 min: every service on every island after \(Format.seconds(took))",
                          target: "<= 30 s", met: took.map { $0 <= 30 } ?? false))
        for name in ["S1", "S2"] { await publishers.removeValue(forKey: name)?.stop() }
        truth = Set(publishers.keys)
        took = try await waitUntil(30) { lab.viewsEqual(watchers, truth) }
        lab.figure(Figure("clock_skew.withdraw_s", .seconds(took),
                          "withdrawals on the skewed islands gone everywhere after \(Format.seconds(took))",
                          target: "<= 5 s", met: took.map { $0 <= 5 } ?? false))
        publishers["S1"] = try lab.publish(.i(1, h: 3), "S1")
        publishers["S2"] = try lab.publish(.i(2, h: 3), "S2")
        truth = Set(publishers.keys)
        try require(await waitUntil(60) { lab.viewsEqual(watchers, truth) }, "republished services")

        // SIGTERM, not SIGKILL: a killed leader's records outlive it (up to their 300 s
        // lifetime) whatever the clocks say, and would hide the successor's withdrawal.
        await one[0].stop(SIGTERM)
        took = try await waitUntil(15, every: 0.05) { await one[1].role() == "leader" }
        lab.figure(Figure("clock_skew.failover_s", .seconds(took),
                          "SIGTERM of the +5 min leader: unskewed successor leads after \(Format.seconds(took))",
                          target: "<= 5 s", met: took.map { $0 <= 5 } ?? false))
        try require(await waitUntil(30) { lab.viewsEqual(watchers, truth) }, "views whole after the handover")
        await publishers.removeValue(forKey: "S1")?.stop()
        truth = Set(publishers.keys)
        took = try await waitUntil(30) { lab.viewsEqual(watchers, truth) }
        lab.figure(Figure("clock_skew.withdraw_after_failover_s", .seconds(took),
                          "a withdrawal by the successor (whose clock is 5 min behind its predecessor's) gone everywhere after "
                              + Format.seconds(took),
                          target: "<= 5 s", met: took.map { $0 <= 5 } ?? false))
    }
}
