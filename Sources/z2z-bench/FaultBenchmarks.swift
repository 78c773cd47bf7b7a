import ArgumentParser
import Foundation
import Kademlia
import Simulation

/// The simulated figures of RELIABILITY.md (virtual time; `Deploy/faults` runs the real ones).
struct Faults: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Fault injection on the simulator: random half partitions cycled, datagram loss (lookups; export changes in direct exchange); each with the links' delay set by --latency.",
        subcommands: [PartitionCyclesCommand.self, LossCommand.self, ExportsUnderLossCommand.self]
    )
}

/// The simulated network's delay, shared by the fault benchmarks.
struct LatencyOption: ParsableArguments {
    @Option(help: ArgumentHelp("One-way latency of each link in milliseconds, MIN-MAX, drawn once per link (plus about 2 ms of jitter per datagram).", valueName: "ms"))
    var latency = "10-100"

    /// The range; a malformed one is an error.
    var range: ClosedRange<Double> {
        get throws {
            let parts = latency.split(separator: "-", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let low = parts[0], let high = parts[1], low >= 0, low <= high, high <= 60_000 else {
                throw ValidationError("--latency: \"\(latency)\" is not MIN-MAX in milliseconds with 0 <= MIN <= MAX <= 60000 (e.g. --latency 150-300)")
            }
            return low...high
        }
    }

    func validate() throws { _ = try range }
}

/// The items of a comma-separated option; one that `parse` refuses is an error naming the
/// option and what it wants, not skipped.
func commaList<T>(_ text: String, option: String, wants: String, _ parse: (String) -> T?) throws -> [T] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> T in
        guard let value = parse(part.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--\(option): \"\(part)\" is not \(wants)")
        }
        return value
    }
}

/// Loss probabilities from a comma-separated option.
func lossList(_ text: String) throws -> [Double] {
    try commaList(text, option: "loss", wants: "a probability in [0, 1) (e.g. --loss 0.05,0.2)") { Double($0).flatMap { (0..<1).contains($0) ? $0 : nil } }
}

struct PartitionCyclesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract: "Islands boot; then a new random half partition every 5 s for 2 minutes while exports change and are withdrawn; heal: time until every view equals the truth.")
    @Option(help: "Number of islands (1-3 gateways each).") var islands = 50
    @Option(help: "Seconds between cuts.") var cycle: Double = 5
    @Option(help: "Seconds of cycling.") var seconds: Double = 120
    @Option(help: "Seconds after the heal before views that still differ count as failed.") var limit: Double = 60
    @Option(help: "Seeds to run, comma-separated; the same seed replays the same run.") var seeds = "1"
    @OptionGroup var delay: LatencyOption
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    /// The seeds, each a whole number; a bad one is an error, not skipped.
    var seedList: [UInt64] {
        get throws { try commaList(seeds, option: "seeds", wants: "a seed (a whole number ≥ 0; e.g. --seeds 1,2,3)") { UInt64($0) } }
    }

    func validate() throws { _ = try seedList }

    func run() throws {
        var scenario = PartitionCycles(islands: islands)
        scenario.cycle = .seconds(cycle)
        scenario.duration = .seconds(seconds)
        scenario.limit = .seconds(limit)
        scenario.linkLatency = try delay.range
        var all: [PartitionCycles.Result] = []
        var wallTotal = 0.0
        let list = try seedList
        for seed in list {
            let (r, wall) = timed { scenario.run(seed: seed) }
            wallTotal += wall
            all.append(r)
            print("partitions seed \(seed): \(r.islands) islands (\(r.gateways) gateways), views equal before the cuts \(r.viewsEqualBeforeCuts)/\(r.islands)")
            print("  \(r.cuts) random half partitions, \(Int(cycle)) s each; \(r.changes) export changes, \(r.withdrawals) islands withdrawn while cut")
            print("  after the heal: withdrawn exports gone from every view \(after(r.withdrawalsGoneAfterHeal)); every view equals the truth \(after(r.viewsCompleteAfterHeal)) [target <= 30 s]; \(r.viewsEqualAtLimit)/\(r.islands) equal at the end")
            for d in r.differences { print("  differs: \(d)") }
            print("  wall time \(f(wall))s")
        }
        // Each row names its seed; the report's own seed is the first one.
        try Report("faults-partitions", seed: list.first ?? 0, wallSeconds: wallTotal, figures: all).emit(json: json)
    }

    /// "after 1.5 s", or "never (within the limit)".
    func after(_ seconds: Double?) -> String {
        seconds.map { "after \(f($0)) s" } ?? "never (within \(f(limit, 0)) s)"
    }
}

struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Lookup success with random datagram loss (formed on a clean network, then lossy).")
    @Option(help: "Number of nodes.") var nodes = 1_000
    @Option(help: "Loss probabilities, comma-separated.") var loss = "0.01,0.05,0.2"
    @Option(help: "Lookups per loss probability (20/s).") var count = 2_000
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @OptionGroup var delay: LatencyOption
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    func validate() throws { _ = try lossList(loss) }

    func run() throws {
        var rows: [LookupsUnderLoss.Result] = []
        var wallTotal = 0.0
        for p in try lossList(loss) {
            var scenario = LookupsUnderLoss(nodes: nodes, loss: p)
            scenario.lookups = count
            scenario.linkLatency = try delay.range
            let (r, wall) = timed { scenario.run(seed: seed) }
            wallTotal += wall
            rows.append(r)
            let l = r.lookups
            let target = p <= 0.05 ? ">= 99 %" : p <= 0.2 ? ">= 95 %" : "-"
            print("loss \(f(100 * p, 0)) %: \(l.succeeded)/\(l.issued) lookups found the true closest (\(f(100 * r.successRate, 2)) %) [target \(target)]; \(l.completed) completed; hops p50 \(f(l.hops.p50, 0)) p99 \(f(l.hops.p99, 0)); latency p50 \(f(l.latencyMilliseconds.p50, 0)) ms p99 \(f(l.latencyMilliseconds.p99, 0)) ms; \(r.datagramsLost) datagrams lost; wall \(f(wall))s")
        }
        try Report("faults-loss", seed: seed, wallSeconds: wallTotal, figures: rows).emit(json: json)
    }
}

struct ExportsUnderLossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exports",
        abstract: "Export changes crossing a lossy small overlay (direct exchange): time until every island sees each change.")
    @Option(help: "Number of one-gateway islands (below 24: direct exchange).") var islands = 10
    @Option(help: "Loss probabilities, comma-separated.") var loss = "0.05,0.2"
    @Option(help: "Seconds between export changes.") var interval: Double = 2
    @Option(help: "Seconds of changes.") var seconds: Double = 120
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @Flag(help: "Compare: keep no unacknowledged stores (no redelivery).") var noRedelivery = false
    @OptionGroup var delay: LatencyOption
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    func validate() throws { _ = try lossList(loss) }

    func run() throws {
        var rows: [ExportsUnderLoss.Result] = []
        var wallTotal = 0.0
        for p in try lossList(loss) {
            var scenario = ExportsUnderLoss(islands: islands, loss: p)
            scenario.linkLatency = try delay.range
            scenario.interval = .seconds(interval)
            scenario.duration = .seconds(seconds)
            let off = noRedelivery
            let (r, wall) = timed { scenario.run(seed: seed) { if off { $0.maxUnacknowledgedPerMember = 0 } } }
            wallTotal += wall
            rows.append(r)
            let notOvertaken = r.changes - r.overtaken
            print("exports loss \(f(100 * p, 0)) %\(off ? " (no redelivery)" : ""): \(r.islands) islands, \(r.changes) changes (\(r.withdrawals) withdrawals, \(r.overtaken) overtaken); seen everywhere \(r.seenEverywhere)/\(notOvertaken), \(r.late) not within 30 s; seconds p50 \(f(r.seconds.p50, 2)) p90 \(f(r.seconds.p90, 2)) p99 \(f(r.seconds.p99, 2)) max \(f(r.seconds.max, 2)); views equal at the end \(r.viewsEqualAtEnd)/\(r.islands); \(r.datagramsLost) datagrams lost, \(r.redeliveries) redeliveries; wall \(f(wall))s")
        }
        try Report("faults-exports", seed: seed, wallSeconds: wallTotal, figures: rows).emit(json: json)
    }
}
