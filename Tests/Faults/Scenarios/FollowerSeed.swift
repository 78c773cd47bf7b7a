import Foundation
import Testbed

/// An island whose only seed is another island's follower.
enum FollowerSeed {
    /// Island 2's only seed is island 1's follower (priority 50; the leader, priority 200,
    /// is seeded with island 3). Does island 2 get into the other islands' overlay?
    static func run(_ lab: Lab, _ options: FaultOptions) async throws {
        _ = try lab.gateway(.i(1, h: 1), island: "one", seed: .i(3, h: 1), priority: 200)
        _ = try lab.gateway(.i(1, h: 2), island: "one", seed: .i(3, h: 1), priority: 50)
        try await Task.sleep(for: .seconds(4)) // island 1 elects (listen window 3 s) before island 2 is told of its follower
        _ = try lab.gateway(.i(2, h: 1), island: "two", seed: .i(1, h: 2))
        _ = try lab.gateway(.i(3, h: 1), island: "three", seed: .i(1, h: 1))
        let watchers = try (1...3).map { try lab.watch(.i($0, h: 2)) }
        for island in 1...3 { _ = try lab.publish(.i(island, h: 2), "S\(island)") }
        let truth: Set = ["S1", "S2", "S3"]
        let took = try await waitUntil(options.limit) { lab.viewsEqual(watchers, truth) }
        lab.figure(Figure("follower_seed.views_s", .seconds(took),
                          "island 2 seeded only with island 1's follower: every view equals the truth after \(Format.seconds(took))"
                              + (took != nil ? "" : "; \(lab.describe(watchers, truth))"),
                          target: "<= \(Format.fixed(options.limit, 0)) s", met: took != nil))
    }
}
