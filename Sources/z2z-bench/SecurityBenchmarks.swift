import ArgumentParser
import Simulation

/// RELIABILITY.md, "Sybil flood": one host with many node ids against the routing tables'
/// subnet limit, and honest put/get trials while its ids lie.
struct SybilCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sybil",
        abstract: "One host claiming many node ids (hostile: they answer with each other and serve no values): Sybils per bucket, honest get success.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Node ids the attacker's one host claims.") var sybils = 100
    @Option(help: "Put-then-get trials between honest nodes.") var trials = 1_000
    @Flag(help: "Turn the routing-table subnet limit off (for comparison).") var noDiversity = false

    func run() throws {
        let n = common.nodes ?? 500
        let flood = SybilFlood(honest: n, sybils: sybils, trials: trials, diversity: !noDiversity)
        let (r, wall) = timed { flood.run(seed: common.seed) }
        print("sybil flood: \(n) honest nodes, \(sybils) ids on one host, subnet limit \(r.diversity ? "on (2 per /24 per bucket)" : "off")")
        print("  most Sybil ids in one bucket of an honest table: \(r.maxSybilsPerBucket) [target <= 2]; per table p50 \(f(r.sybilsPerTable.p50, 0)) max \(f(r.sybilsPerTable.max, 0)); \(f(100 * r.sybilShare, 2))% of all entries; \(r.refusedBySubnetLimit) refused by the limit")
        print("  honest put-then-get: \(r.trials - r.misses)/\(r.trials) found (\(f(100 * r.successRate, 2))%) [target >= 99%]; get p50 \(f(r.getMilliseconds.p50, 0)) ms p99 \(f(r.getMilliseconds.p99, 0)) ms")
        try Report("sybil", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}
