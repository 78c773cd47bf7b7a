import Foundation
import Testbed

/// Partition scenarios: an island cut off the router, a leader's link down and up.
enum Partitions {
    /// Three islands, one gateway each; island 1's WAN link is cut for `--cut-seconds` while
    /// services are withdrawn and published on both sides; then healed.
    static func wanCut(_ lab: Lab, _ options: FaultOptions) async throws {
        _ = [try lab.gateway(.i(1, h: 1), island: "one", seed: .i(2, h: 1)),
             try lab.gateway(.i(2, h: 1), island: "two", seed: .i(1, h: 1)),
             try lab.gateway(.i(3, h: 1), island: "three", seed: .i(1, h: 1))]
        let watchers = try (1...3).map { try lab.watch(.i($0, h: 2)) }
        var publishers: [String: Publisher] = [:]
        func publish(_ name: String, island: Int) throws { publishers[name] = try lab.publish(.i(island, h: 2), name) }
        for island in 1...3 {
            for suffix in ["a", "b"] { try publish("S\(island)\(suffix)", island: island) }
        }
        var truth = Set(publishers.keys)
        try require(await waitUntil(60) { lab.viewsEqual(watchers, truth) }, "every service on every island")
        var results = TrialTimes()
        for trial in 0..<options.trials {
            try await lab.bed.wan(island: 1, cut: true)
            let cut = ContinuousClock.now
            try await Task.sleep(for: .seconds(options.cutSeconds / 2))
            // Withdrawn on the cut island and on the other side; new on both sides.
            for gone in ["S1b", "S2b"] { await publishers.removeValue(forKey: gone)?.stop() }
            try publish("S1c\(trial)", island: 1)
            try publish("S3c\(trial)", island: 3)
            truth = Set(publishers.keys)
            try await Task.sleep(for: .seconds(options.cutSeconds / 2))
            let apart = lab.describe(watchers, truth)
            try await lab.bed.wan(island: 1, cut: false)
            let healed = ContinuousClock.now
            let took = try await waitUntil(options.limit, every: 0.2) { lab.viewsEqual(watchers, truth) }
            lab.say("trial \(trial + 1): cut \(Format.fixed((healed - cut).seconds, 0)) s; at the heal: \(apart); every view "
                + "equals the truth \(Format.seconds(took)) after the heal" + (took != nil ? "" : ": \(lab.describe(watchers, truth))"))
            results.append(took)
            // Put the withdrawn ones back for the next trial.
            try publish("S1b", island: 1)
            try publish("S2b", island: 2)
            truth = Set(publishers.keys)
            try require(await waitUntil(60) { lab.viewsEqual(watchers, truth) }, "views whole before the next trial")
        }
        lab.figure(Figure("wan_cut.views_equal_after_heal_max_s", .number(results.max!),
                          "WAN cut of island 1 for \(Format.fixed(options.cutSeconds, 0)) s (withdrawals and new services on both "
                              + "sides): every island's view equals the truth \(Format.fixed(results.max!, 2)) s after the heal (max of "
                              + "\(options.trials); median \(Format.fixed(results.median!, 2)) s)",
                          target: "<= 30 s", met: results.maxIsWithin(30)))
    }

    /// The leader's link goes down for `--down-seconds` and up; services published after
    /// up on both islands must be seen everywhere.
    static func linkFlap(_ lab: Lab, _ options: FaultOptions) async throws {
        let setup = try await TwoIslands.start(lab)
        var truth = setup.truth
        var publishers = setup.publishers
        var results = TrialTimes()
        for trial in 0..<options.trials {
            try await lab.bed.link(.i(1, h: 1), up: false)
            try await Task.sleep(for: .seconds(options.downSeconds))
            try await lab.bed.link(.i(1, h: 1), up: true)
            // Still working both ways: a service new on each island crosses over the link that was down.
            let fresh: [(String, HostRef)] = [("New one \(trial)", .i(1, h: 2)), ("New two \(trial)", .i(2, h: 2))]
            for (name, host) in fresh { publishers.append(try lab.publish(host, name)) }
            truth.formUnion(fresh.map(\.0))
            let took = try await waitUntil(60, every: 0.1) { lab.viewsEqual(setup.watchers, truth) }
            lab.say("trial \(trial + 1): link of island 1's leader down \(Format.fixed(options.downSeconds, 0)) s; services "
                + "published after up cross both ways, every view equal \(Format.seconds(took)) after up"
                + (took != nil ? "" : ": \(lab.describe(setup.watchers, truth))"))
            results.append(took)
        }
        let alive = setup.one.isAlive
        lab.figure(Figure("link_flap.max_s", .number(results.max!),
                          "leader's link down \(Format.fixed(options.downSeconds, 0)) s and up: services published after up on both "
                              + "islands seen everywhere, every view equal to the truth \(Format.fixed(results.max!, 2)) s after up "
                              + "(max of \(results.count)); gateway running: \(Format.bool(alive))",
                          target: "<= 30 s", met: results.maxIsWithin(30) && alive))
    }
}

/// The setup several scenarios share: islands 1 and 2 of two hosts, a gateway on each
/// island's first host, a watcher and a publisher on its second, both services crossed.
struct TwoIslands {
    var one: GatewayProcess
    var two: GatewayProcess
    var watchers: [BrowseWatcher]
    var publishers: [Publisher]
    var truth: Set<String>

    static func start(_ lab: Lab, wrapper: [String] = []) async throws -> TwoIslands {
        let one = try lab.gateway(.i(1, h: 1), island: "one", seed: .i(2, h: 1), wrapper: wrapper)
        let two = try lab.gateway(.i(2, h: 1), island: "two", seed: .i(1, h: 1))
        let watchers = [try lab.watch(.i(1, h: 2)), try lab.watch(.i(2, h: 2))]
        let publishers = [try lab.publish(.i(1, h: 2), "Printer one"), try lab.publish(.i(2, h: 2), "Speaker two")]
        let truth: Set = ["Printer one", "Speaker two"]
        try require(await waitUntil(60) { lab.viewsEqual(watchers, truth) }, "services to cross")
        return TwoIslands(one: one, two: two, watchers: watchers, publishers: publishers, truth: truth)
    }
}
