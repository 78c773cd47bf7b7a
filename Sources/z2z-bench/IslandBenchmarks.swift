import ArgumentParser
import Simulation

/// The islands and overlay figures of BENCHMARKS.md (simulated, virtual time).
struct Islands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "islands",
        abstract: "Islands and overlays: election, failover, partition healing, overlay merging, the structure threshold.",
        subcommands: [IslandsLifeCommand.self, MergeCommand.self, ThresholdCommand.self]
    )
}

struct IslandsLifeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "life",
        abstract: "Whole gateways: islands of 1-5 gateways boot at random times; leaders are killed; the wide-area network is cut in halves and healed.")
    @Option(help: "Number of islands.") var islands = 200
    @Option(help: "Leaders killed (islands with spare gateways).") var kills = 20
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    func run() throws {
        var scenario = IslandScenario(islands: islands)
        scenario.kills = kills
        let (r, wall) = timed { scenario.run(seed: seed) }
        print("islands: \(r.islands) islands, \(r.gateways) gateways booting within 30 s")
        print("  election (first boot to first leader): p50 \(f(r.electionSeconds.p50, 2)) s, max \(f(r.electionSeconds.max, 2)) s")
        print("  one leader: \(r.islandsWithOneLeader)/\(r.islands) islands; overlays among leaders: \(r.overlays); in structure: \(r.leadersInStructure)")
        print("  views equal to the truth: \(r.viewsEqualTruth)/\(r.islands), all of them \(f(r.viewsCompleteAfterLastBoot))s after the last boot; \(r.formationBytes) bytes")
        print("  failover: \(r.failovers) kills, new leader after p50 \(f(r.failoverSeconds.p50, 2)) s, max \(f(r.failoverSeconds.max, 2)) s [target <= 3 heartbeats of 0.75 s = 2.25 s]; two-leader samples \(r.twoLeaderSamples); views whole again after \(f(r.viewsCompleteAfterFailovers))s")
        print("  partition 60 s then heal: every view equal to the truth \(f(r.viewsCompleteAfterHeal))s after the heal [target <= 30 s]; \(r.healMerges) merges, \(r.healBytes) bytes")
        print("  wall time \(f(wall))s")
        try Report("islands-life", seed: seed, wallSeconds: wall, figures: r).emit(json: json)
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Two overlays of N nodes form apart, then one link: time until 99% and 100% of cross-overlay gets succeed, and the bytes.")
    @Option(help: "Nodes per overlay.") var nodes = 5_000
    @Option(help: "Cross-overlay gets per round (a round every 500 ms).") var lookups = 500
    @Flag(help: "No gets: link, wait 30 s, and count the bytes of the merge alone.") var costOnly = false
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    func run() throws {
        var merge = OverlayMerge(nodes: nodes, lookups: lookups)
        merge.probe = !costOnly
        let (r, wall) = timed { merge.run(seed: seed) }
        print("merge: 2 x \(nodes) nodes, \(r.overlaysBefore) overlays before the link, \(r.overlaysAfter) after")
        print("  cross-overlay gets: 99% after \(f(r.seconds99))s [target <= 10 s], 100% after \(f(r.seconds100))s")
        print("  cost: \(r.bytesTo100) bytes in \(r.datagramsTo100) datagrams until 100% (\(f(Double(r.bytesTo100) / Double(2 * nodes), 0)) B per node); \(r.bytesTotal) bytes until quiet; idle before: \(f(r.idleBytesPerNodeSecond, 1)) B/s per node")
        print("  merges by cause: \(r.merges.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); wall time \(f(wall))s")
        try Report("islands-merge", seed: seed, wallSeconds: wall, figures: r).emit(json: json)
    }
}

struct ThresholdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threshold",
        abstract: "Direct exchange against the DHT for N = 2...64: bytes and latency of a put, its notifications and a get.")
    @Option(help: "Overlay sizes, comma-separated.") var sizes = "2,4,8,12,16,20,24,32,48,64"
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    func run() throws {
        let ns = sizes.split(separator: ",").compactMap { Int($0) }
        let (rows, wall) = timed { ns.flatMap { n in [true, false].map { ThresholdMeasurement(nodes: n, direct: $0).run(seed: seed) } } }
        print("   N  mode    formation B   put B  put ms  notify-all ms  get B  get ms  idle B/node/min")
        for r in rows {
            let mode = r.direct ? "direct" : "dht   "
            print(String(format: "%4d  ", r.nodes) + mode + String(format: " %12d %7d %7.0f %14.0f %6d %7.0f %16.0f", r.formationBytes, r.putBytes,
                         r.putMilliseconds, r.notifyAllMilliseconds, r.getBytes, r.getMilliseconds, r.idleBytesPerNodeMinute))
        }
        try Report("islands-threshold", seed: seed, wallSeconds: wall, figures: rows).emit(json: json)
    }
}
