import Island
import Primitives

/// Islands boot at random times: every island must end with one leader, every leader in
/// one overlay, and every leader's view equal to every island's export. Then leaders are
/// killed (failover), and the leaders' overlay is cut in halves and healed (partition).
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
        let world = IslandWorld(simulation: sim)
        var result = Result()
        var firstBoot: [Int: Instant] = [:]
        for _ in 0..<islands {
            let count = 1 + sim.randomIndex(below: maxGateways)
            let times = (0..<count).map { _ in Instant.zero + bootWindow * sim.random() }
            let island = world.addIsland(bootTimes: times)
            firstBoot[island] = times.min()
        }
        result.islands = islands
        result.gateways = world.gateways.count
        let lastBoot = Instant.zero + bootWindow
        sim.run(until: lastBoot)
        result.viewsCompleteAfterLastBoot = Self.waitForViews(world, within: settle)
        sim.run(until: lastBoot + settle)

        var elections: [Double] = []
        for island in 0..<islands {
            if let first = world.leaderChanges.first(where: { $0.island == island && $0.leads }) {
                elections.append(first.at.since(firstBoot[island]!).seconds)
            }
        }
        result.electionSeconds = Percentiles(elections)
        let leaders = (0..<islands).compactMap { world.leader(of: $0) }
        result.islandsWithOneLeader = (0..<islands).filter { world.leaders(of: $0).count == 1 }.count
        let nodes = leaders.compactMap { world.gateways[$0].dhtNode }
        result.overlays = Set(nodes.map { sim.node($0).overlay }).count
        result.leadersInStructure = nodes.filter { sim.node($0).stage == .structure }.count
        let truth = world.truth
        result.viewsEqualTruth = (0..<islands).filter { world.view(of: $0) == truth }.count
        result.formationBytes = sim.traffic.bytes

        if phases.contains("failover") { failovers(world, into: &result) }
        if phases.contains("partition") { partition(world, into: &result) }
        return result
    }

    /// Kills the leader of `kills` islands with spare gateways, 5 s apart.
    func failovers(_ world: IslandWorld, into result: inout Result) {
        let sim = world.simulation
        let candidates = (0..<islands).filter { world.islands[$0].count > 1 }
        var killedAt: [Int: Instant] = [:]
        var samples = 0
        for (n, island) in candidates.prefix(kills).enumerated() {
            sim.schedule(at: sim.now + .seconds(5 * Double(n))) { _ in
                guard let leader = world.leader(of: island) else { return }
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
        result.viewsCompleteAfterFailovers = Self.waitForViews(world, within: .seconds(60))
        result.viewsEqualAfterFailovers = Self.equalViews(world, differences: &result.differences)
    }

    /// Cuts the overlay into halves (by island parity) for `partitionLength`, changes some
    /// exports on both sides meanwhile, heals, and times the views' return to the truth.
    func partition(_ world: IslandWorld, into result: inout Result) {
        let sim = world.simulation
        let mergesBefore = Self.merges(sim)
        world.partition { $0 % 2 }
        sim.run(for: partitionLength * 0.5)
        // Withdrawals only where no killed leader left a copy of the export behind (it would
        // stay visible until its lifetime ends; see `IslandWorld.view(of:)`).
        let changing = (0..<islands).map { ($0 * 7919) % islands }.filter { !world.islandsWithKilledLeaders.contains($0) }
        for (n, island) in changing.prefix(changesWhileApart).enumerated() {
            world.setExport(island: island, version: n % 2 == 0 ? world.exports[island] + 1 : 0)
        }
        sim.run(for: partitionLength * 0.5)
        let bytesAtHeal = sim.traffic.bytes
        world.partition(nil)
        result.viewsCompleteAfterHeal = Self.waitForViews(world, within: .seconds(60))
        result.viewsEqualAfterHeal = Self.equalViews(world, differences: &result.differences)
        result.healMerges = Self.merges(sim) - mergesBefore
        result.healBytes = sim.traffic.bytes - bytesAtHeal
    }

    static func equalViews(_ world: IslandWorld, differences: inout [String]) -> Int {
        let truth = world.truth
        var equal = 0
        for island in 0..<world.islands.count where world.leader(of: island) != nil {
            let view = world.view(of: island)
            if view == truth { equal += 1; continue }
            if differences.count < 6 {
                let text = { (s: Set<[UInt8]>) in s.map { String(decoding: $0, as: UTF8.self) }.sorted().joined(separator: ",") }
                differences.append("island \(island): missing [\(text(truth.subtracting(view)))] extra [\(text(view.subtracting(truth)))]")
            }
        }
        return equal
    }

    static func merges(_ sim: Simulation) -> Int {
        sim.nodes.reduce(0) { $0 + $1.node.counters.merges.values.reduce(0, +) }
    }

    /// Seconds until every live leader's view equals the truth, checked every 500 ms.
    static func waitForViews(_ world: IslandWorld, within limit: Interval) -> Double? {
        let sim = world.simulation
        let start = sim.now
        while sim.now.since(start) <= limit {
            let truth = world.truth
            if (0..<world.islands.count).allSatisfy({ world.leader(of: $0) == nil || world.view(of: $0) == truth }) {
                return sim.now.since(start).seconds
            }
            sim.run(for: .milliseconds(500))
        }
        return nil
    }
}
