import Island
import Primitives

/// Random half partitions, cycled: islands boot and settle; then every `cycle` the
/// wide-area network is cut into two random halves of islands (a new cut each time) for
/// `duration`, while islands change or withdraw their exports; then the network heals and
/// every island's view is compared with the truth. Withdrawals made while cut must be gone
/// everywhere by then, not only absent from the truth: they are counted separately. Whole
/// gateways (`GatewayNetwork`, `VersionedExports`).
public struct PartitionCycles: Sendable {
    public var islands = 50
    public var maxGateways = 3
    public var bootWindow: Interval = .seconds(10)
    public var settle: Interval = .seconds(30)
    /// A new random half partition this often.
    public var cycle: Interval = .seconds(5)
    public var duration: Interval = .minutes(2)
    /// Export changes per cycle (every third one a withdrawal, the others a new version).
    public var changesPerCycle = 2
    /// How long after the heal views may take before the run counts as failed.
    public var limit: Interval = .seconds(60)
    /// One-way latency of each leader-to-leader link, in milliseconds (`NetworkModel`).
    public var linkLatency: ClosedRange<Double> = 10...100
    /// Service types the exports draw from (one DHT key each).
    public var types = 8

    public init(islands: Int = 50) { self.islands = islands }

    public struct Result: Hashable, Sendable, Codable {
        public var seed: UInt64 = 0
        public var islands = 0
        public var gateways = 0
        public var viewsEqualBeforeCuts = 0
        public var cuts = 0
        public var changes = 0
        public var withdrawals = 0
        /// Seconds after the heal until every live leader's view equalled the truth.
        public var viewsCompleteAfterHeal: Double?
        /// Seconds after the heal until no view showed an export withdrawn while cut.
        public var withdrawalsGoneAfterHeal: Double?
        public var viewsEqualAtLimit = 0
        public var differences: [String] = []
        public var datagramsLost = 0
        public var bytesDuringCuts = 0
    }

    public func run(seed: UInt64) -> Result {
        let sim = Simulation(seed: seed, network: NetworkModel(linkLatency: linkLatency))
        let exports = VersionedExports(world: GatewayNetwork(simulation: sim), types: types)
        let world = exports.world
        var result = Result()
        result.seed = seed
        for island in 0..<islands {
            let count = 1 + sim.randomIndex(below: maxGateways)
            // The seed islands (everyone's configured seeds) come up in the first second.
            let window = island < world.settings.seedIslands ? Interval.seconds(1) : bootWindow
            exports.addIsland(bootTimes: (0..<count).map { _ in Instant.zero + window * sim.random() })
        }
        result.islands = islands
        result.gateways = world.gateways.count
        sim.run(until: Instant.zero + bootWindow + settle)
        result.viewsEqualBeforeCuts = (0..<islands).filter { world.importsAreWhole($0) }.count

        var withdrawn: Set<Int> = []
        let bytesAtStart = sim.traffic.bytes
        let end = sim.now + duration
        var change = 0
        while sim.now < end {
            var order = Array(0..<islands)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, sim.randomIndex(below: i + 1)) }
            let side = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element, $0.offset < islands / 2 ? 0 : 1) })
            world.partition { side[$0] ?? 0 }
            result.cuts += 1
            for n in 0..<changesPerCycle {
                // Spread over the cycle, so changes land at every point of a cut.
                let fraction: Double = (Double(n) + 0.5) / Double(changesPerCycle)
                let at: Instant = sim.now + cycle * fraction
                let island = sim.randomIndex(below: islands)
                change += 1
                let withdraw = change % 3 == 0
                sim.schedule(at: at) { _ in
                    if withdraw {
                        guard exports.versions[island] > 0 else { return }
                        exports.set(island: island, version: 0)
                        withdrawn.insert(island)
                    } else {
                        exports.set(island: island, version: exports.versions[island] + 1)
                        withdrawn.remove(island)
                    }
                }
            }
            sim.run(for: cycle)
        }
        result.changes = change
        result.withdrawals = withdrawn.count
        result.bytesDuringCuts = sim.traffic.bytes - bytesAtStart
        world.partition(nil)

        let healed = sim.now
        var goneAt: Double?
        while sim.now.since(healed) <= limit {
            let leaders = (0..<islands).filter { !world.leaders(of: $0).isEmpty }
            if goneAt == nil, leaders.allSatisfy({ observer in
                withdrawn.allSatisfy { exports.sees(observer, $0, version: 0) }
            }) {
                goneAt = sim.now.since(healed).seconds
            }
            if exports.everyViewEqualsTheTruth {
                result.viewsCompleteAfterHeal = sim.now.since(healed).seconds
                break
            }
            sim.run(for: .milliseconds(500))
        }
        result.withdrawalsGoneAfterHeal = goneAt
        result.viewsEqualAtLimit = IslandScenario.equalViews(exports, differences: &result.differences)
        result.datagramsLost = sim.traffic.lost + sim.traffic.undeliverable
        return result
    }
}
