import ArgumentParser
import Foundation
import Kademlia
import Simulation

/// Whole gateways on virtual time (BENCHMARKS.md, "Whole gateways"): the real
/// `GatewayMachine` of every gateway over the real DHT nodes (`GatewayScenario`).
struct GatewaysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateways",
        abstract: "Whole gateways, simulated: formation from cold, a split into halves and its heal, then churn.",
        discussion: """
            Islands of 1 to --max-gateways gateways boot at random within 30 s, each with --services \
            device services; after 20 quiet seconds the wide-area network splits into two random halves \
            for 60 s (10 % of islands change services meanwhile), then heals; then 10 % of islands leave \
            (half gracefully, half killed) and as many new ones join. Prints, per phase, the virtual time \
            until every island's imports equal the truth, zombie imports and bytes per island per second.
            """)

    @Option(help: "Number of islands.") var islands = 1_000
    @Option(help: "Device services per island.") var services = 10
    @Option(help: "Service types the devices draw from (one DHT key each).") var types = 32
    @Option(help: "Gateways per island: 1 to this many.") var maxGateways = 3
    @Flag(help: "The seed islands boot at random too, not first (islands that start before them may stay apart).")
    var seedsBootAtRandom = false
    @Option(help: "Seed of the run; the same seed replays the same run.") var seed: UInt64 = 1
    @Flag(help: "Print traffic figures every 5 virtual seconds to standard error.") var trace = false
    @Option(help: "Also write the figures as JSON to this file.") var json: String?

    func run() throws {
        var scenario = GatewayScenario(islands: islands, services: services)
        scenario.types = types
        scenario.maxGateways = maxGateways
        scenario.seedsBootFirst = !seedsBootAtRandom
        if trace { scenario.trace = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let (r, wall) = timed { scenario.run(seed: seed) }
        print("gateways: \(r.islands) islands, \(r.gateways) gateways, \(r.services) services each over \(r.types) types; seed \(seed)")
        print("  one leader: \(r.islandsWithOneLeader)/\(r.islands) islands after formation")
        row("formation (from the last boot)", r.formation)
        row("steady (\(f(r.steady.seconds, 0)) s quiet)", r.steady, judged: false)
        row("split (\(f(r.split.seconds, 0)) s, \(r.changedWhileApart) islands changing)", r.split, judged: false)
        row("heal [target <= 15 s]", r.heal)
        print("  churn: \(r.leftGracefully) islands left gracefully, \(r.killed) killed, \(r.joined) joined")
        row("churn, killed islands' imports aside [target <= 15 s]", r.churn)
        row("churn, until killed islands' imports expired", r.lingerGone)
        print("  virtual \(f(r.virtualSeconds, 0)) s, \(r.simulatorEvents) simulator events, heartbeats \(r.heartbeatBytes) B on the links; wall time \(f(wall)) s")
        try Report("gateways", seed: seed, wallSeconds: wall, figures: r).emit(json: json)
    }

    private func row(_ name: String, _ phase: GatewayScenario.Phase, judged: Bool = true) {
        let whole = phase.secondsUntilWhole.map { "\(f($0, 1)) s" } ?? "never (within the limit)"
        let kinds = phase.bytesByKind.sorted { $0.value > $1.value }.prefix(3)
            .map { "\($0.key) \(f(100 * Double($0.value) / Double(max(1, phase.bytes)), 0)) %" }.joined(separator: ", ")
        print("  \(name): " + (judged ? "whole after \(whole); " : "")
            + "\(phase.islandsWhole)/\(phase.islandsPresent) whole at the end; "
            + "zombies \(phase.zombieImports), stale \(phase.staleImports), lingering \(phase.lingeringImports); "
            + "\(f(phase.bytesPerIslandSecond, 0)) B/s per island over \(f(phase.seconds, 1)) s (\(kinds)); \(phase.mergesStarted) merges")
        for difference in phase.differences { print("    \(difference)") }
    }
}
