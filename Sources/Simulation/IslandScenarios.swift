import Island
import Primitives

/// Islands boot at random times: every island must end with one leader, every leader in
/// one overlay, and every island's imports equal to every other island's export. Then
/// leaders are killed (failover), and the wide-area network is cut in halves and healed
/// (partition). Whole gateways (`GatewayNetwork`): each island's export is one device
/// service whose version changes (`VersionedExports`); a *view* is what an island's link
/// shows of the others'.
public struct IslandScenario: Sendable {
    public var islands = 200
    public var maxGateways = 5
    public var bootWindow: Interval = .seconds(30)
    /// How long after the last boot the formation is judged.
    public var settle: Interval = .seconds(60)
    /// Leaders killed, one island at a time (islands with more than one gateway).
    public var kills = 20
    public var partitionLength: Interval = .seconds(60)
    /// Islands that change their export while apart (every other one withdraws it).
    public var changesWhileApart = 20
    /// Service types the exports draw from (one DHT key each).
    public var types = 8

    public init(islands: Int = 200) { self.islands = islands }

    public struct Result: Hashable, Sendable, Codable {
        public var islands = 0
        public var gateways = 0
        /// Seconds from an island's first boot to its first leader.
        public var electionSeconds = Percentiles([])
        public var islandsWithOneLeader = 0
        public var overlays = 0
        public var leadersInStructure = 0
        public var viewsEqualTruth = 0
        /// Seconds after the last boot until every view equalled the truth.
        public var viewsCompleteAfterLastBoot: Double?
        public var formationBytes = 0
        /// Seconds from a leader's kill to its successor's claim.
        public var failoverSeconds = Percentiles([])
        public var failovers = 0
        /// Samples (every 50 ms) that saw two live leaders on one island after a kill.
        public var twoLeaderSamples = 0
        public var viewsCompleteAfterFailovers: Double?
        /// Islands whose view equals the truth at the end of the failover and heal phases.
        public var viewsEqualAfterFailovers = 0
        public var viewsEqualAfterHeal = 0
        /// For a view that differs: (island, payloads missing, payloads extra), a few.
        public var differences: [String] = []
        /// Seconds after the heal until every view equalled the truth (nil: not within 60 s).
        public var viewsCompleteAfterHeal: Double?
        public var healMerges = 0
        public var healBytes = 0
    }

    public func run(seed: UInt64, phases: Set<String> = ["failover", "partition"]) -> Result {
        let sim = Simulation(seed: seed)
        let exports = VersionedExports(world: GatewayNetwork(simulation: sim), types: types)
        let world = exports.world
        var result = Result()
        var firstBoot: [Int: Instant] = [:]
        for island in 0..<islands {
            let count = 1 + sim.randomIndex(below: maxGateways)
            // The seed islands (everyone's configured seeds) come up in the first second.
            let window = island < world.settings.seedIslands ? Interval.seconds(1) : bootWindow
            let times = (0..<count).map { _ in Instant.zero + window * sim.random() }
            exports.addIsland(bootTimes: times)
            firstBoot[island] = times.min()
        }
        result.islands = islands
        result.gateways = world.gateways.count
        let lastBoot = Instant.zero + bootWindow
        sim.run(until: lastBoot)
        result.viewsCompleteAfterLastBoot = Self.waitForViews(exports, within: settle)
        sim.run(until: lastBoot + settle)

        var elections: [Double] = []
        for island in 0..<islands {
            if let first = world.leaderChanges.first(where: { $0.island == island && $0.leads }) {
                elections.append(first.at.since(firstBoot[island]!).seconds)
            }
        }
        result.electionSeconds = Percentiles(elections)
        let leaders = (0..<islands).compactMap { world.leaders(of: $0).first }
        result.islandsWithOneLeader = (0..<islands).filter { world.leaders(of: $0).count == 1 }.count
        let nodes = leaders.map { world.gateways[$0].node }
        result.overlays = Set(nodes.map { sim.node($0).overlay }).count
        result.leadersInStructure = nodes.filter { sim.node($0).stage == .structure }.count
        result.viewsEqualTruth = (0..<islands).filter { world.importsAreWhole($0) }.count
        result.formationBytes = sim.traffic.bytes

        if phases.contains("failover") { failovers(exports, into: &result) }
        if phases.contains("partition") { partition(exports, into: &result) }
        return result
    }

    /// Kills the leader of `kills` islands with spare gateways, 5 s apart.
    func failovers(_ exports: VersionedExports, into result: inout Result) {
        let world = exports.world
        let sim = world.simulation
        let candidates = (0..<islands).filter { world.islands[$0].gateways.count > 1 }
        var killedAt: [Int: Instant] = [:]
        var samples = 0
        for (n, island) in candidates.prefix(kills).enumerated() {
            sim.schedule(at: sim.now + .seconds(5 * Double(n))) { _ in
                guard let leader = world.leaders(of: island).first else { return }
                killedAt[island] = sim.now
                world.kill(gateway: leader)
            }
        }
        let end = sim.now + .seconds(5 * Double(min(kills, candidates.count)) + 10)
        while sim.now < end {
            sim.run(for: .milliseconds(50))
            for island in killedAt.keys where world.leaders(of: island).count > 1 { samples += 1 }
        }
        var times: [Double] = []
        for (island, at) in killedAt {
            if let next = world.leaderChanges.first(where: { $0.island == island && $0.leads && $0.at >= at }) {
                times.append(next.at.since(at).seconds)
            }
        }
        result.failovers = times.count
        result.failoverSeconds = Percentiles(times)
        result.twoLeaderSamples = samples
        result.viewsCompleteAfterFailovers = Self.waitForViews(exports, within: .seconds(60))
        result.viewsEqualAfterFailovers = Self.equalViews(exports, differences: &result.differences)
    }

    /// Cuts the overlay into halves (by island parity) for `partitionLength`, changes some
    /// exports on both sides meanwhile, heals, and times the views' return to the truth.
    func partition(_ exports: VersionedExports, into result: inout Result) {
        let sim = exports.simulation
        let mergesBefore = Self.merges(sim)
        exports.world.partition { $0 % 2 }
        sim.run(for: partitionLength * 0.5)
        // Islands whose leader was killed too: a successor's withdrawal wins over the value
        // its dead predecessor left in the DHT (`ImportPlanner`, RELIABILITY.md finding 4).
        let changing = (0..<islands).map { ($0 * 7919) % islands }
        for (n, island) in changing.prefix(changesWhileApart).enumerated() {
            exports.set(island: island, version: n % 2 == 0 ? exports.versions[island] + 1 : 0)
        }
        sim.run(for: partitionLength * 0.5)
        let bytesAtHeal = sim.traffic.bytes
        exports.world.partition(nil)
        result.viewsCompleteAfterHeal = Self.waitForViews(exports, within: .seconds(60))
        result.viewsEqualAfterHeal = Self.equalViews(exports, differences: &result.differences)
        result.healMerges = Self.merges(sim) - mergesBefore
        result.healBytes = sim.traffic.bytes - bytesAtHeal
    }

    /// Islands with a leader whose view equals the truth; for a few that differ, how.
    static func equalViews(_ exports: VersionedExports, differences: inout [String]) -> Int {
        let world = exports.world
        var equal = 0
        for island in world.presentIslands where !world.leaders(of: island).isEmpty {
            if world.importsAreWhole(island) { equal += 1; continue }
            if differences.count < 6 { differences.append(world.differences(of: island)) }
        }
        return equal
    }

    static func merges(_ sim: Simulation) -> Int {
        sim.nodes.reduce(0) { $0 + $1.node.counters.merges.values.reduce(0, +) }
    }

    /// Seconds until every live leader's view equals the truth, checked every 500 ms.
    static func waitForViews(_ exports: VersionedExports, within limit: Interval) -> Double? {
        let sim = exports.simulation
        let start = sim.now
        while sim.now.since(start) <= limit {
            if exports.everyViewEqualsTheTruth {
                return sim.now.since(start).seconds
            }
            sim.run(for: .milliseconds(500))
        }
        return nil
    }
}
