import Primitives

/// Formation: `nodes` nodes join at `rate` per second, each through one random node that
/// joined before it. From the last join on, every `checkEvery` the oracle checks whether
/// every node's table holds its true k closest live peers; once it does, `lookups` random
/// lookups are issued, and the overlay counts as stable at that check if they all succeed.
public struct Formation: Sendable {
    public var nodes = 10_000
    public var rate = 1_000.0
    public var lookups = 1_000
    public var checkEvery: Interval = .milliseconds(500)
    public var giveUpAfter: Interval = .seconds(120)

    public init(nodes: Int = 10_000, rate: Double = 1_000, lookups: Int = 1_000) {
        self.nodes = nodes
        self.rate = rate
        self.lookups = lookups
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes: Int
        public var lastJoinSeconds: Double
        /// Seconds from the last join until every table held its true k closest.
        public var neighbourhoodsCompleteAfter: Double?
        /// Seconds from the last join until stable (neighbourhoods complete and all probe
        /// lookups issued at that moment succeeded).
        public var stableAfter: Double?
        /// (seconds after last join, fraction of nodes holding their true k closest).
        public var completeness: [[Double]]
        public var lookups: LookupProbe.Result
        public var datagrams: Int
        public var bytes: Int
        public var events: Int
    }

    /// Runs the formation on `simulation` (which must be empty) and leaves it formed.
    public func run(on simulation: Simulation) -> Result {
        let gap = Interval.seconds(1 / rate)
        var bootstrapped = 0
        var joined = 0
        var probe: LookupProbe?
        var successfulRound: LookupProbe.Result?
        simulation.onEffect = { _, effect in
            if let p = probe, p.observe(0, effect) { return }
            if case .completed(_, .bootstrapped) = effect { bootstrapped += 1 }
        }
        // Node 0 starts alone; every later node joins through a random earlier one.
        for i in 0..<nodes {
            let at = Instant.zero + Interval(nanoseconds: gap.nanoseconds * UInt64(i))
            simulation.schedule(at: at) { sim in
                let bootstrap = i == 0 ? [] : [sim.randomIndex(below: i)]
                sim.join(bootstrap: bootstrap)
                joined += 1
            }
        }
        let lastJoin = Instant.zero + Interval(nanoseconds: gap.nanoseconds * UInt64(max(0, nodes - 1)))
        simulation.run(until: lastJoin)

        var completeness: [[Double]] = []
        var completeAfter: Double?
        var stableAfter: Double?
        while simulation.now.since(lastJoin) < giveUpAfter {
            let oracle = Oracle(simulation)
            let (complete, total) = oracle.neighbourhoodCompleteness(simulation)
            let after = simulation.now.since(lastJoin).seconds
            completeness.append([after, Double(complete) / Double(total)])
            if complete == total {
                if completeAfter == nil { completeAfter = after }
                // Judge the lookups issued at this moment.
                let p = LookupProbe(simulation)
                probe = p
                for _ in 0..<lookups { p.issue() }
                let started = simulation.now
                while p.outstanding > 0, simulation.now.since(started) < .seconds(30) { simulation.run(for: .milliseconds(100)) }
                probe = nil
                let r = p.result
                if r.succeeded == r.issued {
                    stableAfter = after
                    successfulRound = r
                    break
                }
                successfulRound = r
                continue
            }
            simulation.run(for: checkEvery)
        }
        simulation.onEffect = nil
        return Result(
            nodes: nodes, lastJoinSeconds: lastJoin.seconds, neighbourhoodsCompleteAfter: completeAfter,
            stableAfter: stableAfter, completeness: completeness, lookups: successfulRound ?? LookupProbe.Result(),
            datagrams: simulation.traffic.datagrams, bytes: simulation.traffic.bytes, events: simulation.eventsProcessed)
    }
}
