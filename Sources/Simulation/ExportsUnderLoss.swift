import Island
import Kademlia
import Primitives

/// Export changes crossing a lossy overlay: `islands` one-gateway islands form on a clean
/// network (fewer than 24: direct exchange), then every datagram between leaders is lost
/// with probability `loss`, and every `interval` a random island publishes a new version
/// of its export or withdraws it (whole gateways: `GatewayNetwork`, `VersionedExports`). For each change: the time until every other island's
/// view shows it (a change overtaken by the same island's next one before that is counted
/// apart). RELIABILITY.md's finding 3: one lost store used to cost a service until its
/// owner's republish (up to 150 s), a withdrawal until the record's expiry.
public struct ExportsUnderLoss: Sendable {
    public var islands = 10
    public var loss = 0.05
    public var settle: Interval = .seconds(30)
    public var interval: Interval = .seconds(2)
    public var duration: Interval = .minutes(2)
    /// Longest wait for a change after the last one was made.
    public var limit: Interval = .seconds(60)
    /// Changes not seen everywhere within this count as late.
    public var target: Interval = .seconds(30)
    /// One-way latency of each link, in milliseconds (`NetworkModel`).
    public var linkLatency: ClosedRange<Double> = 10...100
    /// Service types the exports draw from (one DHT key each).
    public var types = 8

    public init(islands: Int = 10, loss: Double) {
        self.islands = islands
        self.loss = loss
    }

    public struct Result: Hashable, Sendable, Codable {
        public var islands = 0
        public var loss = 0.0
        public var changes = 0
        public var withdrawals = 0
        /// Changes seen by every other island (before being overtaken).
        public var seenEverywhere = 0
        /// Changes overtaken by the same island's next change before every island saw them.
        public var overtaken = 0
        /// Seconds from a change to the moment every other island's view showed it.
        public var seconds = Percentiles([])
        /// Changes (of those not overtaken) not seen everywhere within `target`.
        public var late = 0
        /// Every view equal to the truth at the end.
        public var viewsEqualAtEnd = 0
        public var datagramsLost = 0
        /// Stores sent again by direct exchange's redelivery (all nodes).
        public var redeliveries = 0
    }

    private struct Change { var island: Int; var version: Int; var at: Instant }

    /// - Parameter configure: adjusts the nodes' configuration (a comparison run without
    ///   redelivery sets `maxUnacknowledgedPerMember = 0`).
    public func run(seed: UInt64, configure: (inout Configuration) -> Void = { _ in }) -> Result {
        let sim = Simulation(seed: seed, network: NetworkModel(linkLatency: linkLatency), configure: configure)
        let exports = VersionedExports(world: GatewayNetwork(simulation: sim), types: types)
        let world = exports.world
        var result = Result(islands: islands, loss: loss)
        for island in 0..<islands {
            // The seed islands (everyone's configured seeds) come up in the first second.
            let window = island < world.settings.seedIslands ? Interval.seconds(1) : .seconds(5)
            exports.addIsland(bootTimes: [Instant.zero + window * sim.random()])
        }
        sim.run(until: Instant.zero + .seconds(5) + settle)
        sim.network.loss = loss
        let lostBefore = sim.traffic.lost

        var open: [Change] = []
        var times: [Double] = []
        /// Whether every other island's leader sees `island` at `version` (0: not at all).
        func seen(_ c: Change) -> Bool {
            (0..<islands).allSatisfy { other in
                guard other != c.island, !world.leaders(of: other).isEmpty else { return true }
                return exports.sees(other, c.island, version: c.version)
            }
        }
        func check() {
            open.removeAll { c in
                guard seen(c) else { return false }
                times.append(sim.now.since(c.at).seconds)
                result.seenEverywhere += 1
                return true
            }
        }
        let end = sim.now + duration
        while sim.now < end {
            let island = sim.randomIndex(below: islands)
            result.changes += 1
            let withdraw = exports.versions[island] > 0 && result.changes % 3 == 0
            // Versions only grow (a stale view can never pass for a new version).
            let version = withdraw ? 0 : 1 + result.changes
            if withdraw { result.withdrawals += 1 }
            let before = open.count
            open.removeAll { $0.island == island }
            result.overtaken += before - open.count
            exports.set(island: island, version: version)
            open.append(Change(island: island, version: version, at: sim.now))
            let next = sim.now + interval
            while sim.now < next {
                sim.run(for: .milliseconds(250))
                check()
            }
        }
        let last = sim.now
        while !open.isEmpty, sim.now.since(last) < limit {
            sim.run(for: .milliseconds(250))
            check()
        }
        result.late = times.filter { $0 > target.seconds }.count + open.count
        result.seconds = Percentiles(times)
        result.viewsEqualAtEnd = (0..<islands).filter { world.importsAreWhole($0) }.count
        result.datagramsLost = sim.traffic.lost - lostBefore
        result.redeliveries = sim.nodes.reduce(0) { $0 + $1.node.counters.redeliveries }
        return result
    }
}
