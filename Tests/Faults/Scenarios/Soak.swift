import Foundation
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// A long run of churn, loss and flapping services.
enum Soak {
    /// Three islands; island 1: two gateways that are killed and restarted in turn; island
    /// 2: one gateway behind a lossy WAN link; island 3: a leader that stays and a follower
    /// that churns. Services flap on every island. RSS and descriptors of the gateways that
    /// stay are sampled; at the end every view must equal the truth again.
    static func run(_ lab: Lab, _ options: FaultOptions) async throws {
        // Seeds are gateways that always lead (a follower as a seed can strand an island: see
        // RELIABILITY.md, "A follower as the only seed").
        let churn1 = [try lab.gateway(.i(1, h: 1), island: "one", seed: .i(2, h: 1)),
                      try lab.gateway(.i(1, h: 2), island: "one", seed: .i(3, h: 1))]
        let stay2 = try lab.gateway(.i(2, h: 1), island: "two", seed: .i(3, h: 1))
        let stay3 = try lab.gateway(.i(3, h: 1), island: "three", seed: .i(2, h: 1), priority: 200)
        let churn3 = try lab.gateway(.i(3, h: 2), island: "three", seed: .i(2, h: 1))
        let churning = churn1 + [churn3], staying = [stay2, stay3]
        let watchers = try (1...3).map { try lab.watch(.i($0, h: 3)) }
        var steady: [String: Publisher] = [:]
        for island in 1...3 { steady["Steady \(island)"] = try lab.publish(.i(island, h: 3), "Steady \(island)") }
        var flapping: [String: Publisher] = [:]
        var random = SeededGenerator(seed: options.seed)
        func truth() -> Set<String> { Set(steady.keys).union(flapping.keys) }
        try require(await waitUntil(90) { lab.viewsEqual(watchers, truth()) }, "steady services everywhere")
        if options.loss > 0 { try await lab.bed.loss(island: 2, percent: options.loss) }

        let minutes = options.runMinutes
        var samples: [String: [ResourceSample]] = [:]
        let start = ContinuousClock.now, end = start + .seconds(minutes * 60)
        var nextChurn = start + .seconds(options.churnEvery), nextSample = start
        var kills = 0, terms = 0, flaps = 0
        while ContinuousClock.now < end {
            let now = ContinuousClock.now
            // Flap: publish or withdraw a random service every ~second.
            let flapper = FlapPlan.flapper(Int.random(in: 0..<options.flappers, using: &random))
            if let publisher = flapping.removeValue(forKey: flapper.name) {
                await publisher.stop()
            } else {
                flapping[flapper.name] = try lab.publish(.i(flapper.island, h: flapper.host), flapper.name,
                                                         port: 20_000 + Int.random(in: 0..<1000, using: &random))
            }
            flaps += 1
            if now >= nextChurn {
                nextChurn += .seconds(options.churnEvery)
                let victim = churning.randomElement(using: &random)!
                if victim.isAlive {
                    let hard = Double.random(in: 0..<1, using: &random) < 0.5
                    await victim.stop(hard ? SIGKILL : SIGTERM)
                    if hard { kills += 1 } else { terms += 1 }
                }
                try victim.start()
            }
            if now >= nextSample {
                nextSample += .seconds(options.sampleEvery)
                let at = (now - start).seconds
                var parts: [String] = []
                for gateway in staying {
                    let sample = ResourceSample(at: at, rssKiB: gateway.rssKiB(), descriptors: gateway.descriptors())
                    samples["\(gateway.host)", default: []].append(sample)
                    parts.append("\(gateway.host): rss \(sample.rssKiB.map(String.init) ?? "None") KiB fds "
                        + (sample.descriptors.map(String.init) ?? "None"))
                }
                lab.print("sample t=\(Format.fixed(at, 0))s \(parts.joined(separator: " ")) | flapping now \(flapping.count) "
                    + "events {'kills': \(kills), 'terms': \(terms), 'flaps': \(flaps)}")
            }
            let pause = options.flapEvery + Double.random(in: -0.5..<0.5, using: &random) * options.flapEvery
            try await Task.sleep(for: .seconds(max(0, pause)))
        }

        // Quiet: loss off, every churned gateway running, flapping stopped where it stands.
        try await lab.bed.loss(island: 2, percent: 0)
        for gateway in churning where !gateway.isAlive { try gateway.start() }
        let settled = try await waitUntil(120, every: 0.5) { lab.viewsEqual(watchers, truth()) }
        lab.figure(Figure("soak.final_views_s", .seconds(settled),
                          "after \(Format.fixed(minutes, 0)) min (\(kills) kill -9, \(terms) SIGTERM, \(flaps) service flaps, "
                              + "\(options.loss) % loss on island 2's WAN): every view equals the truth \(Format.seconds(settled)) "
                              + "after the churn stopped" + (settled != nil ? "" : "; \(lab.describe(watchers, truth()))"),
                          target: "<= 30 s", met: settled.map { $0 <= 30 } ?? false))
        if settled == nil { await lab.diagnose(churn1 + [stay2, stay3, churn3]) }
        for gateway in staying {
            let host = "\(gateway.host)"
            guard let trend = MemoryTrend(samples[host] ?? [], warmup: options.warmup * 60) else {
                lab.figure(Figure("soak.\(host).rss_growth", .none, "\(host): too few samples after the warm-up"))
                continue
            }
            lab.figure(Figure("soak.\(host).rss_growth", .number(trend.growth),
                              "\(host) (\(gateway.island)) RSS \(Format.fixed(Double(trend.base) / 1024, 1)) MiB at the end of the "
                                  + "warm-up, \(Format.fixed(trend.last / 1024, 1)) MiB at the end (median of the last 3): "
                                  + "\(Format.signed(100 * trend.growth, 1)) %, max \(Format.fixed(Double(trend.rss.max()!) / 1024, 1)) MiB",
                              target: "<= 5 %", met: trend.growthIsWithinTarget))
            let fds = trend.descriptors
            lab.figure(Figure("soak.\(host).fds", .list([.integer(fds.min()!), .integer(fds.max()!)]),
                              "\(host) file descriptors after the warm-up: first \(fds.first!), last \(fds.last!), min \(fds.min()!), "
                                  + "max \(fds.max()!)",
                              target: "flat (last <= first + 2)", met: trend.descriptorsAreFlat))
        }
        let up = stay2.isAlive && stay3.isAlive
        lab.figure(Figure("soak.stayed_up", .boolean(up), "the gateways that were never killed still run: \(Format.bool(up))",
                          target: "yes", met: up))
    }
}
