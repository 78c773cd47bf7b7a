import Foundation
import Primitives

/// Churn: `nodes` nodes form an overlay; then each node leaves after an exponentially
/// distributed session (the given median) and a fresh node (new key) joins through a random
/// live node in its place, keeping the population constant (Bamboo's method). After a
/// warm-up, random lookups are issued at `lookupRate` for `duration` and judged by
/// `LookupProbe`.
public struct Churn: Sendable {
    public var nodes = 1_000
    public var medianSession: Interval = .minutes(10)
    public var warmup: Interval = .minutes(5)
    public var duration: Interval = .minutes(10)
    public var lookupRate = 10.0
    public var loss = 0.0

    public init(nodes: Int = 1_000, medianSession: Interval) {
        self.nodes = nodes
        self.medianSession = medianSession
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes: Int
        public var medianSessionMinutes: Double
        public var departures: Int
        public var lookups: LookupProbe.Result
        public var bytesPerNodePerSecond: Double
    }

    public func run(seed: UInt64) -> Result {
        let simulation = Simulation(seed: seed)
        _ = Formation(nodes: nodes, rate: 1_000, lookups: 0).run(on: simulation)
        simulation.network.loss = loss
        let mean = medianSession.seconds / log(2.0)
        var departures = 0
        func scheduleDeparture(_ index: Int) {
            let at = simulation.now + .seconds(simulation.exponential(mean: mean))
            simulation.schedule(at: at) { sim in
                guard sim.isAlive(index) else { return }
                sim.kill(index)
                departures += 1
                let live = sim.liveIndices
                let newcomer = sim.join(bootstrap: [live[sim.randomIndex(below: live.count)]])
                scheduleDeparture(newcomer)
            }
        }
        for i in simulation.liveIndices { scheduleDeparture(i) }
        simulation.run(for: warmup)
        let before = simulation.traffic
        let result = LookupLoad(count: Int(duration.seconds * lookupRate), rate: lookupRate).run(on: simulation)
        let bytes = (simulation.traffic - before).bytes
        return Result(
            nodes: nodes, medianSessionMinutes: medianSession.seconds / 60, departures: departures,
            lookups: result, bytesPerNodePerSecond: Double(bytes) / Double(nodes) / duration.seconds)
    }
}
